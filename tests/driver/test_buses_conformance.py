"""IVI unit-test procedure for the I2C buses and UARTs, in simulation (see test_conformance)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sim_helpers import exercises, open_sim

from pihil_emulator.errors import BusError as EmuBusError
from rpiboard_pihil import (
    ConfigurationError,
    DeviceErrorCode,
    I2cBusCollection,
    I2cBusId,
    I2cMessage,
    I2cNackError,
    InstrumentStatusError,
    NotSupportedError,
    Parity,
    RpiBoard,
    SelectorError,
    UartCollection,
    UartFormat,
    UartId,
)

RTC, TEMPERATURE, AMP, FAN = 0x68, 0x48, 0x60, 0x2F  # MirkoPC on i2c1 (soc-facts §7.2)


@pytest.fixture(scope="module")
def board() -> Iterator[RpiBoard]:
    b = open_sim("mirkopc")
    yield b
    b.close()


@pytest.fixture(autouse=True)
def _known_state(board: RpiBoard) -> None:
    board.ivi_utility.reset()


# -- I2C ----------------------------------------------------------------------------------------


@exercises(
    "RpiBoard.i2c_buses",
    "RpiBoard.i2c_buses_item",
    "I2cBus.name",
    "I2cBus.number",
    "I2cBus.scan",
    "I2cBus.frequency_hz",
    "I2cBusCollection.resolve",
    "I2cBusCollection.names",
)
def test_every_i2c_bus_by_every_specifier(board: RpiBoard) -> None:
    """IVI Driver Core: one property and one method with each legal instance specifier."""
    buses = board.i2c_buses
    assert isinstance(buses, I2cBusCollection)
    assert set(buses.names) == {"i2c1", "i2c0"}
    expected = {"i2c1": [FAN, TEMPERATURE, AMP, RTC], "i2c0": [0x50]}  # 0x50: the jig's HAT EEPROM
    for name in buses:
        n = int(name[3:])
        bus = buses[name]
        for form in (
            n,
            I2cBusId(n),
            f"I2C{n}",
            f"i2c-{n}",
            name.upper(),
            f"/dev/i2c-{n}",
            f"bsc{n}",
        ):
            assert buses[form] is bus
            assert board.i2c_buses_item(form) is bus
        assert buses.resolve(n) == name
        assert (bus.name, bus.number) == (name, n)
        assert bus.frequency_hz == 100_000  # a property
        assert bus.scan() == expected[name]  # a method


@pytest.mark.parametrize("bad", [2, 10, "i2c3", I2cBusId.I2C6, "spi0", None])
def test_illegal_i2c_specifier(board: RpiBoard, bad: Any) -> None:
    with pytest.raises(SelectorError, match=r"legal names: i2c1, i2c0"):
        board.i2c_buses[bad]


@exercises("I2cBus.write", "I2cBus.read", "I2cBus.write_read", "I2cBus.transfer")
def test_i2c_transfers_on_the_rtc(board: RpiBoard) -> None:
    """PCF8523 at 0x68: register pointer writes, reads, repeated-start reads (soc-facts §1.6)."""
    i2c = board.i2c_buses["i2c1"]
    i2c.write(RTC, b"\x03\x00")  # seconds = 0 (clears OS)
    board.delay(2.0)
    assert i2c.write_read(RTC, b"\x03", 1) == b"\x02"  # BCD seconds after 2 s
    i2c.write(RTC, b"\x03")
    assert i2c.read(RTC, 1) == b"\x02"
    assert (
        i2c.transfer([I2cMessage.write(RTC, b"\x03"), I2cMessage.read_of(RTC, 2)])[0][:1] == b"\x02"
    )
    assert i2c.transfer([I2cMessage.write(RTC, b"\x03")]) == []


def test_i2c_frequency_limits_and_timing(board: RpiBoard) -> None:
    """soc-facts §2: SCL = core_clock / CDIV, CDIV even in 2..65534 (Linux): 3815 Hz is the
    slowest at 250 MHz; the driver takes up to 1 MHz (Fast-mode Plus)."""
    i2c = board.i2c_buses[1]
    for hz in (3815, 400_000, 1_000_000, 100_000):
        i2c.frequency_hz = hz
        assert i2c.frequency_hz == hz
    for bad in (3814, 0, 1_000_001, -1, 1e5, "100000"):
        with pytest.raises(ConfigurationError, match=r"frequency_hz|CDIV"):
            i2c.frequency_hz = bad  # type: ignore[assignment]
    assert i2c.frequency_hz == 100_000  # a refused setting leaves the old one
    t0 = board.now_ns
    i2c.write_read(TEMPERATURE, b"\x00", 2)
    slow = board.now_ns - t0
    i2c.frequency_hz = 400_000
    t0 = board.now_ns
    i2c.write_read(TEMPERATURE, b"\x00", 2)
    assert board.now_ns - t0 < slow / 3  # soc-facts §8.2: the bit time follows the clock


def test_i2c_argument_limits(board: RpiBoard) -> None:
    i2c = board.i2c_buses[1]
    i2c.frequency_hz = 1_000_000  # 65535 bytes at 100 kHz would outlast the 1 s transfer timeout
    assert len(i2c.read(TEMPERATURE, 65535)) == 65535  # the limit is legal
    for bad_address in (-1, 0x80, "0x68", True):
        with pytest.raises(ConfigurationError, match=r"address"):
            i2c.write(bad_address, b"\x00")  # type: ignore[arg-type]
    for bad_length in (0, 65536, -3):
        with pytest.raises(ConfigurationError, match=r"read length must be 1..65535"):
            i2c.read(RTC, bad_length)
    with pytest.raises(ConfigurationError, match=r"65535 one transfer can carry"):
        i2c.write(RTC, bytes(65536))
    with pytest.raises(ConfigurationError, match=r"only one read message, and it has to be last"):
        i2c.transfer([I2cMessage.read_of(RTC, 1), I2cMessage.write(RTC, b"\x03")])
    with pytest.raises(ConfigurationError, match=r"non-empty sequence of I2cMessage"):
        i2c.transfer([])


def test_i2c_nack_carries_what_the_user_needs(board: RpiBoard) -> None:
    """DESIGN: bus errors carry address, phase and bytes transferred; Linux EREMOTEIO."""
    with pytest.raises(I2cNackError) as info:
        board.i2c_buses[1].write(0x33, b"\x01\x02")
    e = info.value
    assert (e.bus, e.kind, e.address, e.phase, e.transferred) == (
        "bsc1",
        "nack",
        0x33,
        "address",
        0,
    )
    assert e.errno_name == "EREMOTEIO"
    assert isinstance(e.__cause__, EmuBusError)


# -- UART ---------------------------------------------------------------------------------------


@exercises(
    "RpiBoard.uarts",
    "RpiBoard.uarts_item",
    "Uart.name",
    "Uart.number",
    "Uart.kind",
    "Uart.baud_rate",
    "Uart.write",
    "Uart.read",
    "UartCollection.resolve",
    "UartCollection.names",
)
def test_every_uart_by_every_specifier(board: RpiBoard) -> None:
    """MirkoPC: uart0 (PL011) on GPIO14/15 with the jig's TXD-RXD loopback wire."""
    uarts = board.uarts
    assert isinstance(uarts, UartCollection)
    assert uarts.names == ("uart0",)
    u = uarts["uart0"]
    for form in (0, UartId.UART0, "UART0", "Uart0", "/dev/ttyAMA0"):
        assert uarts[form] is u
        assert board.uarts_item(form) is u
    assert uarts.resolve(0) == "uart0"
    assert (u.name, u.number, u.kind) == ("uart0", 0, "pl011")
    assert u.baud_rate == 115_200
    u.write(b"hello\n")
    assert u.read(6, 0.01) == b"hello\n"


@pytest.mark.parametrize("bad", [1, "uart1", UartId.UART5, "serial0", -1])
def test_illegal_uart_specifier(board: RpiBoard, bad: Any) -> None:
    with pytest.raises(SelectorError, match=r"legal names: uart0"):
        board.uarts[bad]


@exercises("Uart.format", "Uart.data_bits", "Uart.parity", "Uart.stop_bits")
def test_uart_line_settings_each_value_and_limits(board: RpiBoard) -> None:
    """soc-facts §4.2: PL011 5-8 data bits, even/odd/stick/no parity, 1 or 2 stop bits."""
    u = board.uarts[0]
    for baud in (9600, 115_200, 3_000_000):
        u.baud_rate = baud
        assert u.baud_rate == baud
    for bits in (5, 6, 7, 8):
        u.data_bits = bits
        assert u.data_bits == bits
    for parity in Parity:
        u.parity = parity
        assert u.parity is parity
    for stop in (1, 2):
        u.stop_bits = stop
        assert u.stop_bits == stop
    u.format = UartFormat(57_600, 7, Parity.EVEN, 2)
    assert u.format == UartFormat(57_600, 7, Parity.EVEN, 2)
    u.write(b"\x41\x42")
    assert u.read(2, 0.01) == b"\x41\x42"


def test_uart_illegal_settings(board: RpiBoard) -> None:
    u = board.uarts[0]
    for bad_baud in (0, 31_250_001, "9600", 1.5):
        with pytest.raises(ConfigurationError, match=r"baud_rate"):
            u.baud_rate = bad_baud  # type: ignore[assignment]
    for bad_bits in (4, 9):
        with pytest.raises(ConfigurationError, match=r"data_bits must be 5..8"):
            u.data_bits = bad_bits
    for bad_stop in (0, 3):
        with pytest.raises(ConfigurationError, match=r"stop_bits must be 1..2"):
            u.stop_bits = bad_stop
    with pytest.raises(ConfigurationError, match=r"Parity.NONE, Parity.EVEN"):
        u.parity = "E"  # type: ignore[assignment]
    with pytest.raises(ConfigurationError, match=r"takes a UartFormat"):
        u.format = (9600, 8, "N", 1)  # type: ignore[assignment]
    for bad_n, bad_t in ((-1, 0.1), (2, -0.1), (2, "1")):
        with pytest.raises(ConfigurationError):
            u.read(bad_n, bad_t)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"send_break\(duration_s\)"):
        u.send_break(11)
    with pytest.raises(ConfigurationError, match=r"a break lasts a positive time"):
        u.send_break(0)


def test_mini_uart_refuses_what_it_cannot_do() -> None:
    """soc-facts §4.2: the mini UART has 7 or 8 data bits, no parity, one stop bit."""
    with open_sim("rpi-4b") as b:
        u = b.uarts["uart1"]
        assert u.kind == "mini"
        for kwargs in ({"parity": Parity.EVEN}, {"stop_bits": 2}, {"data_bits": 6}):
            with pytest.raises(NotSupportedError, match=r"mini UART: 7 or 8 data bits"):
                u.format = UartFormat(**kwargs)


@exercises("Uart.in_waiting", "Uart.discard_input", "Uart.flush", "Uart.send_break")
def test_uart_buffers_and_break(board: RpiBoard) -> None:
    """soc-facts §4.2: a break loads one 0x00 with BE set: a device error (UART_BREAK)."""
    u = board.uarts[0]
    u.write(b"abc")
    u.flush()
    board.delay(0.001)
    assert u.in_waiting == 3
    u.discard_input()
    assert u.in_waiting == 0
    assert u.read(1, 0.001) == b""
    u.send_break(0.001)
    board.delay(0.001)
    errors = board.ivi_utility.error_query_all()
    assert [e.code for e in errors] == [DeviceErrorCode.UART_BREAK]


def test_query_instrument_status_raises_the_board_errors(board: RpiBoard) -> None:
    """IVI Driver Core: with Query Instrument Status on, a call reports the device's errors."""
    u = board.uarts[0]
    util = board.ivi_utility
    util.query_instrument_status_enabled = True

    def break_and_wait() -> None:
        u.send_break(0.001)
        board.delay(0.001)

    try:
        with pytest.raises(InstrumentStatusError) as info:
            break_and_wait()
        assert [e.code for e in info.value.errors] == [DeviceErrorCode.UART_BREAK]
        first = util.error_query()
        assert first is not None
        assert first.code == DeviceErrorCode.UART_BREAK
        assert util.error_query() is None
        board.delay(0.001)  # no new error: no exception
    finally:
        util.query_instrument_status_enabled = False
    u.send_break(0.001)
    board.delay(0.001)  # off: nothing raised, but queued
    with pytest.raises(InstrumentStatusError, match=r"1 error"):
        util.raise_on_device_error()
    util.raise_on_device_error()  # the queue was emptied
