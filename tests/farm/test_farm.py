"""A labgrid farm on loopback with real labgrid processes (issue 16 item 2; docs/farm.md).

``labgrid-coordinator`` and ``labgrid-exporter`` run as processes; the exporter exports two
emulated MirkoPCs (each a ``pihil agent --sim`` on its own port) as `PihilAgent` resources,
one place each, tagged ``board=mirkopc``. A board-suite selection runs under
``pytest -n 2`` with ``PIHIL_LG_RESERVE=board=mirkopc``: each worker reserves and locks its
own place through the coordinator and drives that place's agent, and the controller
writes one merged report, whose verdicts equal an in-process run's. A third client asking
for a place while both are locked fails at once with a message naming who holds them, or
waits and gets the place released first.

Needs labgrid (the ``farm`` extra), which replaces pyserial with pyserial-labgrid, so it
runs in its own environment: ``tox -e farm``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytest.importorskip("labgrid", reason="the farm tests need labgrid: tox -e farm")
pytest.importorskip("xdist", reason="the farm tests run the suite under pytest -n 2")

import pytest_pihil.board_suite
from pytest_pihil.labgrid.session import (
    Place,
    PlaceUnavailable,
    release_place,
    reserve_place,
    run_client,
)

BIN = Path(sys.executable).parent
SUITE = Path(pytest_pihil.board_suite.__file__).parent
BENCH = Path(__file__).with_name("emulated-mirkopc-bench.yaml")
SELECTION = ["test_gpio.py", "test_i2c.py", "test_leds.py", "test_spi.py"]
TAGS = {"board": "mirkopc"}
GLUE = '''
"""Logs which agent each xdist worker's board came from (the plugin takes it from the place
the worker reserved, PIHIL_LG_RESERVE), so the test can check each used its own place."""
import os
from pathlib import Path

from pytest_pihil.plugin import pihil_options


def pytest_sessionfinish(session):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        resource = pihil_options(session.config).resource
        Path(os.environ["FARM_LOG"], worker).write_text(str(resource))
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Farm:
    coordinator: str
    agents: list[str] = field(default_factory=list)
    processes: list[subprocess.Popen[str]] = field(default_factory=list)

    def client(self, *args: str) -> str:
        return run_client(list(args), coordinator=self.coordinator)


def _start(farm: Farm, args: list[str], log: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=log.open("w"), text=True, cwd=log.parent
    )
    farm.processes.append(proc)
    return proc


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Farm]:
    work = tmp_path_factory.mktemp("farm")
    f = Farm(f"127.0.0.1:{_free_port()}")
    try:
        for name in ("a", "b"):
            agent = _start(
                f,
                [str(BIN / "pihil"), "agent", "--sim", "--board", "mirkopc", "--port", "0"],
                work / f"agent-{name}.log",
            )
            assert agent.stdout is not None
            first = agent.stdout.readline()  # "pihil agent: serving ... at TCPIP::...; ..."
            f.agents.append(first.split(" at ", 1)[1].split(";", 1)[0])
        _start(f, [str(BIN / "labgrid-coordinator"), "-l", f.coordinator], work / "coordinator.log")
        exports = {
            f"pihil-{name}": {
                "PihilAgent": {
                    "host": "127.0.0.1",
                    "port": int(resource.split("::")[2]),
                    "board": "mirkopc",
                    "emulated": True,
                }
            }
            for name, resource in zip("ab", f.agents, strict=True)
        }
        (work / "exporter.yaml").write_text(json.dumps(exports))  # JSON is YAML
        _until(f, "places", lambda out: True)  # the coordinator answers
        _start(
            f,
            [
                str(BIN / "labgrid-exporter"),
                "-c",
                f.coordinator,
                "--name",
                "farm",
                "--hostname",
                "127.0.0.1",
                str(work / "exporter.yaml"),
            ],
            work / "exporter.log",
        )
        _until(f, "resources", lambda out: out.count("PihilAgent") >= 2)
        for name in exports:
            f.client("-p", name, "create")
            f.client("-p", name, "add-match", f"farm/{name}/*")
            f.client("-p", name, "set-tags", *(f"{k}={v}" for k, v in TAGS.items()))
        yield f
    finally:
        for proc in reversed(f.processes):
            proc.terminate()
        for proc in f.processes:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _until(farm: Farm, command: str, ready: Callable[[str], bool], tries: int = 60) -> str:
    """Ask the coordinator until it answers as wanted (each call waits on its own I/O)."""
    last: Exception | None = None
    for _ in range(tries):
        try:
            out = farm.client(command)
            if ready(out):
                return out
        except Exception as exc:  # not up yet
            last = exc
    raise AssertionError(f"labgrid-client {command} never got ready: {last}")


def _outcomes(report_dir: Path) -> dict[str, str]:
    (report,) = report_dir.glob("*.json")
    data = json.loads(report.read_text())
    return {t["nodeid"].split("board_suite/")[-1]: t["outcome"] for t in data["tests"]}


def _pytest(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_two_workers_each_on_its_own_place_give_one_report_equal_to_in_process(
    farm: Farm, tmp_path: Path
) -> None:
    """pytest -n 2: each worker reserves and locks a place (labgrid-client reserve/lock)
    and drives that place's agent; one merged report, the verdicts of the in-process run."""
    (tmp_path / "farm_glue.py").write_text(GLUE)
    log = tmp_path / "workers"
    log.mkdir()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PIHIL_", "LG_"))}
    base["HYPOTHESIS_PROFILE"] = "ci"
    paths = [str(SUITE / name) for name in SELECTION]
    local = _pytest(
        [*paths, "--hil-target=sim", "--hil-report-dir", str(tmp_path / "sim")], tmp_path, base
    )
    assert local.returncode == 0, local.stdout[-3000:]
    env = {
        **base,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), base.get("PYTHONPATH", "")]),
        "PIHIL_LG_RESERVE": "board=mirkopc",
        "LG_COORDINATOR": farm.coordinator,
        "FARM_LOG": str(log),
    }
    remote = _pytest(
        [
            *paths,
            "-n",
            "2",
            "-p",
            "farm_glue",
            "--hil-target=remote",
            "--hil-bench",
            str(BENCH),
            "--hil-report-dir",
            str(tmp_path / "farm"),
        ],
        tmp_path,
        env,
    )
    assert remote.returncode == 0, remote.stdout[-3000:] + remote.stderr[-3000:]
    used = sorted(p.read_text() for p in log.iterdir())
    assert used == sorted(farm.agents), "each worker on its own place's agent"
    sim, lab = _outcomes(tmp_path / "sim"), _outcomes(tmp_path / "farm")
    assert lab == sim
    assert set(lab.values()) == {"passed"}
    assert len(lab) > 20
    assert _held(farm) == {}, "the workers released their places"


def _held(farm: Farm) -> dict[str, str]:
    """Place name -> who holds it, for the locked places."""
    out: dict[str, str] = {}
    for block in farm.client("-v", "places").split("Place '")[1:]:
        name = block.split("'", 1)[0]
        holder = block.split("acquired:", 1)[1].splitlines()[0].strip()
        if holder != "None":
            out[name] = holder
    return out


def test_a_third_client_fails_at_once_or_waits_for_a_place(farm: Farm) -> None:
    """Both places locked: a reservation that will not wait fails naming who holds them;
    one that waits gets the place released first."""
    first = reserve_place(TAGS, coordinator=farm.coordinator)
    second = reserve_place(TAGS, coordinator=farm.coordinator)
    got: list[Place | BaseException] = []
    try:
        assert {first.name, second.name} == {"pihil-a", "pihil-b"}
        assert set(_held(farm)) == {"pihil-a", "pihil-b"}
        with pytest.raises(PlaceUnavailable, match=r"no place with board=mirkopc is free") as exc:
            reserve_place(TAGS, coordinator=farm.coordinator)
        assert "pihil-a (locked by" in str(exc.value)
        assert "pihil-b (locked by" in str(exc.value)
        assert "PIHIL_LG_WAIT" in str(exc.value)

        def third() -> None:
            try:
                got.append(reserve_place(TAGS, coordinator=farm.coordinator, wait_s=120))
            except BaseException as e:
                got.append(e)

        waiter = threading.Thread(target=third)
        waiter.start()
        _until(farm, "reservations", lambda out: "state: waiting" in out)
        release_place(first)
        waiter.join(timeout=180)
        assert not waiter.is_alive()
        (third_place,) = got
        assert isinstance(third_place, Place), third_place
        assert third_place.name == first.name
        assert _held(farm).keys() == {"pihil-a", "pihil-b"}
    finally:
        release_place(second)
        for p in got:
            if isinstance(p, Place):
                release_place(p)
        release_place(first)
    assert _held(farm) == {}


def test_an_environment_file_names_the_place_and_export_gives_the_resource(
    farm: Farm, tmp_path: Path
) -> None:
    """The one-place way (docs/farm.md): lock a place, name it in an environment YAML with
    a PihilBoardDriver; the plugin's glue and the target's export (what `labgrid-client
    export` writes) both give the agent's resource, and a session through it reaches that
    agent's emulated board."""
    env_file = tmp_path / "env.yaml"
    env_file.write_text(
        json.dumps(
            {
                "targets": {
                    "main": {
                        "resources": {"RemotePlace": {"name": "pihil-b"}},
                        "drivers": {"PihilBoardDriver": {}},
                    }
                },
                "imports": ["pytest_pihil.labgrid"],
                "options": {"coordinator_address": farm.coordinator},
            }
        )
    )
    farm.client("-p", "pihil-b", "lock")
    try:
        done = subprocess.run(
            [sys.executable, "-c", _ENV_GLUE, str(env_file)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        resource, board, simulated, exported = done.stdout.split(" ", 3)
        assert (resource, board, simulated) == (farm.agents[1], "mirkopc", "True")
        assert json.loads(exported) == {
            "LG__PIHILBOARDDRIVER_RESOURCE": farm.agents[1],
            "LG__PIHILBOARDDRIVER_BOARD": "mirkopc",
            "LG__PIHILBOARDDRIVER_EMULATED": "1",
        }
    finally:
        farm.client("-p", "pihil-b", "unlock")


_ENV_GLUE = """
import json, sys, types
from pytest_pihil.labgrid import session
config = types.SimpleNamespace(option=types.SimpleNamespace(lg_env=sys.argv[1], lg_coordinator=None))
resource = session.resource_from_labgrid(config)
exported = session._environment(config).get_target("main").export()
from rpiboard_pihil import RpiBoard
with RpiBoard(resource) as board:
    print(resource, board.board_name, board.ivi_utility.simulation_enabled, json.dumps(exported))
"""
