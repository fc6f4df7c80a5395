"""What ``/proc`` and the device tree tell a program about the board it runs on.

Board-detection code reads these: gpiozero's and RPi.GPIO's revision lookup
(``/proc/device-tree/system/linux,revision``, then ``Revision`` in ``/proc/cpuinfo``),
Adafruit's platformdetect behind Blinka (``/proc/device-tree/compatible``, ``Hardware``),
our own driver's ID query (``/proc/device-tree/model``). The values follow Raspberry Pi
OS's downstream kernel on the profile's board: ``Hardware`` is ``BCM2835`` on every model
(the downstream kernel's machine name), the revision code and model string come from the
profile's ``revision``.

Adafruit Blinka detects the board once, when ``board``/``busio``/``digitalio`` are first
imported (``adafruit_blinka.agnostic`` keeps the detector in module globals). So entering and
leaving a userspace forget Blinka's loaded modules (`forget_board_detection`): an import
inside the block detects the emulated board, the next userspace's board is detected afresh,
and nothing outside keeps the emulated one. Objects made in a block keep working with the
modules they were made from. Blinka's import-time offer to ``pip install`` missing platform
packages (it asks when stdin and stdout are terminals, as under ``pytest -s``) is turned off
in a userspace with ``BLINKA_SKIP_DEPENDENCY_CHECK=1``: a test run installs nothing.
"""

from __future__ import annotations

import os
import struct
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .session import Userspace

PROCESSORS = {
    "BCM2835": ("ARMv6-compatible processor rev 7 (v6l)", 1, "697.95"),
    "BCM2711": ("ARMv7 Processor rev 3 (v7l)", 4, "108.00"),
}
"""SoC -> (``model name``, cores, BogoMIPS) as a 32-bit Raspberry Pi OS kernel shows them."""

BOARD_COMPATIBLE = {
    # revision type (bits 4-11 of a new-style code) or old-style code -> the board's
    # device-tree compatible, as in the downstream kernel's bcm27xx .dts files
    "0002": "raspberrypi,model-b",
    "0003": "raspberrypi,model-b",
    "000e": "raspberrypi,model-b-rev2",
    "0010": "raspberrypi,model-b-plus",
    "11": "raspberrypi,4-model-b",
    "14": "raspberrypi,4-compute-module",
}
SERIAL = "10000000c0ffee00"

BLINKA_MODULES = frozenset(
    {
        "adafruit_blinka",
        "analogio",
        "bitbangio",
        "board",
        "busio",
        "digitalio",
        "keypad",
        "microcontroller",
        "micropython",
        "neopixel_write",
        "onewireio",
        "pulseio",
        "pwmio",
        "rainbowio",
        "usb_hid",
    }
)
"""Adafruit Blinka's top-level modules (``top_level.txt`` of its 10.0.0 wheel)."""
SKIP_DEPENDENCY_CHECK = "BLINKA_SKIP_DEPENDENCY_CHECK"


def board_compatible(code: str) -> str | None:
    key = code if len(code) == 4 else f"{(int(code, 16) >> 4) & 0xFF:x}"
    return BOARD_COMPATIBLE.get(key)


def cpuinfo(soc: str, code: str, model: str) -> bytes:
    name, cores, bogomips = PROCESSORS.get(soc, PROCESSORS["BCM2711"])
    lines: list[str] = []
    for n in range(cores):
        lines += [f"processor\t: {n}", f"model name\t: {name}", f"BogoMIPS\t: {bogomips}", ""]
    lines += ["Hardware\t: BCM2835"]
    if code:
        lines += [f"Revision\t: {code}"]
    lines += [f"Serial\t\t: {SERIAL}", f"Model\t\t: {model}", ""]
    return "\n".join(lines).encode()


def forget_board_detection() -> list[str]:
    """Drop Blinka's modules from ``sys.modules`` (only those installed next to its
    ``adafruit_blinka`` package: a test's own ``board.py`` stays); returns their names."""
    blinka = sys.modules.get("adafruit_blinka")
    where = getattr(blinka, "__file__", None)
    if not where:
        return []
    site = os.path.dirname(os.path.dirname(os.path.abspath(where))) + os.sep
    gone: list[str] = []
    for name, module in list(sys.modules.items()):
        if name.partition(".")[0] not in BLINKA_MODULES:
            continue
        path = getattr(module, "__file__", None)
        if path and os.path.abspath(path).startswith(site):
            del sys.modules[name]
            gone.append(name)
    return gone


def attach(userspace: Userspace) -> None:
    info = userspace.info
    model = info.dt_model or (info.kernel_models[0] if info.kernel_models else info.model)
    code = info.revision_code
    soc = info.soc.lower()
    compatible = [c for c in (board_compatible(code) if code else None, f"brcm,{soc}") if c]
    tree = {
        "model": f"{model}\0".encode(),
        "compatible": "".join(f"{c}\0" for c in compatible).encode(),
        "serial-number": f"{SERIAL}\0".encode(),
    }
    if code:
        tree["system/linux,revision"] = struct.pack(">I", int(code, 16))
    for root in ("/proc/device-tree", "/sys/firmware/devicetree/base"):
        for name, content in tree.items():
            userspace.devfs.add_static(f"{root}/{name}", content)
    userspace.devfs.add_static("/proc/cpuinfo", cpuinfo(info.soc, code, model))
    saved: list[str | None] = []

    def enter(_: Userspace) -> None:
        forget_board_detection()
        saved.append(os.environ.get(SKIP_DEPENDENCY_CHECK))
        os.environ[SKIP_DEPENDENCY_CHECK] = "1"

    def leave(_: Userspace) -> None:
        forget_board_detection()
        if not saved:  # entering stopped before this hook
            return
        before = saved.pop()
        if before is None:
            os.environ.pop(SKIP_DEPENDENCY_CHECK, None)
        else:
            os.environ[SKIP_DEPENDENCY_CHECK] = before

    userspace.on_enter(enter, leave)
