"""Run pytest and treat "no tests collected" (exit code 5) as a failure.

A suite that collects nothing has tested nothing; CI must not call that green.
"""

from __future__ import annotations

import sys

import pytest

NO_TESTS_COLLECTED = 5


def main(argv: list[str]) -> int:
    code = int(pytest.main(argv))
    if code == NO_TESTS_COLLECTED:
        print("ci/run_pytest.py: pytest collected no tests; failing on purpose", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
