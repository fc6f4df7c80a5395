"""sigrok-cli's SPI decoder over a VCD of the SoC's SPI0 pins (GPIO8-11), for the tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SIGROK = shutil.which("sigrok-cli")
needs_sigrok = pytest.mark.skipif(
    SIGROK is None, reason="sigrok-cli is not installed (.ci/run installs it from Debian)"
)
CE0, MISO, MOSI, SCLK = 8, 9, 10, 11


def sigrok_spi(path: Path, mode: int, row: str) -> list[bytes]:
    """The bytes of each ``row`` annotation the spi decoder writes: ``mosi-data`` /
    ``miso-data`` one byte each, ``mosi-transfer`` / ``miso-transfer`` one per /CS assertion."""
    assert SIGROK is not None
    decoder = (
        f"spi:clk=GPIO{SCLK}:mosi=GPIO{MOSI}:miso=GPIO{MISO}:cs=GPIO{CE0}"
        f":cpol={mode >> 1}:cpha={mode & 1}"
    )
    out = subprocess.run(
        [SIGROK, "-I", "vcd", "-i", str(path), "-P", decoder, "-A", f"spi={row}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    return [
        bytes(int(h, 16) for h in line.split(":", 1)[1].split())
        for line in out.splitlines()
        if ":" in line
    ]
