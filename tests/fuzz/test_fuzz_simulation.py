"""Fuzz: bad arguments to ``board.simulation`` (the emulator handle) and to the faults it injects.

The handle's members take pin names, voltages, wires, device models, registers, faults,
VCD paths and net lists, and the userspace's clock settings; each is fed values it must
refuse. Faults are built by the test (`pihil_emulator.faults`), so their constructors are
fuzzed too: an emulator error (`EmulatorError`, which the handle turns into a `PihilError`)
is the clean outcome there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pihil_emulator.devices import registry
from pihil_emulator.errors import EmulatorError
from pihil_emulator.faults import BrownOut, DroppedDevice, StuckNet
from rpiboard_pihil import PihilError, RpiBoard

from . import bad_values as bad
from .harness import check, fuzz_settings, referee

AREA = "simulation"
FREE_PIN = "J8-16"  # GPIO23, wired to nothing
OTHER_FREE_PIN = "J8-18"  # GPIO24
ACCEPTED = (PihilError, EmulatorError)


@dataclass(frozen=True)
class Entry:
    name: str
    call: Callable[[RpiBoard, Any], object]
    bad: st.SearchStrategy[Any]


def _device(model: str = "lm75b", address: int | None = 0x49) -> Any:
    if model == "lm75b":
        return registry.create_device(model, name="extra", address=address)
    return registry.create_device(model, name="extra")


class Stale:
    """A marker: the case builds a wire, removes it, and passes the removed wire."""

    def __repr__(self) -> str:
        return "<a wire already disconnected>"


class Unattached:
    """A marker: the case passes a device model that is on no bus."""

    def __repr__(self) -> str:
        return "<an lm75b attached to nothing>"


class NotInjected:
    """A marker: the case passes a fault that was never injected."""

    def __repr__(self) -> str:
        return "<a StuckNet never injected>"


def _disconnect(board: RpiBoard, value: Any) -> None:
    sim = board.simulation
    if isinstance(value, Stale):
        wire = sim.connect(FREE_PIN, OTHER_FREE_PIN)
        sim.disconnect(wire)
        value = wire
    sim.disconnect(value)


def _detach(board: RpiBoard, value: Any) -> None:
    board.simulation.detach(_device() if isinstance(value, Unattached) else value)


def _clear(board: RpiBoard, value: Any) -> None:
    board.simulation.clear_fault(
        StuckNet(pin=FREE_PIN) if isinstance(value, NotInjected) else value
    )


def _vcd(tmp: Path) -> Callable[[RpiBoard, Any], object]:
    def call(board: RpiBoard, value: Any) -> None:
        with board.simulation.record_vcd(value, nets=["GPIO23"]):
            board.delay(1e-6)

    return call


def _vcd_nets(tmp: Path) -> Callable[[RpiBoard, Any], object]:
    def call(board: RpiBoard, value: Any) -> None:
        with board.simulation.record_vcd(str(tmp / "nets.vcd"), nets=value):
            board.delay(1e-6)

    return call


def _userspace(key: str) -> Callable[[RpiBoard, Any], object]:
    def call(board: RpiBoard, value: Any) -> None:
        with board.simulation.userspace(**{key: value}):
            pass

    return call


def _bad_paths(tmp: Path) -> st.SearchStrategy[object]:
    a_file = tmp / "a-file"
    a_file.write_text("x")
    return st.sampled_from(
        [
            None,
            5,
            -1,
            1.5,
            b"x.vcd",
            bad.Strange(),
            ["x.vcd"],
            "",
            str(tmp),  # a folder
            tmp,
            str(a_file / "x.vcd"),  # under a file
            str(tmp / "no\x00such.vcd"),
        ]
    )


def _bad_nets(names: frozenset[str]) -> st.SearchStrategy[object]:
    return st.one_of(
        st.sampled_from([5, 1.5, b"GPIO17", bad.Strange(), "GPIO17", "", [], (), {"GPIO17": 1}]),
        st.lists(bad.not_name(names), min_size=1, max_size=3),
        st.just(["GPIO17", "GPIO17"]),
        st.just(["GPIO17", "J8-11"]),  # one net twice, by two names
    )


def _volts() -> st.SearchStrategy[object]:
    return st.one_of(
        st.sampled_from([math.nan, math.inf, -math.inf, "3.3", "x", None, True, 1j, [1.0]]),
        st.floats(max_value=-0.6, allow_infinity=False),
        st.integers(max_value=-1),
        st.sampled_from([bad.Strange(), b"1", {}]),
    )


def _entries(board: RpiBoard, tmp: Path) -> list[Entry]:
    pins = (
        frozenset(board.pins.names)
        | frozenset(board.info.gpio_aliases)
        | {f"GPIO{n}" for n in range(58)}
    )
    buses = frozenset({"i2c0", "i2c1", "spi0", "uart0"})
    blocks = frozenset(board.simulation.emulator.soc.blocks)
    not_pin = bad.not_name(pins)
    not_fault = st.one_of(
        st.sampled_from([None, 5, "brownout", bad.Strange(), BrownOut, StuckNet]),
        st.just(NotInjected()),
    )
    return [
        Entry("run_for", lambda b, v: b.simulation.run_for(v), bad.not_seconds(1e9)),
        Entry("connect(a)", lambda b, v: b.simulation.connect(v, FREE_PIN), not_pin),
        Entry("connect(b)", lambda b, v: b.simulation.connect(FREE_PIN, v), not_pin),
        Entry("disconnect", _disconnect,
              st.one_of(st.sampled_from([None, 5, "J8-16", bad.Strange()]), st.just(Stale()))),
        Entry("apply_voltage(pin)", lambda b, v: b.simulation.apply_voltage(v, 1.0), not_pin),
        Entry("apply_voltage(volts)", lambda b, v: b.simulation.apply_voltage(FREE_PIN, v), _volts()),
        Entry("remove_voltage", lambda b, v: b.simulation.remove_voltage(v),
              st.one_of(not_pin, st.just(OTHER_FREE_PIN))),
        Entry("attach(device)", lambda b, v: b.simulation.attach(v, "i2c1"),
              st.one_of(st.sampled_from([None, 5, "lm75b", bad.Strange(), object()]),
                        st.builds(lambda: _device("mcp3008")))),
        Entry("attach(bus)", lambda b, v: b.simulation.attach(_device(), v), bad.not_name(buses)),
        Entry("attach(roles)", lambda b, v: b.simulation.attach(_device(), "probe", kind="i2c",
                                                                 sda=v, scl="J8-18"), not_pin),
        Entry("attach(kind)", lambda b, v: b.simulation.attach(_device(), "probe", kind=v,
                                                                sda="J8-16", scl="J8-18"),
              bad.not_name(frozenset({"i2c", "spi", "uart", "gpio"}))),
        Entry("detach", _detach,
              st.one_of(st.sampled_from([None, 5, "rtc", bad.Strange()]), st.just(Unattached()))),
        Entry("read_register(block)", lambda b, v: b.simulation.read_register(v, "GPFSEL0"),
              bad.not_name(blocks)),
        Entry("read_register(register)", lambda b, v: b.simulation.read_register("gpio", v),
              st.one_of(bad.not_name(frozenset({"GPFSEL0"})), st.sampled_from([-4, 3, 10**9, 2**64]))),
        Entry("write_register(value)", lambda b, v: b.simulation.write_register("gpio", "GPFSEL2", v),
              bad.not_int_in(0, 0xFFFF_FFFF)),
        Entry("write_register(register)", lambda b, v: b.simulation.write_register("gpio", v, 0),
              # (a write to a read-only register such as GPLEV0 is ignored, as on the chip)
              st.one_of(bad.not_name(frozenset()), st.sampled_from([-4, 10**9]))),
        Entry("inject", lambda b, v: b.simulation.inject(v), not_fault),
        Entry("clear_fault", _clear, not_fault),
        Entry("inject(BrownOut(rail))", lambda b, v: b.simulation.inject(BrownOut(rail=v)),
              st.one_of(bad.not_name(frozenset({"3V3", "5V"})), st.just("GND"))),
        Entry("inject(BrownOut(volts))", lambda b, v: b.simulation.inject(BrownOut(volts=v)),
              st.one_of(_volts(), st.floats(3.3, 100.0), st.just(3.3))),
        Entry("inject(BrownOut(reset_soc))",
              lambda b, v: b.simulation.inject(BrownOut(reset_soc=v, duration_ns=1)), bad.not_bool()),
        Entry("inject(BrownOut(at_ns))", lambda b, v: b.simulation.inject(BrownOut(at_ns=v)),
              bad.not_int_in(0, 2**63 - 1)),
        Entry("inject(BrownOut(duration_ns))",
              lambda b, v: b.simulation.inject(BrownOut(duration_ns=v)), bad.not_int_in(1, 2**63 - 1)),
        Entry("inject(StuckNet(pin))", lambda b, v: b.simulation.inject(StuckNet(pin=v)), not_pin),
        Entry("inject(StuckNet(level))",
              lambda b, v: b.simulation.inject(StuckNet(pin=FREE_PIN, level=v, duration_ns=1)),
              bad.not_bool()),
        Entry("inject(DroppedDevice(device))",
              lambda b, v: b.simulation.inject(DroppedDevice(device=v)),
              st.one_of(bad.not_name(frozenset(b_name for b_name in board.simulation.devices)),
                        st.sampled_from([5, bad.Strange()]), st.builds(_device))),
        Entry("userspace(epoch_s)", _userspace("epoch_s"),
              st.one_of(st.sampled_from([math.nan, math.inf, -math.inf, -1.0, 1e300, "0", True,
                                         bad.Strange(), [0]]))),
        Entry("userspace(pace)", _userspace("pace"),
              st.sampled_from([0, 0.0, -1.0, math.nan, math.inf, "1", True, bad.Strange(), [1]])),
        Entry("record_vcd(path)", _vcd(tmp), _bad_paths(tmp)),
        Entry("record_vcd(nets)", _vcd_nets(tmp), _bad_nets(pins)),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def fuzz_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-simulation")


class Boards:
    """The fuzzed board; a new one after a case that was accepted (it may have changed it)."""

    def __init__(self) -> None:
        self.board = self._open()

    @staticmethod
    def _open() -> RpiBoard:
        return RpiBoard("local", options={"simulate": True, "board": "mirkopc"})

    def renew(self) -> None:
        self.board.close()
        self.board = self._open()


@pytest.fixture(scope="module")
def boards() -> Iterator[Boards]:
    b = Boards()
    yield b
    b.board.close()


def test_every_simulation_member_refuses_bad_arguments_clearly(
    boards: Boards, fuzz_tmp: Path
) -> None:
    entries = _entries(boards.board, fuzz_tmp)

    @fuzz_settings(1200)
    @given(st.data())
    def case(data: st.DataObject) -> None:
        entry = data.draw(st.sampled_from(entries), label="entry")
        value = data.draw(entry.bad, label="value")
        board = boards.board
        outcome = referee(AREA, entry.name, value, lambda: entry.call(board, value), ACCEPTED)
        if outcome != "ok":
            boards.renew()

    case()
    check(AREA)
