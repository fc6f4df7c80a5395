"""BSC bus timing from the core clock, CDIV and DEL (soc-facts §2 DIV/DEL, §8.2)."""

from __future__ import annotations

import pytest

from pihil_emulator.buses.i2c_master import I2cMessage
from pihil_emulator.buses.i2c_timing import BscTiming, effective_cdiv, linux_divider
from pihil_emulator.errors import ConfigurationError
from pihil_emulator.world.edges import Edge

try:  # tests/ as packages, or as plain directories (rootdir on sys.path)
    from .i2c_rig import PointerTarget, Rig, make_rig
except ImportError:  # pragma: no cover
    from i2c_rig import PointerTarget, Rig, make_rig  # type: ignore[no-redef]


def duration(rig: Rig, msgs: list[I2cMessage]) -> int:
    t0 = rig.world.now_ns
    rig.bsc.transfer(msgs)
    return rig.world.now_ns - t0


@pytest.fixture(params=["transaction", "pin"])
def rig(request: pytest.FixtureRequest) -> Rig:
    r = make_rig("BCM2835")
    r.attach(PointerTarget(0x48))
    r.bsc.level = request.param
    return r


@pytest.mark.parametrize("n", [0, 1, 4, 17])
def test_write_of_n_bytes_takes_nine_bit_times_per_byte(rig: Rig, n: int) -> None:
    """soc-facts §8.2: at CDIV = 2500 (250 MHz → 100 kHz) a bit is 10 µs and a write of N bytes
    takes (1+N)·9 bit times plus START and STOP: exactly (18·(N+1) + 3)·CDIV/2 core clocks."""
    rig.bsc.set_bus_speed(100_000)
    assert rig.bsc.read("DIV") == 2500
    got = duration(rig, [I2cMessage(0x48, False, bytes(n))])
    assert got == (1 + n) * 90_000 + 15_000
    assert got == rig.bsc.timing().ns(rig.bsc.timing().ideal_ticks([n]))


def test_write_then_read_adds_a_repeated_start(rig: Rig) -> None:
    """soc-facts §8.2 and §1.6: a register read (write, Sr, read) costs the two messages' bytes
    and three half periods for the repeated START."""
    rig.bsc.set_bus_speed(100_000)
    got = duration(rig, [I2cMessage(0x48, False, b"\x10"), I2cMessage(0x48, True, 3)])
    assert got == 5_000 * (1 + 18 * 2 + 3 + 18 * 4 + 2)


@pytest.mark.parametrize(("div", "cdiv"), [(2500, 2500), (2501, 2500), (0, 32768), (1, 32768)])
def test_cdiv_is_rounded_down_to_even_and_zero_means_32768(div: int, cdiv: int) -> None:
    """soc-facts §2 DIV: "If CDIV is set to 0, the divisor is 32768. CDIV is always rounded down
    to an even number"."""
    assert effective_cdiv(div) == cdiv
    r = make_rig("BCM2835")
    r.attach(PointerTarget(0x48))
    r.bsc.write("DIV", div)
    r.bsc.write("DEL", (1 << 16) | 1)
    t0 = r.world.now_ns
    r.bsc.write("A", 0x48)
    r.bsc.write("DLEN", 0)
    r.bsc.write("C", (1 << 15) | (1 << 7))
    while not r.bsc.read("S") & 2:
        r.world.run_for(1_000)
    # START + address + STOP = 21 half periods of 4 ns * CDIV/2
    expected = 21 * (cdiv // 2) * 4
    assert expected <= r.world.now_ns - t0 < expected + 1_000


def test_core_clock_is_a_parameter() -> None:
    """soc-facts §2 DIV: the BSC divides the VPU core clock (250 MHz on the Pi, 400 MHz on a
    Pi 3); Linux derives CDIV from the real rate, so 100 kHz stays 100 kHz."""
    r = make_rig("BCM2835", core_clock_hz=400_000_000)
    r.attach(PointerTarget(0x48))
    r.bsc.set_bus_speed(100_000)
    assert r.bsc.read("DIV") == 4000
    assert duration(r, [I2cMessage(0x48, False, b"\x01")]) == 2 * 90_000 + 15_000
    r.bsc.write("DIV", 2500)  # the 250 MHz divider on a 400 MHz clock: 160 kHz
    r.world.run_for(10_000)  # past the bus-free time after the last STOP
    assert duration(r, [I2cMessage(0x48, False, b"\x01")]) == 39 * 1250 * 10 // 4


@pytest.mark.parametrize(
    ("hz", "cdiv", "fedl", "redl"),
    [
        (100_000, 2500, 156, 625),
        (400_000, 626, 39, 156),
        (10_000, 25000, 1562, 6250),
        (3_000_000, 84, 5, 21),
    ],
)
def test_linux_divider(hz: int, cdiv: int, fedl: int, redl: int) -> None:
    """soc-facts §2 (Linux): CDIV = DIV_ROUND_UP(core, rate) made even; FEDL = max(CDIV/16, 1),
    REDL = max(CDIV/4, 1)."""
    d = linux_divider(250_000_000, hz)
    assert (d.cdiv, d.fedl, d.redl) == (cdiv, fedl, redl)
    r = make_rig("BCM2835")
    r.bsc.set_bus_speed(hz)
    assert r.bsc.read("DIV") == cdiv
    assert r.bsc.read("DEL") == (fedl << 16) | redl
    assert r.bsc.bus_speed_hz() == -(-250_000_000 // cdiv)


@pytest.mark.parametrize("hz", [0, -5, 1000, 3814])
def test_linux_divider_out_of_range(hz: int) -> None:
    """soc-facts §2 (Linux): a divider outside 2..0xFFFE is -EINVAL: a clear error here."""
    with pytest.raises(ConfigurationError):
        linux_divider(250_000_000, hz)


def test_fedl_and_redl_place_the_data_edges_at_pin_level() -> None:
    """soc-facts §2 DEL: FEDL core clocks after SCL falls the master puts out the next bit
    (observed on the wire); REDL after it rises it samples (a read of a slave's data)."""
    r = make_rig("BCM2835")
    r.attach(PointerTarget(0x48))
    r.bsc.level = "pin"
    r.bsc.set_bus_speed(100_000)
    edges: list[Edge] = []
    r.sda.watch(lambda n, lv, t: edges.append(Edge(t, "SDA", lv)))
    r.scl.watch(lambda n, lv, t: edges.append(Edge(t, "SCL", lv)))
    r.bsc.transfer([I2cMessage(0x48, False, b"\x00")])
    fedl_ns = 156 * 4
    scl_falls = [e.time_ns for e in edges if e.net == "SCL" and not e.level]
    # the address 0x48<<1 = 0b10010000: the master changes SDA FEDL after a fall, never
    # at other times while SCL is low
    master_sda = [e for e in edges if e.net == "SDA"][1:4]  # after the START
    for e in master_sda:
        assert any(e.time_ns - f == fedl_ns for f in scl_falls)


def test_timing_refuses_delays_of_half_cdiv() -> None:
    """soc-facts §2 DEL: FEDL/REDL of CDIV/2 or more make the BSC malfunction (refused)."""
    with pytest.raises(ConfigurationError, match="CDIV/2"):
        BscTiming(250_000_000, 100, 50, 1, True)
    BscTiming(250_000_000, 100, 49, 49, True)
