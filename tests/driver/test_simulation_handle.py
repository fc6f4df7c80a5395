"""board.simulation: the emulator handle, its errors translated, the session locked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sim_helpers import exercises, open_sim

from pihil_emulator.devices.at24 import At24Eeprom
from pihil_emulator.errors import ElectricalFault, PinError, RegisterError
from pihil_emulator.faults import StuckNet
from rpiboard_pihil import (
    ConfigurationError,
    DeviceErrorCode,
    Direction,
    Edge,
    EdgeKind,
    ElectricalFaultError,
    Pull,
    RegisterAccessError,
    RpiBoard,
    SelectorError,
    SimulationNotAvailableError,
)


@pytest.fixture
def board() -> Iterator[RpiBoard]:
    b = open_sim("mirkopc")
    yield b
    b.close()


@exercises("Simulation.now_ns", "Simulation.run_for", "Simulation.emulator")
def test_clock(board: RpiBoard) -> None:
    sim = board.simulation
    assert sim.now_ns == board.now_ns
    sim.run_for(0.002)
    assert sim.now_ns == board.now_ns == sim.emulator.now_ns
    assert sim.emulator.profile.name == "mirkopc"


@exercises("Simulation.connect", "Simulation.disconnect")
def test_jumper_wire_between_two_pins(board: RpiBoard) -> None:
    """DESIGN: a jumper wire between two pins, by any pin name."""
    sim = board.simulation
    out, inp = board.gpios["J8-16"], board.gpios["GPIO24"]
    inp.pull = Pull.DOWN
    out.set_output(True)
    assert inp.value is False
    wire = sim.connect("J8-16", "J8-18")
    assert inp.value is True
    sim.disconnect(wire)
    assert inp.value is False
    with pytest.raises(SelectorError) as info:
        sim.connect("J8-16", "J8-99")
    assert isinstance(info.value.__cause__, PinError)


@exercises("Simulation.apply_voltage", "Simulation.remove_voltage")
def test_external_voltage_and_the_5v_rule(board: RpiBoard) -> None:
    """DESIGN: above 3.3 V on a GPIO is an ElectricalFault (the pins are not 5 V tolerant)."""
    sim = board.simulation
    g = board.gpios[24]
    g.pull = Pull.DOWN
    sim.apply_voltage("J8-18", 3.3)
    assert g.value is True
    sim.remove_voltage("J8-18")
    assert g.value is False
    with pytest.raises(ElectricalFaultError) as info:
        sim.apply_voltage("J8-18", 5.0)
    assert isinstance(info.value.__cause__, ElectricalFault)
    assert info.value.net == "GPIO24"


@exercises("Simulation.devices", "Simulation.attach", "Simulation.detach")
def test_devices_attach_and_detach(board: RpiBoard) -> None:
    sim = board.simulation
    assert {"rtc", "temperature", "flash", "adc", "hat_eeprom"} <= set(sim.devices)
    eeprom = At24Eeprom(0x57)
    attachment = sim.attach(eeprom, bus="i2c1")
    assert attachment.device is eeprom
    sim.detach(eeprom)
    with pytest.raises(ConfigurationError, match=r"not a bus of the mirkopc profile"):
        sim.attach(eeprom, bus="i2c7")


@exercises("Simulation.read_register", "Simulation.write_register")
def test_register_access(board: RpiBoard) -> None:
    """soc-facts §3.3/§3.4: GPFSEL2 bits 11:9 are GPIO23's function; GPSET sets the latch."""
    sim = board.simulation
    g = board.gpios[23]
    g.set_output(False)
    assert (sim.read_register("gpio", "GPFSEL2") >> 9) & 0b111 == 0b001
    sim.write_register("gpio", "GPSET0", 1 << 23)
    assert g.value is True
    with pytest.raises(RegisterAccessError) as info:
        sim.read_register("gpio", "GPNOPE")
    assert isinstance(info.value.__cause__, RegisterError)
    with pytest.raises(RegisterAccessError, match=r"no block 'bsc9'"):
        sim.write_register("bsc9", "DIV", 2500)


@exercises("Simulation.inject", "Simulation.clear_fault")
def test_fault_in_simulated_time(board: RpiBoard) -> None:
    """DESIGN: faults are scheduled in simulated time; a stuck net is seen as an edge then."""
    sim = board.simulation
    g = board.gpios[24]
    g.pull = Pull.DOWN
    g.edge_detection = Edge.RISING
    at = board.now_ns + 1_000_000
    fault = sim.inject(StuckNet(pin="J8-18", level=True, at_ns=at))
    events = g.wait_edges(0.01)
    assert [e.kind for e in events] == [EdgeKind.RISING]
    assert at <= events[0].timestamp_ns <= at + 100
    sim.clear_fault(fault)
    assert g.value is False
    with pytest.raises(ConfigurationError, match=r"takes a pihil_emulator.faults.Fault"):
        sim.inject("stuck")


def test_a_fault_during_a_delay_reaches_the_caller_translated(board: RpiBoard) -> None:
    """An electrical fault that happens in the background is raised by the call that ran it."""
    g = board.gpios[24]
    g.set_output(False)
    at = board.now_ns + 500_000
    board.simulation.inject(StuckNet(pin="GPIO24", level=True, at_ns=at))
    with pytest.raises(ElectricalFaultError) as info:
        board.delay(0.001)
    assert isinstance(info.value.__cause__, ElectricalFault)
    assert info.value.net == "GPIO24"
    assert info.value.time_ns == at
    # the board saw it on its own: it is a device error too
    errors = board.ivi_utility.error_query_all()
    assert [e.code for e in errors] == [DeviceErrorCode.ELECTRICAL_FAULT]
    assert "GPIO24" in errors[0].message


def test_a_fault_caused_by_the_call_itself_is_not_a_device_error(board: RpiBoard) -> None:
    board.simulation.connect("J8-16", "J8-18")
    board.gpios[23].set_output(True)
    with pytest.raises(ElectricalFaultError):
        board.gpios[24].set_output(False)
    assert board.ivi_utility.error_query() is None


@exercises("Simulation.record_vcd")
def test_record_vcd(board: RpiBoard, tmp_path: Path) -> None:
    """DESIGN: a VCD of any set of nets for any stretch of simulated time."""
    g = board.gpios[23]
    g.set_output(False)
    path = tmp_path / "out.vcd"
    with board.simulation.record_vcd(str(path), nets=["J8-16"]):
        board.delay(0.001)
        g.value = True
        board.delay(0.001)
    text = path.read_text()
    assert "$var" in text
    assert "#1000000" in text
    default = tmp_path / "all.vcd"
    with board.simulation.record_vcd(str(default)):
        g.value = False
        board.delay(0.0001)
    assert default.read_text().count("$var") == len(board.gpios)


def test_simulation_on_hardware_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """DESIGN: board.simulation on a real board raises a clear error."""
    from rpiboard_pihil.backends.simulated import SimulatedBackend

    b = open_sim("mirkopc")
    monkeypatch.setattr(SimulatedBackend, "simulated", False)
    with pytest.raises(SimulationNotAvailableError, match=r"only available in simulation"):
        _ = b.simulation
    monkeypatch.undo()
    b.close()
    assert Direction.INPUT  # the enum is importable alongside


@exercises("Simulation.userspace")
def test_userspace_runs_sleep_on_simulated_time() -> None:
    """``simulation.userspace()``: inside it time.sleep advances the board, not the wall."""
    import time

    board = open_sim()
    try:
        start = board.simulation.now_ns
        with board.simulation.userspace(epoch_s=1_000_000.0):
            time.sleep(0.5)
            assert time.time() == pytest.approx(1_000_000.5)
        assert board.simulation.now_ns - start == 500_000_000
    finally:
        board.close()


def test_an_unknown_device_name_lists_the_boards_devices() -> None:
    """Issue 14: ``sim.devices["nosuch"]`` was a bare KeyError; now it names the board's
    devices (and suggests a close name), and is still a KeyError for ``in`` and ``get``."""
    from rpiboard_pihil import RpiBoard
    from rpiboard_pihil.backends.device_table import UnknownDeviceError

    with RpiBoard("local", options={"simulate": True, "board": "mirkopc"}) as board:
        devices = board.simulation.devices
        with pytest.raises(UnknownDeviceError, match=r"no device 'rtcc' \(did you mean rtc\?\)"):
            devices["rtcc"]
        with pytest.raises(KeyError, match=r"its devices: adc, .*rtc"):
            devices["nosuch"]
        assert "rtc" in devices
        assert devices.get("nosuch") is None


@exercises("Simulation.snapshot", "Simulation.restore")
def test_snapshot_and_restore_through_the_driver(board: RpiBoard) -> None:
    """Issue 13 item 4: the driver's handle snapshots the board with its session and puts
    it back: time, a register, a device's memory and a GPIO's direction return; a
    snapshot is not something else (a clear error)."""
    from rpiboard_pihil import Direction

    line = board.gpios["GPIO4"]
    snap = board.simulation.snapshot()
    t0 = board.simulation.now_ns
    line.direction = Direction.OUTPUT
    line.value = True
    board.simulation.run_for(0.25)
    board.simulation.restore(snap)
    assert board.simulation.now_ns == t0
    assert line.direction is Direction.INPUT
    board.simulation.restore(snap)  # as often as wanted
    with pytest.raises(ConfigurationError, match="snapshot"):
        board.simulation.restore("not a snapshot")
