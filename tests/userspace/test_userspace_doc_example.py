"""The docs/userspace.md example, as written (BCD seconds register of the PCF8523)."""

from __future__ import annotations

import time
from typing import Any

import smbus2


def test_rtc_counts_while_i_sleep(userspace: Any, board: Any) -> None:
    with smbus2.SMBus(1) as bus:
        first = bus.read_byte_data(0x68, 0x03) & 0x7F
        time.sleep(2)
        second = bus.read_byte_data(0x68, 0x03) & 0x7F
    assert second != first
    assert userspace.simulated_s >= 2
