"""``board.simulation`` through the agent's SIM commands (issue 16 item 1; docs/agent.md).

A remote session on ``pihil agent --sim`` gives the parts of the in-process handle the board
suite and the plugin use, with the same results and the same exceptions; every SIM
argument is checked (SCPI error codes, the board untouched); an agent serving hardware
answers 110; malformed SIM commands leave it serving; and the board suite run through the
agent gives the verdicts of the in-process run, its sim_only tests included.
"""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pytest_pihil.board_suite
from pihil_emulator.faults import StuckNet
from rpiboard_pihil import Direction, Pull, RpiBoard
from rpiboard_pihil.agent.commands import Agent
from rpiboard_pihil.agent.protocol import Command, encode_block
from rpiboard_pihil.agent.server import AgentServer
from rpiboard_pihil.agent.sim_commands import SIM_HANDLERS
from rpiboard_pihil.backends.remote import ENV_TOKEN, ENV_TOKEN_FILE
from rpiboard_pihil.backends.simulated import SimulatedBackend, board_infos

SUITE = Path(pytest_pihil.board_suite.__file__).parent
BENCH = Path(__file__).parents[1] / "farm" / "emulated-mirkopc-bench.yaml"


@pytest.fixture
def agent(monkeypatch: pytest.MonkeyPatch) -> Iterator[AgentServer]:
    monkeypatch.delenv(ENV_TOKEN, raising=False)
    monkeypatch.delenv(ENV_TOKEN_FILE, raising=False)
    server = AgentServer(SimulatedBackend(board_infos()["mirkopc"], seed=0, devices={}), port=0)
    server.start()
    yield server
    server.stop()
    server.agent.backend.close()


def _remote(server: AgentServer) -> RpiBoard:
    return RpiBoard(server.resource)


def _local() -> RpiBoard:
    return RpiBoard("local", options={"simulate": True, "board": "mirkopc", "seed": 0})


def _class(device: Any) -> str:
    return str(getattr(device, "model_class", type(device).__name__))


def _error(fn: Any, *args: Any) -> tuple[str, str]:
    try:
        fn(*args)
    except Exception as exc:
        return type(exc).__name__, str(exc)
    raise AssertionError(f"{fn} did not raise")


def _adc_code(board: RpiBoard, channel: int) -> int:
    """MCP3008 single-ended conversion (data sheet fig. 6-1): 0x01, (8 + ch) << 4, 0."""
    reply = board.spi_buses[0].devices[1].transfer([0x01, (8 + channel) << 4, 0x00])
    return ((reply[1] & 0x03) << 8) | reply[2]


def _exercise_simulation(board: RpiBoard) -> list[Any]:
    """Every served part of board.simulation once; what a remote session must reproduce."""
    sim = board.simulation
    out: list[Any] = []
    devices = sim.devices
    out.append(sorted((n, _class(d)) for n, d in devices.items()))
    # device models: attribute reads and writes, method calls (MCP3008 §4.1: 1024 VIN / VREF)
    adc = devices["adc"]
    adc.set_voltage(3, 1.65)
    out += [adc.vref, adc.voltage(3), _adc_code(board, 3), adc.conversions]
    out.append(_error(adc.set_voltage, 9, 1.0)[1])
    eeprom = devices["hat_eeprom"]
    out.append(eeprom.write_protect)
    eeprom.write_protect = False
    out += [eeprom.write_protect, eeprom.size, eeprom.contents[:8]]
    eeprom.write_protect = True
    # nets: the LED's line carries the pad's output (soc-facts §7.2: GPIO16 green LED)
    net = sim.emulator.net("GPIO16")
    board.gpios[16].set_output(True)
    out += [round(net.volts, 3), net.level]
    board.gpios[16].set_output(False)
    out += [round(net.volts, 3), net.level]
    # direct use of the emulator raises its own exceptions in-process, the driver's remotely
    out.append(_error(sim.emulator.net, "NOPE")[1])
    # faults: GPIO23 shorted high (faults.StuckNet), then cleared
    g23, g24 = board.gpios[23], board.gpios[24]
    g23.pull = Pull.DOWN
    fault = sim.inject(StuckNet(pin="GPIO23", level=True))
    out.append(g23.value)
    sim.clear_fault(fault)
    out.append(g23.value)
    # a jumper wire, an external voltage (above 3.3 V: an electrical fault)
    g24.pull = Pull.DOWN
    wire = sim.connect("GPIO23", "GPIO24")
    g23.set_output(True)
    out.append(g24.value)
    sim.disconnect(wire)
    out.append(g24.value)
    g23.direction = Direction.INPUT
    sim.apply_voltage("GPIO24", 3.3)
    out.append(g24.value)
    sim.remove_voltage("GPIO24")
    out.append(g24.value)
    out.append(_error(sim.apply_voltage, "GPIO24", 5.0))  # refused: nothing applied
    out.append(_error(sim.remove_voltage, "GPIO24"))
    # registers and their warnings (soc-facts §3.2: GPFSEL0 bits 30-31 reserved)
    out.append(sim.read_register("gpio", "GPFSEL2"))
    sim.write_register("gpio", "GPFSEL0", 0xC000_0000)
    out.append([str(w) for w in sim.emulator.register_warnings])
    out.append(sim.read_register("gpio", "GPFSEL0"))
    # simulated time
    t0 = sim.now_ns
    sim.run_for(0.25)
    out.append(sim.now_ns - t0)
    return out


def test_simulation_through_the_agent_equals_in_process(agent: AgentServer) -> None:
    with _local() as local:
        expected = _exercise_simulation(local)
    with _remote(agent) as board:
        assert board.ivi_utility.simulation_enabled is True
        got = _exercise_simulation(board)
    assert got == expected
    assert expected[5].startswith("adc: channel must be 0..7")  # the error case ran
    assert expected[-1] == 250_000_000


def test_the_seed_reaches_the_agents_random_source(agent: AgentServer) -> None:
    """The plugin reseeds World.random before each test (``per_test_seed``); through the
    agent ``emulator.world.random.seed(n)`` reseeds the agent's."""
    with _remote(agent) as board:
        board.simulation.emulator.world.random.seed(2**64 - 1)
        source = agent.agent.backend.emulator.world.random  # type: ignore[attr-defined]
        assert source.random() == random.Random(2**64 - 1).random()


def test_unserved_parts_say_so(agent: AgentServer) -> None:
    with _remote(agent) as board:
        sim = board.simulation
        for call in (lambda: sim.record_vcd("x.vcd"), sim.userspace, lambda: sim.attach(1, "i2c1")):
            with pytest.raises(Exception, match=r"not served over the network"):
                call()


def _raw(server: AgentServer, lines: list[bytes]) -> list[bytes]:
    """Send each line; a query's answer, or for a command the error it queued. Returns
    once the agent has seen the connection end (the next client is not 'board in use')."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    host, port = sock.getsockname()[:2]
    f = sock.makefile("rb")
    try:
        out = []
        for line in lines:
            query = line.split(b" ", 1)[0].endswith(b"?")
            sock.sendall(line + b"\n" + (b"" if query else b"SYST:ERR?\n"))
            out.append(f.readline())
        return out
    finally:
        f.close()
        sock.close()
        assert server.wait_ended(f"{host}:{port}")


def _block(data: object) -> bytes:
    return encode_block(json.dumps(data).encode())


BAD = [
    (b"SIM:RUN", b"-109"),
    (b"SIM:RUN x", b"-104"),
    (b"SIM:RUN -1", b"-222"),
    (b"SIM:RUN 1,2", b"-108"),
    (b"SIM:CONN? GPIO5", b"!-109"),
    (b"SIM:CONN? GPIO5,GP;O6", b"!-104"),
    (b"SIM:CONN? GPIO5,NOPE", b"!107"),
    (b"SIM:DISC 99", b"-222"),
    (b"SIM:DISC 0", b"-222"),
    (b"SIM:VOLT GPIO5,nan", b"-222"),
    (b"SIM:VOLT GPIO5,1e9", b"-222"),
    (b"SIM:VOLT GPIO5,abc", b"-104"),
    (b"SIM:VOLT GPIO5,5", b"120"),  # above 3.3 V on a GPIO: ElectricalFaultError
    (b"SIM:NET? NOPE", b"!107"),
    (b"SIM:NET? " + b"G" * 65, b"!-104"),
    (b"SIM:DEV:GET? nodev,vref", b"!-222"),
    (b"SIM:DEV:GET? adc,_volts", b"!-104"),
    (b"SIM:DEV:GET? adc,set_voltage", b"!-222"),
    (b"SIM:DEV:GET? adc,#13abc", b"!-104"),
    (b"SIM:DEV:SET adc,vref,3", b"-104"),  # a value is a JSON block
    (b"SIM:DEV:SET adc,vref," + _block("x"), b"-104"),
    (b"SIM:DEV:SET hat_eeprom,write_protect," + _block(1), b"-104"),
    (b"SIM:DEV:SET hat_eeprom,size," + _block(1), b"-222"),  # a read-only property
    (b"SIM:DEV:SET adc,vref,#13NaN", b"-104"),
    (b"SIM:DEV:SET adc,vref,#12{]", b"-104"),
    (b"SIM:DEV:SET adc,vref,#10", b"-104"),
    (b"SIM:DEV:SET adc,vref,#14\xff\xfe1]", b"-104"),
    (b"SIM:DEV:CALL? adc,set_voltage," + _block([3]), b"!-109"),
    (b"SIM:DEV:CALL? adc,set_voltage," + _block(3), b"!-104"),
    (b"SIM:DEV:CALL? adc,nomethod," + _block([]), b"!-222"),
    (b"SIM:DEV:CALL? adc,set_voltage," + _block([9, 1.0]), b"!108"),
    (b"SIM:DEV:CALL? adc,__init__," + _block([]), b"!-104"),
    (b"SIM:DEV:CALL? adc,set_voltage," + _block([[[[[[[[[[1]]]]]]]]], 1]), b"!-104"),
    (b"SIM:FAULT:INJ? Nope," + _block({}), b"!-222"),
    (b"SIM:FAULT:INJ? StuckNet," + _block({"x": 1}), b"!-108"),
    (b"SIM:FAULT:INJ? StuckNet," + _block({"pin": ""}), b"!108"),
    (b"SIM:FAULT:INJ? StuckNet," + _block([]), b"!-104"),
    (b"SIM:FAULT:CLR 5", b"-222"),
    (b"SIM:FAULT:ACT? 5", b"!-222"),
    (b"SIM:REG? gpio,NOPE", b"!112"),
    (b"SIM:REG gpio,GPFSEL0,4294967296", b"-222"),
    (b"SIM:SEED -1", b"-222"),
    (b"SIM:SEED 18446744073709551616", b"-222"),
    (b"SIM:DETACH nodev", b"-222"),
    (b"SIM:WARN? 1", b"!-108"),
]


def _sim_state(server: AgentServer) -> list[bytes]:
    return _raw(
        server,
        [
            b"SIM:DEV:CALL? adc,voltage," + _block([3]),
            b"SIM:DEV:GET? hat_eeprom,write_protect",
            b"SIM:NET? GPIO5",
            b"SYST:TIME?",
            b"GPIO:PULL? 5",
        ],
    )


def test_every_sim_argument_is_checked_and_the_board_is_untouched(agent: AgentServer) -> None:
    """Each bad SIM command is refused with its SCPI code (docs/agent.md "Error codes")
    before the emulator changes; the agent goes on serving."""
    before = _sim_state(agent)
    answers = _raw(agent, [line for line, _ in BAD])
    wrong = [
        (line[:60], answer[:90], code)
        for (line, code), answer in zip(BAD, answers, strict=True)
        if not answer.startswith(code + b",")
    ]
    assert wrong == []
    assert _sim_state(agent) == before
    assert agent.agent.sim.wires == {}
    assert agent.agent.sim.faults == {}


class _Hardware:
    """A backend the agent takes for real hardware (its SIM commands must refuse)."""

    simulated = False

    def __init__(self, inner: SimulatedBackend) -> None:
        self._inner = inner
        self.info = inner.info

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.mark.parametrize("header", sorted(SIM_HANDLERS))
def test_sim_commands_on_hardware_answer_110(header: str) -> None:
    backend = SimulatedBackend(board_infos()["mirkopc"], seed=0, devices={})
    try:
        agent = Agent(_Hardware(backend))  # type: ignore[arg-type]
        args: list[str | bytes] = {
            "SIM:RUN": ["1"],
            "SIM:CONN?": ["GPIO5", "GPIO6"],
            "SIM:DISC": ["1"],
            "SIM:VOLT": ["GPIO5", "1"],
            "SIM:VOLT:REM": ["GPIO5"],
            "SIM:NET?": ["GPIO5"],
            "SIM:REG?": ["gpio", "GPFSEL0"],
            "SIM:REG": ["gpio", "GPFSEL0", "0"],
            "SIM:SEED": ["1"],
            "SIM:DEV:LIST?": [],
            "SIM:WARN?": [],
            "SIM:DEV:MEMB?": ["adc"],
            "SIM:DEV:GET?": ["adc", "vref"],
            "SIM:DEV:SET": ["adc", "vref", b"3.0"],
            "SIM:DEV:CALL?": ["adc", "voltage", b"[3]"],
            "SIM:DETACH": ["adc"],
            "SIM:FAULT:INJ?": ["StuckNet", b'{"pin":"GPIO5"}'],
            "SIM:FAULT:CLR": ["1"],
            "SIM:FAULT:ACT?": ["1"],
        }[header]
        cmd = Command(header, args)
        reply = agent.execute(cmd)
        if cmd.query:
            assert reply is not None
            assert reply.startswith(b"!110,"), reply
        else:
            assert reply is None
            assert agent.errors[0].startswith("110,"), agent.errors
            assert "emulated board" in agent.errors[0]
    finally:
        backend.close()


_SIM_HEADERS = sorted(SIM_HANDLERS)
_junk = st.binary(max_size=24).filter(lambda b: b not in (b"adc", b"hat_eeprom", b"rtc"))


@settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(
    lines=st.lists(
        st.builds(
            lambda h, args: h.encode() + b" " + b",".join(args),
            st.sampled_from(_SIM_HEADERS),
            st.lists(
                st.one_of(
                    _junk.map(lambda b: b.replace(b"\n", b"").replace(b",", b"")),
                    _junk.map(lambda b: encode_block(b)),
                    st.sampled_from([b"adc", b"hat_eeprom", b"GPIO5"]),
                ),
                max_size=4,
            ),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_fuzzed_sim_commands_leave_the_agent_serving(lines: list[bytes]) -> None:
    """Random arguments, random JSON blocks: answered or refused, never a crash; the board
    state the SIM commands can reach stays as it was."""
    global _FUZZ
    if _FUZZ is None:
        server = AgentServer(SimulatedBackend(board_infos()["mirkopc"], seed=0, devices={}), port=0)
        server.start()
        _FUZZ = (server, _sim_state(server)[:3])
    server, before = _FUZZ
    ticket = server.finished + 1
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        try:
            sock.sendall(b"\n".join(lines) + b"\n")
            sock.shutdown(socket.SHUT_WR)
            while sock.recv(65536):  # the agent answers what it answers, then closes
                pass
        except OSError:
            pass  # it closed first (a block header it cannot trust)
    assert server.wait_finished(ticket)
    assert _sim_state(server)[:3] == before
    assert server.agent.sim.wires == {}


_FUZZ: tuple[AgentServer, list[bytes]] | None = None


@pytest.fixture(scope="module", autouse=True)
def _stop_fuzz_agent() -> Iterator[None]:
    yield
    global _FUZZ
    if _FUZZ is not None:
        _FUZZ[0].stop()
        _FUZZ = None


def _suite(tmp: Path, *args: str) -> dict[str, str]:
    report = tmp / "report"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(SUITE),
            "-p",
            "no:cacheprovider",
            "-q",
            "--hil-report-dir",
            str(report),
            *args,
        ],
        capture_output=True,
        text=True,
        cwd=tmp,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    (file,) = report.glob("*.json")
    return {t["nodeid"]: t["outcome"] for t in json.loads(file.read_text())["tests"]}


def test_the_board_suite_through_the_agent_gives_the_in_process_verdicts(
    agent: AgentServer, tmp_path: Path
) -> None:
    """--hil-target=remote on `pihil agent --sim` against --hil-target=sim: the same tests
    pass, the sim_only ones (EEPROM machine, LED nets, ADC input, RTC tick phases) among
    them. The bench file gives the emulated board's jig, as a bench file does for a Pi."""
    (tmp_path / "sim").mkdir()
    (tmp_path / "remote").mkdir()
    local = _suite(tmp_path / "sim", "--hil-target=sim")
    remote = _suite(
        tmp_path / "remote",
        "--hil-target=remote",
        f"--hil-resource={agent.resource}",
        f"--hil-bench={BENCH}",
    )
    assert remote == local
    assert set(local.values()) == {"passed"}
    sim_only = [n for n in remote if "machine[" in n or "drives_the_net" in n]
    sim_only += [n for n in remote if "follows_its_input" in n or "tick_phase" in n]
    assert len(sim_only) >= 8
