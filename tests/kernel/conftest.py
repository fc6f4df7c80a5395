"""The kernel tier (docs/kernel-tier.md): tests that run inside the QEMU guest of ci/kernel/.

Every test here except test_guest_report.py and test_kernel_setup.py needs the guest (ci/kernel/init.sh sets
PIHIL_KERNEL_GUEST=1 and builds the kernel-sim board: gpio-sim, i2c-stub, a looped ttyS1) and
``--hil-target=local --hil-board=kernel-sim``; anywhere else they are skipped with one reason.
test_guest_report.py runs on the host after the guest (``tox -e kernel``);
test_kernel_setup.py checks ci/kernel/kernel_setup.py's failure messages on the host.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

IN_GUEST = os.environ.get("PIHIL_KERNEL_GUEST") == "1"
HOST_FILES = (
    "test_guest_report.py",
    "test_kernel_setup.py",
    "test_twin_table.py",
    "test_gps_bridge.py",
)
"""Run on the host: the guest's JUnit check, the set-up script's failure messages, the twin
table (tests/twin on both sides) and the GPS bridge."""
GUEST_ONLY_REASON = (
    "kernel tier: runs only inside the QEMU guest (tox -e kernel, ci/kernel/run.py); "
    "not in the guest here"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason=GUEST_ONLY_REASON)
    for item in items:
        # the hook sees the whole session's items: only this folder's are guest tests
        if item.path.parent != HERE or item.path.name in HOST_FILES:
            continue
        if not IN_GUEST:
            item.add_marker(skip)
