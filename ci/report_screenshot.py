"""Regenerate docs/report-screenshot.png: the HTML report of a run with a failing I2C test.

Runs ``pihil run`` on the emulator with a three-test suite (a measurement in limits, one out
of limits, an RTC whose oscillator-stop flag is set, and an I2C read of an EEPROM that is not
fitted, which NACKs) keeping the VCDs,
then has headless Chromium (Debian: ``apt-get install -y chromium``) screenshot the HTML
report the run wrote. Usage: ``python ci/report_screenshot.py [OUT.png]``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "report-screenshot.png"

SUITE = '''
from rpiboard_pihil import RpiBoard


def test_rail_3v3(measure):
    measure("rail_3v3", 3.302, low=3.135, high=3.465, units="V")


def test_supply_current(measure):
    measure("supply_current", 1.75, low=0.2, high=1.5, units="A")


def test_id_eeprom_answers(board: RpiBoard) -> None:
    """The BOM's ID EEPROM at 0x57 on i2c1 answers (on this board it is not fitted)."""
    board.i2c_buses["i2c1"].write_read(0x57, b"\\x00", 2)


def test_rtc_oscillator_ran(board: RpiBoard) -> None:
    """PCF8523: the OS flag (Seconds register 0x03, bit 7) is clear once the clock has run."""
    (seconds,) = board.i2c_buses["i2c1"].write_read(0x68, b"\\x03", 1)
    assert not seconds & 0x80, f"RTC Seconds 0x{seconds:02x}: OS flag set, the oscillator stopped"
'''


def main(argv: list[str]) -> int:
    out = Path(argv[0]).resolve() if argv else DEFAULT_OUT
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("report_screenshot: no chromium on PATH (apt-get install -y chromium)")
        return 2
    with tempfile.TemporaryDirectory(prefix="pihil-shot-") as tmp:
        work = Path(tmp)
        (work / "suite").mkdir()
        (work / "suite" / "test_i2c.py").write_text(SUITE, encoding="utf-8")
        run = [sys.executable, "-m", "pytest_pihil.cli", "run", "--suite", "suite"]
        run += ["--report-dir", "reports", "--vcd", "reports/vcd", "--seed", "1"]
        subprocess.run(run, cwd=work, check=False, capture_output=True, timeout=600)
        pages = sorted((work / "reports").glob("pihil-*.html"))
        if not pages:
            print("report_screenshot: the run wrote no HTML report")
            return 1
        out.parent.mkdir(parents=True, exist_ok=True)
        shot = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
        shot += [f"--screenshot={out}", "--window-size=1280,1560", pages[-1].as_uri()]
        subprocess.run(shot, check=False, capture_output=True, timeout=120)
    if not out.is_file():
        print("report_screenshot: chromium wrote no screenshot")
        return 1
    print(f"report_screenshot: {out} ({out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
