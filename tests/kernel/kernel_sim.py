"""Helpers for the kernel tier's guest: gpio-sim's sysfs lines and the kernel-sim profile.

gpio-sim (drivers/gpio/gpio-sim.c, Linux 6.1) gives each line of a live bank a sysfs group
``/sys/devices/platform/gpio-sim.N/gpiochipM/sim_gpioK`` with ``value`` (the level) and ``pull``
(``pull-up``/``pull-down``: what the outside world pulls an input to; writing it raises the
line's simulated interrupt, so gpiolib-cdev reports an edge).
"""

from __future__ import annotations

import glob
from pathlib import Path

from rpiboard_pihil.backends.simulated import board_infos
from rpiboard_pihil.board_info import BoardInfo

BOARD = "kernel-sim"


def info() -> BoardInfo:
    return board_infos()[BOARD]


def sim_line(line: int) -> Path:
    """The sysfs folder of gpio-sim line ``line`` (the chip labelled pinctrl-bcm2711)."""
    found = glob.glob(f"/sys/devices/platform/gpio-sim.*/gpiochip*/sim_gpio{line}")
    if len(found) != 1:
        raise AssertionError(
            f"expected one gpio-sim sysfs folder for line {line}, found {found}: is gpio-sim "
            "live (ci/kernel/init.sh)?"
        )
    return Path(found[0])


def drive(line: int, level: bool) -> None:
    """Pull the line from outside, as a wire on the header would (gpio-sim ``pull``)."""
    (sim_line(line) / "pull").write_text("pull-up" if level else "pull-down")


def sim_value(line: int) -> int:
    return int((sim_line(line) / "value").read_text())


def sim_pull(line: int) -> str:
    return (sim_line(line) / "pull").read_text().strip()
