"""The SPI bus engine on raw nets: modes, edges, selection, MISO resolution (soc-facts §4.1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pihil_emulator.buses.spi_bus import SpiBus, SpiClock, SpiPins, effective_divisor
from pihil_emulator.buses.spi_master import SpiMaster
from pihil_emulator.buses.spi_target import MisoBits, SpiTarget
from pihil_emulator.errors import ConfigurationError, ElectricalFault
from pihil_emulator.world.clock import World
from pihil_emulator.world.edges import Edge
from pihil_emulator.world.net import Circuit, Drive, Net, NetKind


class ShiftRegister(SpiTarget):
    """A plain SPI shift register: answers each byte with the byte received before it."""

    model = "shift-register"

    def __init__(self, name: str, modes: frozenset[int] = frozenset({0}), mode: int = 0) -> None:
        super().__init__(name)
        self.modes = modes
        self.mode = mode
        self.got = bytearray()
        self.last = 0xA5

    def exchange(self, mosi: int) -> int:
        out, self.last = self.last, mosi
        self.got.append(mosi)
        return out


class Rig:
    def __init__(self, *, pull: str | None = "down") -> None:
        self.world = World(seed=9)
        self.c = Circuit(self.world)
        self.sclk, self.mosi, self.miso, self.cs0, self.cs1 = (
            self.c.add_net(n, NetKind.GPIO) for n in ("SCLK", "MOSI", "MISO", "CS0", "CS1")
        )
        if pull == "down":
            self.miso.drive("pull", Drive.pull_down(50_000))
        elif pull == "up":
            self.miso.drive("pull", Drive.pull_up(50_000))
        self.bus = SpiBus(self.world, "spi")
        self.master = SpiMaster(
            self.bus,
            sclk=self.sclk,
            mosi=self.mosi,
            miso=self.miso,
            cs=[self.cs0, self.cs1],
            sclk_hz=1_000_000,
        )

    def add(self, dev: SpiTarget, cs: Net | None = None, *, miso: bool = True) -> SpiTarget:
        self.bus.attach(
            dev,
            cs=cs or self.cs0,
            sclk=self.sclk,
            mosi=self.mosi,
            miso=self.miso if miso else None,
        )
        return dev


def decode(edges: list[Edge], mode: int, clk: str, data: str, initial: bool) -> bytes:
    """An independent reading of soc-facts §4.1's CPHA text: CPHA = 0 samples at the first SCLK
    transition of a bit (the one away from the CPOL rest level), CPHA = 1 at the second."""
    cpol, cpha = mode >> 1, mode & 1
    level = {clk: bool(cpol), data: initial}
    bits: list[int] = []
    for t in sorted({e.time_ns for e in edges}):
        now = [e for e in edges if e.time_ns == t]
        # data seen at a clock edge is the level before any change at the same instant
        data_before = level[data]
        for e in now:
            level[e.net] = e.level
        clock_edges = [e for e in now if e.net == clk]
        if clock_edges:
            away_from_rest = clock_edges[-1].level != bool(cpol)
            if away_from_rest == (cpha == 0):
                bits.append(int(data_before))
    assert len(bits) % 8 == 0
    return bytes(int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8))


@given(mode=st.integers(0, 3), data=st.binary(min_size=1, max_size=12))
def test_modes_sample_and_shift_on_the_right_edges(mode: int, data: bytes) -> None:
    """soc-facts §4.1: CPOL is the SCLK rest level; CPHA = 0: "First SCLK transition at middle of
    data bit", CPHA = 1: "at beginning of data bit". MOSI and MISO read back at the sampling
    edges give the bytes sent and received."""
    rig = Rig()
    dev = rig.add(ShiftRegister("sr", modes=frozenset({0, 1, 2, 3})))
    rig.sclk.drive("spi-master", Drive.push_pull(bool(mode >> 1)))
    rig.cs0.drive("spi-master", Drive.push_pull(False))
    clock = SpiClock(250_000_000, 26, gap_sclk_cycles=1)
    pins = SpiPins([rig.sclk], [rig.mosi], rig.miso)
    run = rig.bus.run(
        data, t0_ns=100, clock=clock, mode=mode, pins=pins, mosi_before=False, record=True
    )
    sclk_edges = [e for e in run.edges if e.net == "SCLK"]
    assert len(sclk_edges) == 16 * len(data)
    assert sclk_edges[-1].level == bool(mode >> 1)  # back at rest
    assert decode(run.edges, mode, "SCLK", "MOSI", False) == data == bytes(dev.got)  # type: ignore[attr-defined]
    assert decode(run.edges, mode, "SCLK", "MISO", False) == run.rx
    assert run.rx == bytes([0xA5]) + data[:-1]
    # timing: 8 bit cells of 26 core cycles (104 ns) per byte, one idle SCLK period between bytes
    assert run.end_ns == 100 + (len(data) * 9 - 1) * 104


def test_divisor_rules() -> None:
    """soc-facts §4.1: "If CDIV is set to 0, the divisor is 65536 ... Odd numbers rounded down"."""
    assert effective_divisor(0) == 65536
    assert effective_divisor(2) == 2
    assert effective_divisor(27) == 26
    with pytest.raises(ConfigurationError, match="16-bit"):
        effective_divisor(70000)
    with pytest.raises(ConfigurationError, match="even"):
        SpiClock(250_000_000, 3)


def test_device_in_another_mode_sees_shifted_bits() -> None:
    """A mode-0 device clocked in mode 1 samples on the rising edge where the master launches the
    next bit, so it sees each bit one clock late; in mode 2 it reads right but its answer reaches
    the master one bit late [I, hold-time rule]; mode 3 shares mode 0's sampling edge and works."""
    rig = Rig()
    dev = rig.add(ShiftRegister("sr", modes=frozenset({0}), mode=0))
    assert isinstance(dev, ShiftRegister)
    data = bytes([0b1000_0001, 0b0100_0010, 0xFF])
    rig.master.transfer(data, mode=3)
    assert bytes(dev.got) == data
    dev.got.clear()
    dev.last = 0x00
    rig.master.transfer(data, mode=1)
    # every bit one clock late; the first bit is the MOSI level before the transfer (1: 0xFF's LSB)
    stream = int.from_bytes(data, "big") >> 1 | 1 << (8 * len(data) - 1)
    assert bytes(dev.got) == stream.to_bytes(len(data), "big")
    dev.got.clear()
    dev.last = 0b1100_0011
    rx = rig.master.transfer(data, mode=2)
    assert bytes(dev.got) == data
    # the master samples each device bit one clock late (the first one twice: the device shifts
    # only after it has sampled): 0b1100_0011 then the bytes sent, one bit later
    answer = int.from_bytes(bytes([0b1100_0011]) + data[:-1], "big")
    late = answer >> 1 | 1 << (8 * len(data) - 1)
    assert rx == late.to_bytes(len(data), "big")


def test_only_the_selected_device_answers() -> None:
    """Issue 4: "a device on CE1 does not see a transfer addressed to CE0"."""
    rig = Rig()
    a = rig.add(ShiftRegister("a"), rig.cs0)
    b = rig.add(ShiftRegister("b"), rig.cs1)
    assert rig.master.transfer(b"\x11\x22", cs=1) == b"\xa5\x11"
    assert bytes(b.got) == b"\x11\x22"  # type: ignore[attr-defined]
    assert a.got == bytearray()  # type: ignore[attr-defined]


def test_two_selected_devices_fighting_on_miso_is_an_electrical_fault() -> None:
    """DESIGN "Nets and electrical rules": two drivers fighting raise ElectricalFault, naming both."""
    rig = Rig()
    rig.add(ShiftRegister("a"), rig.cs0)
    b = rig.add(ShiftRegister("b"), rig.cs0)
    assert isinstance(b, ShiftRegister)
    b.last = 0x5A
    with pytest.raises(ElectricalFault, match="contention on MISO") as err:
        rig.master.transfer(b"\x00")
    assert err.value.drivers == ("a", "b")


def test_partly_driven_byte_reads_the_pull_elsewhere() -> None:
    """A device driving only some bits (MisoBits) leaves the others to the MISO pull."""

    class Half(SpiTarget):
        modes = frozenset({0})

        def exchange(self, mosi: int) -> MisoBits:
            return MisoBits(0x00, 0x0F)

    up = Rig(pull="up")
    up.add(Half("half"))
    assert up.master.transfer(b"\x00") == b"\xf0"
    down = Rig(pull="down")
    down.add(Half("half"))
    assert down.master.transfer(b"\x00") == b"\x00"


def test_floating_miso_keeps_its_last_level() -> None:
    """Nets: a floating node keeps its last level, so an undriven, unpulled MISO reads that."""
    rig = Rig(pull=None)
    rig.miso.drive("probe", Drive.push_pull(True))
    rig.miso.release("probe")
    assert rig.miso.floating
    assert rig.master.transfer(b"\x00\x00") == b"\xff\xff"


def test_instrument_on_miso_is_read_and_fights_a_device() -> None:
    """A hard source on MISO sets what the master reads; a device driving against it is contention."""
    rig = Rig()
    rig.miso.drive("bench source", Drive.source(3.3))
    assert rig.master.transfer(b"\x00") == b"\xff"
    rig.add(ShiftRegister("sr"))
    with pytest.raises(ElectricalFault, match="bench source"):
        rig.master.transfer(b"\x00")


def test_device_without_mosi_sees_its_own_line() -> None:
    """A device whose data input is not on the master's MOSI node sees its own net's level."""
    rig = Rig()
    own = rig.c.add_net("DEV_DI", NetKind.SIGNAL)
    own.drive("tie", Drive.push_pull(True))
    dev = ShiftRegister("sr")
    rig.bus.attach(dev, cs=rig.cs0, sclk=rig.sclk, mosi=own, miso=rig.miso)
    rig.master.transfer(b"\x00\x12")
    assert bytes(dev.got) == b"\xff\xff"


def test_device_off_the_clock_is_not_clocked() -> None:
    """A selected device whose SCLK pin is not on the master's SCLK node sees no clock."""
    rig = Rig()
    other = rig.c.add_net("OTHER_SCLK", NetKind.SIGNAL)
    dev = ShiftRegister("sr")
    rig.bus.attach(dev, cs=rig.cs0, sclk=other, mosi=rig.mosi, miso=rig.miso)
    assert rig.master.transfer(b"\x12") == b"\x00"
    assert dev.got == bytearray()
    rig.c.connect(other, rig.sclk)  # a jumper puts it on the clock
    assert rig.master.transfer(b"\x12") == b"\xa5"


def test_device_cannot_sit_on_two_buses() -> None:
    rig = Rig()
    dev = rig.add(ShiftRegister("sr"))
    other = SpiBus(rig.world, "spi-other")
    with pytest.raises(ConfigurationError, match="already on spi"):
        other.attach(dev, cs=rig.cs1, sclk=rig.sclk)
