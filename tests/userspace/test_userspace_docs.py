"""Every example in docs/userspace.md runs as written and passes (a user copies them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "userspace.md"
FENCE = re.compile(r"```python\n(.*?)```", re.DOTALL)
BLOCKS = FENCE.findall(DOC.read_text())


def _name(block: str) -> str:
    return re.findall(r"^def (test_\w+)", block, re.MULTILINE)[0]


def test_the_doc_has_examples() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("block", BLOCKS, ids=_name)
def test_the_example_passes(pytester: pytest.Pytester, block: str) -> None:
    tests = len(re.findall(r"^def test_\w+", block, re.MULTILINE))
    assert tests, "an example in docs/userspace.md defines no test"
    pytester.makepyfile(test_example=block)
    result = pytester.runpytest("-p", "no:randomly", "--hil-report-dir=none")
    result.assert_outcomes(passed=tests)
