"""The Linux i2c-bcm2835 driver on the BSC model: transfers, and errors as Linux reports them
(soc-facts §1.3 return codes, §1.6 message rules, §2 programming sequence)."""

from __future__ import annotations

import pytest

from pihil_emulator.buses.i2c_master import I2cMessage
from pihil_emulator.buses.i2c_target import Stretch, StretchPhase
from pihil_emulator.devices.at24 import At24Eeprom
from pihil_emulator.errors import BusError, ConfigurationError
from pihil_emulator.world.clock import NS_PER_MS, NS_PER_S
from pihil_emulator.world.net import Drive

try:  # tests/ as packages, or as plain directories (rootdir on sys.path)
    from .i2c_rig import PointerTarget, Rig, make_rig
except ImportError:  # pragma: no cover
    from i2c_rig import PointerTarget, Rig, make_rig  # type: ignore[no-redef]


@pytest.fixture(params=["transaction", "pin"])
def level(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def rig_with(
    level: str, variant: str = "BCM2835", **overrides: object
) -> tuple[Rig, PointerTarget]:
    r = make_rig(variant, **overrides)
    t = r.attach(PointerTarget(0x48))
    assert isinstance(t, PointerTarget)
    r.bsc.level = level  # type: ignore[assignment]
    return r, t


def test_register_read_through_a_repeated_start(level: str) -> None:
    """soc-facts §1.6: write the register number, repeated START, read: the EEPROM random read."""
    r = make_rig("BCM2835")
    ee = r.attach(At24Eeprom(0x50, contents=bytes(range(256)) * 16))
    assert isinstance(ee, At24Eeprom)
    r.bsc.level = level  # type: ignore[assignment]
    got = r.bsc.transfer([I2cMessage(0x50, False, b"\x01\x23"), I2cMessage(0x50, True, 5)])
    assert got == [bytes(range(0x23, 0x28))]
    assert r.bsc.last_level == level


def test_long_write_and_read_through_the_fifo(level: str) -> None:
    """soc-facts §2: messages longer than the 16-byte FIFO go through TXW/RXR refills."""
    r, t = rig_with(level)
    data = bytes((7 * i) & 0xFF for i in range(40))
    r.bsc.transfer([I2cMessage(0x48, False, b"\x00" + data)])
    assert bytes(t.mem[:40]) == data
    got = r.bsc.transfer([I2cMessage(0x48, False, b"\x00"), I2cMessage(0x48, True, 40)])
    assert got == [data]


def test_address_nack_is_eremoteio(level: str) -> None:
    """soc-facts §1.3: ERR (no ACK) → -EREMOTEIO; the error names the address and phase."""
    r, _ = rig_with(level)
    with pytest.raises(BusError) as err:
        r.bsc.transfer([I2cMessage(0x49, True, 2)])
    e = err.value
    assert (e.kind, e.errno_name, e.address, e.phase, e.transferred) == (
        "nack",
        "EREMOTEIO",
        0x49,
        "address",
        0,
    )
    assert r.bsc.transfer([I2cMessage(0x48, True, 1)]) == [b"\x00"]  # the bus is fine after


def test_data_nack_reports_bytes_already_transferred(level: str) -> None:
    """soc-facts §2 S.ERR: "the slave fails to acknowledge ... a data byte written to it"."""
    r, t = rig_with(level)
    t.nack_data_after = 3
    with pytest.raises(BusError) as err:
        r.bsc.transfer([I2cMessage(0x48, False, b"\x00\x01\x02\x03\x04\x05")])
    e = err.value
    assert (e.kind, e.errno_name, e.phase, e.transferred) == ("nack", "EREMOTEIO", "data byte 4", 3)
    assert [c for c, _, _ in t.log].count("write") == 4


def test_read_before_the_last_message_is_eopnotsupp() -> None:
    """soc-facts §1.6: "only one read message supported, has to be last" (-EOPNOTSUPP)."""
    r, t = rig_with("transaction")
    with pytest.raises(BusError) as err:
        r.bsc.transfer([I2cMessage(0x48, True, 1), I2cMessage(0x48, False, b"\x00")])
    assert err.value.errno_name == "EOPNOTSUPP"
    assert t.log == []


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((0x80, True, 1), "outside 7 bits"),
        ((-1, True, 1), "outside 7 bits"),
        ((0x48, True, -1), "negative"),
        ((0x48, True, 0x10000), "too long"),
        ((0x48, False, bytes(0x10000)), "too long"),
        ((0x48, True, b"ab"), "length as an int"),
        ((0x48, False, 3), "data as bytes"),
    ],
)
def test_bad_messages_are_refused(args: tuple[int, bool, object], match: str) -> None:
    """Bad input gets a clear error, never a silent truncation (i2c_msg: 7-bit address, u16 len)."""
    with pytest.raises(ConfigurationError, match=match):
        I2cMessage(*args)  # type: ignore[arg-type]


def test_a_bus_not_routed_to_pins_is_an_error() -> None:
    """soc-facts §3.9: I2C1 is on GPIO2/3 only through ALT0; unrouted, the transfer is refused."""
    r, t = rig_with("transaction")
    r.soc.gpio.set_function(3, "input")
    with pytest.raises(BusError) as err:
        r.bsc.transfer([I2cMessage(0x48, True, 1)])
    assert err.value.kind == "not_routed"
    assert "SCL1" in str(err.value)
    assert t.log == []


def test_clkt_fires_on_bcm2711_and_linux_returns_eio(level: str) -> None:
    """soc-facts §8.4: TOUT = 64 and a 1 ms stretch at 100 kHz (> 0.64 ms): S.CLKT sets (2711)
    and the Linux ISR returns -EIO."""
    r, t = rig_with(level, "BCM2711")
    t.stretches = [Stretch(StretchPhase.WRITE_POST_ACK, NS_PER_MS, byte_index=1)]
    r.bsc.set_bus_speed(100_000)
    r.bsc.write("CLKT", 64)
    t0 = r.world.now_ns
    with pytest.raises(BusError) as err:
        r.bsc.transfer([I2cMessage(0x48, False, b"\x00\x01\x02")])
    e = err.value
    assert (e.kind, e.errno_name, e.phase, e.transferred) == ("clkt", "EIO", "write-postACK", 1)
    # it fires 64 SCL periods after the master released SCL for the first bit of byte 2
    release = t0 + 5_000 + 2 * 90_000 + 5_000
    assert r.world.now_ns == release + 64 * 10_000


def test_clkt_zero_disables_the_timeout(level: str) -> None:
    """soc-facts §1.3: "Writing 0x0 to TOUT will result in the Clock Stretch Timeout being
    disabled" (and mainline writes 0 at probe): the fixed BCM2711 then honours the stretch."""
    r, t = rig_with(level, "BCM2711")
    t.stretches = [Stretch(StretchPhase.WRITE_POST_ACK, NS_PER_MS, byte_index=1)]
    r.bsc.transfer([I2cMessage(0x48, False, b"\x00\x01\x02")])
    assert r.bsc.read("CLKT") == 0
    assert t.mem[0:2] == b"\x01\x02"


def test_clkt_does_not_fire_where_the_variant_says_it_does_not_work(level: str) -> None:
    """soc-facts §1.3: CLKT unreliable on BCM283x: modelled as a variant switch."""
    r, t = rig_with(level, "BCM2835", i2c_stretch_bug=False)
    t.stretches = [Stretch(StretchPhase.WRITE_POST_ACK, NS_PER_MS, byte_index=1)]
    r.bsc.set_bus_speed(100_000)
    r.bsc.write("CLKT", 64)
    r.bsc.transfer([I2cMessage(0x48, False, b"\x00\x01\x02")])
    assert t.mem[0:2] == b"\x01\x02"
    r2, t2 = rig_with(level, "BCM2835", i2c_stretch_bug=False, i2c_clkt_functional=True)
    t2.stretches = t.stretches
    r2.bsc.set_bus_speed(100_000)
    r2.bsc.write("CLKT", 64)
    with pytest.raises(BusError, match="clock-stretch"):
        r2.bsc.transfer([I2cMessage(0x48, False, b"\x00\x01\x02")])


def test_whole_transfer_timeout_is_etimedout(level: str) -> None:
    """soc-facts §1.3: "We still have a timeout wrapping the entire transfer": -ETIMEDOUT after
    the adapter timeout (one second) when a slave holds SCL and CLKT is off."""
    r, t = rig_with(level, "BCM2711")
    t.stretches = [Stretch(StretchPhase.READ_PRE_ACK, 3 * NS_PER_S, byte_index=1)]
    t0 = r.world.now_ns
    with pytest.raises(BusError) as err:
        r.bsc.transfer([I2cMessage(0x48, True, 2)])
    assert (err.value.kind, err.value.errno_name) == ("timeout", "ETIMEDOUT")
    assert r.world.now_ns - t0 == NS_PER_S
    r.world.run_for(3 * NS_PER_S)  # the slave lets go; the aborted transfer ends on the wire
    assert not r.bsc.read("S") & 1
    assert [c for c, _, _ in t.log][-2:] == ["ack", "stop"]  # NACK of one more byte, STOP
    t.stretches = []
    assert r.bsc.transfer([I2cMessage(0x48, False, b"\x00"), I2cMessage(0x48, True, 1)]) == [
        b"\x00"
    ]


def test_scl_held_for_good_times_out_and_clear_frees_the_controller(level: str) -> None:
    """soc-facts §1.3: with CLKT off nothing but the adapter timeout ends a hung bus; the
    driver's CLEAR leaves the controller idle (TA = 0) for the next transfer."""
    r, _ = rig_with(level, "BCM2711")
    r.scl.drive("solder bridge", Drive.open_drain_low())
    with pytest.raises(BusError) as err:
        r.bsc.transfer([I2cMessage(0x48, True, 1)])
    assert err.value.errno_name == "ETIMEDOUT"
    r.world.run_for(1_000)
    assert not r.bsc.read("S") & 1
    r.scl.release("solder bridge")
    r.world.run_for(1_000)  # START set-up time after SCL comes up
    assert r.bsc.transfer([I2cMessage(0x48, True, 1)]) == [b"\x00"]


@pytest.mark.parametrize(
    ("variant", "block", "pins", "alt"),
    [
        ("BCM2835", "bsc0", (0, 1), "ALT0"),
        ("BCM2711", "bsc0", (0, 1), "ALT0"),
        ("BCM2711", "bsc3", (4, 5), "ALT5"),
        ("BCM2711", "bsc4", (6, 7), "ALT5"),
        ("BCM2711", "bsc5", (12, 13), "ALT5"),
        ("BCM2711", "bsc6", (22, 23), "ALT5"),
    ],
)
def test_every_controller_works_on_its_pins(
    variant: str, block: str, pins: tuple[int, int], alt: str
) -> None:
    """soc-facts §2 and §3.9: BSC0 on GPIO0/1 (ALT0) on both chips; on the BCM2711 BSC3-6 on
    GPIO4/5, 6/7, 12/13, 22/23 (ALT5)."""
    from pihil_emulator.soc.bsc import BscBlock

    r = make_rig(variant)
    for line in pins:
        r.soc.gpio.set_function(line, alt)
        r.soc.gpio.net(line).drive("jig pull-up", Drive.pull_up(4_700))
    sda, scl = (r.soc.gpio.net(p) for p in pins)
    t = PointerTarget(0x48, fill=0x30)
    r.soc.attachments.attach(t, block, "i2c", {"sda": sda, "scl": scl})
    bsc = r.soc.blocks[block]
    assert isinstance(bsc, BscBlock)
    assert bsc.transfer([I2cMessage(0x48, False, b"\x05"), I2cMessage(0x48, True, 2)]) == [
        b"\x35\x36"
    ]
    r.attach(PointerTarget(0x49))  # on bsc1's pins (GPIO2/3), not on this bus
    with pytest.raises(BusError):
        bsc.transfer([I2cMessage(0x49, True, 1)])


def test_the_driver_disables_clkt_when_it_probes() -> None:
    """soc-facts §1.3 (mainline commit 9495b9b31abe): probe writes CLKT = 0; before the driver
    acts the register holds its reset value 0x40."""
    r, _ = rig_with("transaction", "BCM2711")
    assert r.bsc.read("CLKT") == 0x40
    r.bsc.set_bus_speed(400_000)
    assert r.bsc.read("CLKT") == 0
    assert r.bsc.read("DIV") == 626
    r.bsc.write("CLKT", 64)
    r.bsc.transfer([I2cMessage(0x48, True, 1)])
    assert r.bsc.read("CLKT") == 64  # probed once: a user's setting stays
