"""Fuzz: bad arguments to every public entry of the driver on an emulated MirkoPC.

Each entry is a member of the public API (`RpiBoard` and everything reached from it,
``ivi_utility``, the repeated capabilities, their items) with the kind of argument it
takes; Hypothesis draws a value that is wrong for that argument (`bad_values`) and the
referee counts the outcome: a `PihilError` whose message names the problem is the only
clean one. ``board.simulation`` has its own fuzzer (`test_fuzz_simulation`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rpiboard_pihil import (
    Direction,
    Drive,
    Edge,
    Function,
    I2cMessage,
    Parity,
    PihilError,
    Pull,
    RpiBoard,
    UartFormat,
)
from rpiboard_pihil.gpio import MAX_DEBOUNCE_S
from rpiboard_pihil.i2c import MAX_MESSAGE
from rpiboard_pihil.spi import MAX_SPEED_HZ, MAX_TRANSFER
from rpiboard_pihil.uart import MAX_BAUD, MAX_IO

from . import bad_values as bad
from .harness import check, fuzz_settings, referee

AREA = "driver"
FREE_GPIO = 23  # on the MirkoPC header, wired to nothing
EEPROM = 0x50  # i2c0: the jig's HAT EEPROM
RTC = 0x68  # i2c1


@dataclass(frozen=True)
class Entry:
    """One public entry and the bad values it must refuse."""

    name: str
    call: Callable[[RpiBoard, Any], object]
    bad: st.SearchStrategy[Any]


def _set(obj_of: Callable[[RpiBoard], object], attr: str) -> Callable[[RpiBoard, Any], object]:
    def call(board: RpiBoard, value: Any) -> None:
        setattr(obj_of(board), attr, value)

    return call


def gpio(b: RpiBoard) -> Any:
    return b.gpios[FREE_GPIO]


def i2c(b: RpiBoard) -> Any:
    return b.i2c_buses["i2c1"]


def spi(b: RpiBoard) -> Any:
    return b.spi_buses["spi0"].devices["ce0"]


def uart(b: RpiBoard) -> Any:
    return b.uarts["uart0"]


def _sub_microsecond() -> st.SearchStrategy[float]:
    """Debounce periods the kernel's microsecond field cannot hold (not whole µs)."""
    return st.one_of(
        st.floats(1e-12, 9.99e-7),
        st.integers(1, 10**6).map(lambda us: us * 1e-6 + 4e-7),
    )


def _bad_formats() -> st.SearchStrategy[object]:
    fields: dict[str, st.SearchStrategy[Any]] = {
        "baud_rate": bad.not_int_in(1, MAX_BAUD),
        "data_bits": bad.not_int_in(5, 8),
        "parity": bad.not_member(Parity),
        "stop_bits": bad.not_int_in(1, 2),
    }
    one_bad = st.sampled_from(sorted(fields)).flatmap(
        lambda f: fields[f].map(lambda v: dataclasses.replace(UartFormat(), **{f: v}))
    )
    return st.one_of(one_bad, bad.not_member(Parity), st.builds(dict, baud_rate=st.just(9600)))


def _bad_messages() -> st.SearchStrategy[object]:
    """What `I2cBus.transfer` must refuse: not a sequence of well-formed messages."""
    ok_write = I2cMessage.write(RTC, b"\x00")
    ok_read = I2cMessage.read_of(RTC, 1)
    malformed = st.one_of(
        st.builds(I2cMessage, bad.not_int_in(0, 0x7F), st.just(False), st.just(b"\x00"), st.just(1)),
        st.builds(I2cMessage, st.just(RTC), bad.not_bool(), st.just(b""), st.just(1)),
        st.builds(I2cMessage, st.just(RTC), st.just(True), st.just(b""), bad.not_int_in(1, MAX_MESSAGE)),
        st.builds(I2cMessage, st.just(RTC), st.just(False), bad.not_bytes(MAX_MESSAGE), st.just(1)),
        # a write whose length disagrees with its data; a read that carries data
        st.builds(I2cMessage, st.just(RTC), st.just(False), st.just(b"\x00\x01"), st.integers(3, 9)),
        st.builds(I2cMessage, st.just(RTC), st.just(True), st.just(b"\x00"), st.just(1)),
    )  # fmt: skip
    return st.one_of(
        st.just(()),
        st.just([]),
        st.sampled_from([None, 5, 1.5, "msgs", b"\x00", bad.Strange(), {RTC: b"\x00"}]),
        st.lists(malformed, min_size=1, max_size=2).map(lambda ms: [ok_write, *ms]),
        st.just([ok_read, ok_write]),  # a read that is not last
        st.lists(st.sampled_from([1, "x", None, b"\x00", (RTC, False)]), min_size=1, max_size=3),
    )


def _bad_options() -> st.SearchStrategy[object]:
    keyed: dict[str, st.SearchStrategy[Any]] = {
        "simulate": bad.not_bool(),
        "query_instrument_status": bad.not_bool(),
        "board": bad.not_name(frozenset({"mirkopc", "rpi-4b", "cm4-io", "rpi-bplus",
                                         "rpi-b-rev1", "rpi-b-rev2"})),
        "seed": st.one_of(st.integers(max_value=-1), st.floats(), st.text(max_size=3),
                          st.booleans(), st.just(None)),
        "devices": st.one_of(
            st.sampled_from([None, 5, "uart0", ["uart0"], {"uart0": 5}, {5: "/dev/x"},
                             {"nosuch": "/dev/ttyUSB0"}, {"uart5": "/dev/ttyUSB0"}]),
        ),
    }  # fmt: skip
    one_bad = st.sampled_from(sorted(keyed)).flatmap(
        lambda k: keyed[k].map(lambda v: {"simulate": True, k: v} if k != "simulate" else {k: v})
    )
    strings = st.sampled_from(
        [
            "Simulate=maybe",
            "Simulate",
            "Simulate=True, Board=",
            "Simulate=True, Board=pi5",
            "Simulate=True, Seed=abc",
            "Simulate=True, Seed=-1",
            "Simulate=True, Simulate=False",
            "Simulate=True, Devices=uart0",
            "Simulate=True, Devices=uart9:/dev/x",
            "Simulate=True, Colour=red",
            "=True",
            "Simulate=True,,=",
            "Simulate=True, QueryInstrStatus=2",
        ]
    )
    return st.one_of(
        one_bad,
        strings,
        st.builds(lambda k: {"simulate": True, k: 1}, st.text(min_size=1, max_size=8)).filter(
            lambda d: not set(d) - {"simulate"} <= {"board", "seed", "devices",
                                                    "query_instrument_status"}
        ),
        st.sampled_from([5, 1.5, b"Simulate=True", ["simulate"], ("simulate", True), bad.Strange()]),
    )  # fmt: skip


def _open(**kwargs: Any) -> Callable[[RpiBoard, Any], object]:
    def call(board: RpiBoard, value: Any) -> object:
        args: dict[str, Any] = {"resource_name": "local", "options": {"simulate": True}}
        args.update(kwargs)
        args[next(k for k, v in kwargs.items() if v is None)] = value
        with RpiBoard(**args):
            return "opened"

    return call


def _entries(board: RpiBoard) -> list[Entry]:
    gpio_names = frozenset(board.gpios.names) | frozenset(board.info.gpio_aliases)
    pin_names = frozenset(board.pins.names)
    power_pins = [p.name for p in board.pins.values() if not p.is_gpio]
    spec_bad = {
        "gpios": bad.not_name(gpio_names),
        "pins": bad.not_name(pin_names),
        "i2c_buses": bad.not_name(frozenset(board.i2c_buses.names)),
        "spi_buses": bad.not_name(frozenset(board.spi_buses.names)),
        "uarts": bad.not_name(frozenset(board.uarts.names)),
    }
    selector_ints = {
        "gpios": st.integers().filter(lambda n: n not in board.info.gpios),
        "pins": st.integers().filter(lambda n: not 1 <= n <= 40),
        "i2c_buses": st.integers().filter(lambda n: n not in (0, 1)),
        "spi_buses": st.integers().filter(lambda n: n != 0),
        "uarts": st.integers().filter(lambda n: n != 0),
    }
    foreign_enums = {
        "gpios": ("I2cBusId", "SpiBusId", "UartId", "ChipSelect", "Pull", "Edge"),
        "pins": ("GpioLine", "I2cBusId", "SpiBusId", "UartId", "ChipSelect", "Direction"),
        "i2c_buses": ("GpioLine", "SpiBusId", "UartId", "ChipSelect", "HeaderPin"),
        "spi_buses": ("GpioLine", "I2cBusId", "UartId", "HeaderPin"),
        "uarts": ("GpioLine", "I2cBusId", "SpiBusId", "ChipSelect", "HeaderPin"),
    }
    enums = {e.__name__: e for e in bad.ENUMS}
    out: list[Entry] = []
    for coll, bad_spec in spec_bad.items():
        wrong = st.sampled_from([m for n in foreign_enums[coll] for m in enums[n]])
        spec = st.one_of(bad_spec, selector_ints[coll], wrong)
        out.append(Entry(f"RpiBoard.{coll}[...]", lambda b, v, c=coll: getattr(b, c)[v], spec))
        out.append(
            Entry(f"RpiBoard.{coll}_item", lambda b, v, c=coll: getattr(b, f"{c}_item")(v), spec)
        )
        out.append(Entry(f"{coll}.resolve", lambda b, v, c=coll: getattr(b, c).resolve(v), spec))
    out += [
        Entry("RpiBoard(resource_name)", _open(resource_name=None), bad.not_name(frozenset({"local"}))),
        Entry("RpiBoard(id_query)", _open(id_query=None), bad.not_bool()),
        Entry("RpiBoard(reset)", _open(reset=None), bad.not_bool()),
        Entry("RpiBoard(options)", _open(options=None), _bad_options()),
        Entry("RpiBoard.delay", lambda b, v: b.delay(v), bad.not_seconds(1e9)),
        Entry("SpiBus.devices[...]", lambda b, v: b.spi_buses[0].devices[v],
              st.one_of(bad.not_name(frozenset({"ce0", "ce1"})), st.integers().filter(lambda n: n not in (0, 1)))),
        Entry("SpiBus.devices_item", lambda b, v: b.spi_buses[0].devices_item(v),
              bad.not_name(frozenset({"ce0", "ce1"}))),
        Entry("Pin.gpio (not a GPIO pin)", lambda b, v: b.pins[v].gpio, st.sampled_from(power_pins)),
        # ivi_utility
        Entry("ivi_utility.query_instrument_status_enabled=",
              _set(lambda b: b.ivi_utility, "query_instrument_status_enabled"), bad.not_bool()),
        Entry("ivi_utility.query_instrument_status=",
              _set(lambda b: b.ivi_utility, "query_instrument_status"), bad.not_bool()),
        # GPIO
        Entry("Gpio.function=", _set(gpio, "function"), bad.not_member(Function)),
        Entry("Gpio.direction=", _set(gpio, "direction"), bad.not_member(Direction)),
        Entry("Gpio.set_output", lambda b, v: gpio(b).set_output(v), bad.not_bool()),
        Entry("Gpio.value=", _set(gpio, "value"), bad.not_bool()),
        Entry("Gpio.pull=", _set(gpio, "pull"), bad.not_member(Pull)),
        Entry("Gpio.drive=", _set(gpio, "drive"), bad.not_member(Drive)),
        Entry("Gpio.edge_detection=", _set(gpio, "edge_detection"), bad.not_member(Edge)),
        Entry("Gpio.debounce_s=", _set(gpio, "debounce_s"),
              st.one_of(bad.not_seconds(MAX_DEBOUNCE_S), _sub_microsecond())),
        Entry("Gpio.wait_edges", lambda b, v: gpio(b).wait_edges(v), bad.not_seconds(1e9)),
        # I2C
        Entry("I2cBus.frequency_hz=", _set(i2c, "frequency_hz"), bad.not_int_in(1, 1_000_000)),
        Entry("I2cBus.write(address)", lambda b, v: i2c(b).write(v, b"\x00"), bad.not_int_in(0, 0x7F)),
        Entry("I2cBus.write(data)", lambda b, v: i2c(b).write(RTC, v), bad.not_bytes(MAX_MESSAGE)),
        Entry("I2cBus.read(address)", lambda b, v: i2c(b).read(v, 1), bad.not_int_in(0, 0x7F)),
        Entry("I2cBus.read(length)", lambda b, v: i2c(b).read(RTC, v), bad.not_int_in(1, MAX_MESSAGE)),
        Entry("I2cBus.write_read(address)", lambda b, v: i2c(b).write_read(v, b"\x00", 1),
              bad.not_int_in(0, 0x7F)),
        Entry("I2cBus.write_read(data)", lambda b, v: i2c(b).write_read(RTC, v, 1),
              bad.not_bytes(MAX_MESSAGE)),
        Entry("I2cBus.write_read(length)", lambda b, v: i2c(b).write_read(RTC, b"\x00", v),
              bad.not_int_in(1, MAX_MESSAGE)),
        Entry("I2cBus.transfer", lambda b, v: i2c(b).transfer(v), _bad_messages()),
        Entry("I2cMessage.write(address)", lambda b, v: I2cMessage.write(v, b"\x00"),
              bad.not_int_in(0, 0x7F)),
        Entry("I2cMessage.write(data)", lambda b, v: I2cMessage.write(RTC, v),
              bad.not_bytes(MAX_MESSAGE)),
        Entry("I2cMessage.read_of(address)", lambda b, v: I2cMessage.read_of(v, 1),
              bad.not_int_in(0, 0x7F)),
        Entry("I2cMessage.read_of(length)", lambda b, v: I2cMessage.read_of(RTC, v),
              bad.not_int_in(1, MAX_MESSAGE)),
        # SPI
        Entry("SpiDevice.mode=", _set(spi, "mode"), bad.not_int_in(0, 3)),
        Entry("SpiDevice.speed_hz=", _set(spi, "speed_hz"), bad.not_int_in(1, MAX_SPEED_HZ)),
        Entry("SpiDevice.transfer", lambda b, v: spi(b).transfer(v), bad.not_bytes(MAX_TRANSFER)),
        # UART
        Entry("Uart.format=", _set(uart, "format"), _bad_formats()),
        Entry("Uart.baud_rate=", _set(uart, "baud_rate"), bad.not_int_in(1, MAX_BAUD)),
        Entry("Uart.data_bits=", _set(uart, "data_bits"), bad.not_int_in(5, 8)),
        Entry("Uart.parity=", _set(uart, "parity"), bad.not_member(Parity)),
        Entry("Uart.stop_bits=", _set(uart, "stop_bits"), bad.not_int_in(1, 2)),
        Entry("Uart.write", lambda b, v: uart(b).write(v), bad.not_bytes(MAX_IO)),
        Entry("Uart.read(n)", lambda b, v: uart(b).read(v, 0.0), bad.not_int_in(0, MAX_IO)),
        Entry("Uart.read(timeout_s)", lambda b, v: uart(b).read(1, v), bad.not_seconds(1e9)),
        Entry("Uart.send_break", lambda b, v: uart(b).send_break(v),
              bad.not_seconds(10.0, positive=True)),
    ]  # fmt: skip
    return out


@pytest.fixture(scope="module")
def fuzz_board() -> Iterator[RpiBoard]:
    with RpiBoard("local", options={"simulate": True, "board": "mirkopc"}) as b:
        yield b


def test_every_public_driver_entry_refuses_bad_arguments_clearly(fuzz_board: RpiBoard) -> None:
    board = fuzz_board
    entries = _entries(board)

    @fuzz_settings(3000)
    @given(st.data())
    def case(data: st.DataObject) -> None:
        entry = data.draw(st.sampled_from(entries), label="entry")
        value = data.draw(entry.bad, label="value")
        referee(AREA, entry.name, value, lambda: entry.call(board, value), (PihilError,))

    case()
    check(AREA)


def _option_strings() -> st.SearchStrategy[str]:
    """Option strings made of the real keys and values, and of junk, joined by , = ; :."""
    keys = st.sampled_from(
        ["Simulate", "simulate", "Board", "Seed", "QueryInstrStatus", "query_instrument_status",
         "Devices", "DEVICES", "Colour", "", " ", "Sim ulate", "seed\x00"]
    )  # fmt: skip
    values = st.one_of(
        st.sampled_from(["True", "False", "1", "0", "mirkopc", "rpi-4b", "7", "0x10", "-1",
                         "uart0:/dev/ttyUSB0", "uart0", "i2c1:/dev/i2c-1;uart0:", "", "maybe"]),
        st.text(alphabet="=,;: aTrue01x", max_size=6),
    )  # fmt: skip
    pair = st.tuples(keys, st.sampled_from(["=", "", "=="]), values).map("".join)
    return st.lists(pair, max_size=4).map(", ".join) | st.text(max_size=20)


def test_option_strings_never_end_in_a_traceback() -> None:
    """Issue 11: "25,000 fuzzed option strings were all handled cleanly: keep that". An
    option string may be valid (then the board opens, or the Linux backend says what is
    missing on this machine), so only a traceback or a hang counts here."""

    def opened(result: object) -> str | None:
        return None  # a valid option string may open a board

    def open_with(options: str) -> object:
        with RpiBoard("local", options=options) as b:
            return b.board_name

    @fuzz_settings(600)
    @given(_option_strings())
    def case(options: str) -> None:
        referee("options", "RpiBoard(options=<str>)", options, lambda: open_with(options),
                (PihilError,), returned=opened)  # fmt: skip

    case()
    check("options")
