"""Issue 14: the first run as a user makes it, from the built package.

Builds the wheel and the sdist from this tree, checks both with ``twine check``, installs the
wheel into a bare virtual environment (nothing but pip, no access to this tree's packages)
with the ``[pytest,bench]`` extras from the package index, and there runs ``pihil
--version``, ``pihil boards``, ``pihil run`` (the shipped board suite on the emulated
MirkoPC) and a user's own test file that uses the plugin's ``board`` fixture. A second bare
venv gets the core only and opens a simulated board through the driver.

Run by ``tox -e package`` (it needs the package index and a minute); `.ci/run` calls it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

USER_TEST = """
from rpiboard_pihil import Direction


def test_my_led(board):
    led = board.gpios["GPIO16"]
    led.direction = Direction.OUTPUT
    led.value = True
    assert led.value is True


def test_my_rtc(board, measure):
    seconds = board.i2c_buses["i2c1"].write_read(0x68, b"\\x03", 1)[0] & 0x7F
    measure("rtc_seconds_bcd", seconds, low=0, high=0x59)
"""


def _sh(cmd: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIHIL_", "HYPOTHESIS"))}
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert done.returncode == 0, (
        f"{' '.join(cmd)} -> {done.returncode}\n{done.stdout}\n{done.stderr}"
    )
    return done


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from hatchling.builders.sdist import SdistBuilder
    from hatchling.builders.wheel import WheelBuilder

    out = tmp_path_factory.mktemp("dist")
    wheel = Path(
        next(iter(WheelBuilder(str(ROOT)).build(directory=str(out), versions=["standard"])))
    )
    sdist = Path(
        next(iter(SdistBuilder(str(ROOT)).build(directory=str(out), versions=["standard"])))
    )
    return {"wheel": wheel, "sdist": sdist}


def _bare_venv(where: Path) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(where)
    return where / "bin" / "python"


def test_twine_check_passes_on_the_wheel_and_the_sdist(dist: dict[str, Path]) -> None:
    done = _sh([sys.executable, "-m", "twine", "check", "--strict", *map(str, dist.values())], ROOT)
    assert done.stdout.count("PASSED") == 2, done.stdout


def test_first_run_from_the_wheel_in_a_bare_venv(dist: dict[str, Path], tmp_path: Path) -> None:
    python = _bare_venv(tmp_path / "venv")
    work = tmp_path / "project"
    work.mkdir()
    _sh([str(python), "-m", "pip", "install", "-q", f"{dist['wheel']}[pytest,bench]"], work)
    pihil = str(python.parent / "pihil")
    version = _sh([pihil, "--version"], work).stdout.strip()
    assert version == f"pihil {_project_version()}"
    assert "mirkopc" in _sh([pihil, "boards"], work).stdout
    run = _sh([pihil, "run", "--board", "mirkopc", "--target", "sim"], work, timeout=600)
    assert "overall" in run.stdout, run.stdout
    assert "PASS" in run.stdout, run.stdout
    reports = work / "pihil-reports"
    (report,) = reports.glob("pihil-mirkopc-sim-*.json")
    assert json.loads(report.read_text())["status"] == "complete"
    assert list(reports.glob("*.html"))
    assert list(reports.glob("junit-*.xml"))
    # nothing but the reports in the user's folder (no .hypothesis, .benchmarks, caches)
    assert sorted(p.name for p in work.iterdir()) == ["pihil-reports"]

    (work / "test_mine.py").write_text(USER_TEST, encoding="utf-8")
    mine = _sh([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_mine.py"], work)
    assert "2 passed" in mine.stdout, mine.stdout


def test_the_core_alone_drives_a_simulated_board(dist: dict[str, Path], tmp_path: Path) -> None:
    python = _bare_venv(tmp_path / "venv")
    _sh([str(python), "-m", "pip", "install", "-q", str(dist["wheel"])], tmp_path)
    listed = _sh([str(python), "-m", "pip", "list", "--format=json"], tmp_path).stdout
    names = {p["name"].lower() for p in json.loads(listed)}
    assert not names & {"pytest", "hypothesis", "pyvisa"}, names
    done = _sh(
        [
            str(python),
            "-c",
            "from rpiboard_pihil import RpiBoard\n"
            "with RpiBoard('local', options={'simulate': True}) as b:\n"
            "    print(b.ivi_utility.instrument_model)\n",
        ],
        tmp_path,
    )
    assert done.stdout.strip() == "MirkoPC REV1.1"


def _project_version() -> str:
    import tomllib

    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])
