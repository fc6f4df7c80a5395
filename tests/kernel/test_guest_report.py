"""The host side of the kernel tier: the guest's JUnit merged into this run (issue 15).

``tox -e kernel`` first runs ci/kernel/run.py (the selection inside the QEMU guest, JUnit to
``$PIHIL_KERNEL_OUT`` or ``~/.cache/pihil-kernel/out``), then this file, which fails, listing
them, on any guest test that failed, errored or was skipped (a skip in the guest means the
kernel-sim board could not be opened), and checks that GPIO, I2C and UART each ran at least
five tests against the real kernel. Without PIHIL_KERNEL_REPORT=1 (set by tox -e kernel) it is
skipped: there is no guest run to read.
"""

from __future__ import annotations

import os
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "ci" / "kernel"))
from kernel_setup import cache_dir  # ci/kernel/kernel_setup.py

pytestmark = pytest.mark.skipif(
    os.environ.get("PIHIL_KERNEL_REPORT") != "1",
    reason="kernel tier: reads the guest's JUnit after `tox -e kernel` boots it "
    "(PIHIL_KERNEL_REPORT=1); no guest run here",
)
MIN_PER_PATH = 5
PATHS = {"GPIO": "test_kernel_gpio", "I2C": "test_kernel_i2c", "UART": "test_kernel_uart"}


@dataclass(frozen=True)
class GuestCase:
    name: str
    outcome: str
    """passed, failed, error or skipped"""
    message: str


def junit_file() -> Path:
    env = os.environ.get("PIHIL_KERNEL_OUT")
    return (Path(env) if env else cache_dir() / "out") / "guest-junit.xml"


def read_cases(path: Path) -> list[GuestCase]:
    if not path.exists():
        pytest.fail(
            f"no guest JUnit at {path}: ci/kernel/run.py did not run or the guest failed "
            "before pytest (see its console.log next to it)"
        )
    cases = []
    for tc in ET.parse(path).getroot().iter("testcase"):
        name = f"{tc.get('classname')}::{tc.get('name')}"
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            el = tc.find(tag)
            if el is not None:
                outcome = "failed" if tag == "failure" else tag
                message = (el.get("message") or el.text or "").strip().splitlines()[0][:300]
                break
        cases.append(GuestCase(name, outcome, message))
    return cases


@pytest.fixture(scope="module")
def cases() -> list[GuestCase]:
    found = read_cases(junit_file())
    print(f"\nguest JUnit {junit_file()}: {len(found)} tests")
    for c in found:
        print(f"  {c.outcome:8} {c.name}" + (f"  -- {c.message}" if c.message else ""))
    return found


def test_guest_ran_tests(cases: list[GuestCase]) -> None:
    assert cases, f"{junit_file()} has no test cases"


def test_no_guest_test_failed_errored_or_skipped(cases: list[GuestCase]) -> None:
    # tests/twin is judged by test_twin_table.py: its explained differences fail here
    bad = [c for c in cases if c.outcome != "passed" and not c.name.startswith("tests.twin.")]
    assert not bad, "guest tests not passed:\n" + "\n".join(
        f"  {c.outcome}: {c.name}: {c.message}" for c in bad
    )


@pytest.mark.parametrize("path", list(PATHS))
def test_each_path_has_five_kernel_tests(cases: list[GuestCase], path: str) -> None:
    ran = [c for c in cases if PATHS[path] in c.name and c.outcome == "passed"]
    assert len(ran) >= MIN_PER_PATH, (
        f"{path}: {len(ran)} passing tests in the guest, want at least {MIN_PER_PATH}"
    )
