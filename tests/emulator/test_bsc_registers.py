"""The BSC registers driven directly, as bare-metal code would (soc-facts §2, §1.3, §1.6, §8.1)."""

from __future__ import annotations

import pytest

from pihil_emulator.buses.i2c_target import Stretch, StretchPhase
from pihil_emulator.errors import RegisterError

try:  # tests/ as packages, or as plain directories (rootdir on sys.path)
    from .i2c_rig import PointerTarget, Rig, make_rig
except ImportError:  # pragma: no cover
    from i2c_rig import PointerTarget, Rig, make_rig  # type: ignore[no-redef]

C_I2CEN, C_INTR, C_INTT, C_INTD, C_ST, C_CLEAR, C_READ = (
    1 << 15,
    1 << 10,
    1 << 9,
    1 << 8,
    1 << 7,
    0b11 << 4,
    1,
)
S_CLKT, S_ERR, S_RXF, S_TXE, S_RXD, S_TXD, S_RXR, S_TXW, S_DONE, S_TA = (
    1 << 9,
    1 << 8,
    1 << 7,
    1 << 6,
    1 << 5,
    1 << 4,
    1 << 3,
    1 << 2,
    1 << 1,
    1,
)
HALF_NS = 3_000  # half an SCL period at the reset divider (CDIV 1500 at 250 MHz)
BYTE_NS = 18 * HALF_NS  # a byte is nine SCL periods (soc-facts §8.2)


def run_to_byte(rig: Rig, t0: int, n: float) -> None:
    """Run to ``n`` data bytes after the address byte of a transfer started at ``t0``."""
    rig.world.run_for(t0 + HALF_NS + int((1 + n) * BYTE_NS) - rig.world.now_ns)


@pytest.fixture
def rig() -> Rig:
    r = make_rig("BCM2835")
    r.attach(PointerTarget(0x48))
    return r


def start(rig: Rig, address: int, *, read: bool, dlen: int, data: bytes = b"") -> None:
    b = rig.bsc
    b.write("A", address)
    b.write("DLEN", dlen)
    for v in data:
        b.write("FIFO", v)
    b.write("C", C_I2CEN | C_ST | (C_READ if read else 0))


def run_until_done(rig: Rig, limit_ns: int = 50_000_000) -> None:
    step = 10_000
    for _ in range(limit_ns // step):
        if rig.bsc.read("S") & S_DONE:
            return
        rig.world.run_for(step)
    raise AssertionError("the transfer did not finish")


def test_reset_values() -> None:
    """soc-facts §8.1 / §2: S = 0x50 (TXD|TXE), DIV = 0x5dc, DEL = 0x00300030, CLKT = 0x40."""
    for variant in ("BCM2835", "BCM2711"):
        b = make_rig(variant).bsc
        assert b.read("C") == 0
        assert b.read("S") == 0x50
        assert b.read("DLEN") == 0
        assert b.read("A") == 0
        assert b.read("DIV") == 0x5DC
        assert b.read("DEL") == 0x0030_0030
        assert b.read("CLKT") == 0x40


def test_bcm2711_has_the_extra_controllers_on_their_pins() -> None:
    """soc-facts §2: BSC3-6 on the BCM2711 only; §3.9: SDA3/SCL3 are GPIO4/5 ALT5."""
    r2835 = make_rig("BCM2835")
    assert "bsc3" not in r2835.soc.blocks
    r = make_rig("BCM2711")
    assert {"bsc3", "bsc4", "bsc5", "bsc6"} <= set(r.soc.blocks)
    r.soc.gpio.set_function(4, "ALT5")
    r.soc.gpio.set_function(5, "ALT5")
    from pihil_emulator.soc.bsc import BscBlock

    bsc3 = r.soc.blocks["bsc3"]
    assert isinstance(bsc3, BscBlock)
    sda, scl = bsc3.nets()
    assert [n.name for n in sda] == ["GPIO4"]
    assert [n.name for n in scl] == ["GPIO5"]


def test_write_transfer_sets_ta_then_done(rig: Rig) -> None:
    """soc-facts §2: TA while the transfer runs, DONE at the end; the target gets the bytes."""
    start(rig, 0x48, read=False, dlen=2, data=b"\x05\xaa")
    assert rig.bsc.read("S") & S_TA
    run_until_done(rig)
    s = rig.bsc.read("S")
    assert s & S_DONE
    assert not s & S_TA
    assert not s & S_ERR
    target = rig.targets[0]
    assert isinstance(target, PointerTarget)
    assert target.mem[5] == 0xAA


def test_done_err_clkt_are_write_one_to_clear(rig: Rig) -> None:
    """soc-facts §2 S: ERR (no ACK) and DONE are W1C; writing 0 leaves them set."""
    start(rig, 0x33, read=False, dlen=1, data=b"\x00")  # nobody at 0x33
    run_until_done(rig)
    b = rig.bsc
    assert b.read("S") & (S_ERR | S_DONE) == S_ERR | S_DONE
    b.write("S", 0)
    assert b.read("S") & (S_ERR | S_DONE) == S_ERR | S_DONE
    b.write("S", S_ERR)
    assert b.read("S") & (S_ERR | S_DONE) == S_DONE
    b.write("S", S_DONE)
    assert not b.read("S") & (S_ERR | S_DONE)


def test_clkt_is_write_one_to_clear() -> None:
    """soc-facts §1.3: S.CLKT set by a stretch past CLKT.TOUT (BCM2711), cleared by writing 1."""
    r = make_rig("BCM2711")
    t = r.attach(PointerTarget(0x48))
    t.stretches = [Stretch(StretchPhase.WRITE_POST_ACK, 2_000_000, byte_index=0)]
    r.bsc.write("CLKT", 4)
    start(r, 0x48, read=False, dlen=1, data=b"\x00")
    run_until_done(r)
    assert r.bsc.read("S") & S_CLKT
    r.bsc.write("S", S_CLKT)
    assert not r.bsc.read("S") & S_CLKT


def test_dlen_reads_remaining_then_zero_then_last_written(rig: Rig) -> None:
    """soc-facts §2 DLEN: TA → bytes still to go; DONE → 0; TA=0 and DONE=0 → last written."""
    b = rig.bsc
    b.write("DLEN", 7)
    assert b.read("DLEN") == 7
    t0 = rig.world.now_ns
    start(rig, 0x48, read=True, dlen=6)
    assert b.read("DLEN") == 6
    run_to_byte(rig, t0, 2.5)
    assert b.read("S") & S_TA
    assert b.read("DLEN") == 4
    run_until_done(rig)
    assert b.read("DLEN") == 0
    b.write("S", S_DONE)
    assert b.read("DLEN") == 6  # "the DLEN field can be left over multiple transfers"


def test_fifo_reads_back_the_read_bytes(rig: Rig) -> None:
    """soc-facts §2: read bytes land in the 16-byte FIFO; RXD while it holds data."""
    target = rig.targets[0]
    assert isinstance(target, PointerTarget)
    target.pointer = 0x20
    start(rig, 0x48, read=True, dlen=3)
    run_until_done(rig)
    b = rig.bsc
    assert b.read("S") & S_RXD
    assert [b.read("FIFO") for _ in range(3)] == [0x20, 0x21, 0x22]
    assert not b.read("S") & S_RXD
    assert b.read("S") & S_TXE


def test_rxr_at_three_quarters_and_rxf_stalls_the_bus(rig: Rig) -> None:
    """soc-facts §2 S: RXR once a read has the FIFO ¾ full (12); RXF at 16, and then "no more
    clocks will be generated until space is available"."""
    target = rig.targets[0]
    assert isinstance(target, PointerTarget)
    b = rig.bsc
    t0 = rig.world.now_ns
    start(rig, 0x48, read=True, dlen=20)
    run_to_byte(rig, t0, 11.5)
    s = b.read("S")
    assert not s & S_RXR
    run_to_byte(rig, t0, 12)
    assert b.read("S") & S_RXR
    run_to_byte(rig, t0, 21)  # long enough for 20 bytes if nothing stalled
    s = b.read("S")
    assert s & S_RXF
    assert s & S_TA
    assert not s & S_DONE
    reads_before = sum(1 for call, _, _ in target.log if call == "read")
    rig.world.run_for(50 * BYTE_NS)
    assert sum(1 for call, _, _ in target.log if call == "read") == reads_before  # stalled
    got = [b.read("FIFO") for _ in range(16)]
    run_until_done(rig)
    got += [b.read("FIFO") for _ in range(4)]
    assert got == list(range(20))


def test_txw_below_a_quarter_and_an_empty_fifo_waits(rig: Rig) -> None:
    """soc-facts §2 S: TXW while a write has the FIFO under ¼ full and needs data; with the FIFO
    empty "it will wait for more data"; "Any writes to a full TX FIFO will be ignored"."""
    b = rig.bsc
    target = rig.targets[0]
    assert isinstance(target, PointerTarget)
    t0 = rig.world.now_ns
    start(rig, 0x48, read=False, dlen=20, data=bytes([0x40, *range(1, 16)]))
    assert not b.read("S") & S_TXD  # 16 bytes: full
    b.write("FIFO", 0xEE)  # ignored
    s = b.read("S")
    assert not s & S_TXW
    run_to_byte(rig, t0, 11.5)  # 12 bytes have left the FIFO (one is on the wire): 4 left
    assert not b.read("S") & S_TXW
    run_to_byte(rig, t0, 12.5)  # the 13th left: 3 in the FIFO
    assert b.read("S") & S_TXW
    run_to_byte(rig, t0, 40)
    s = b.read("S")
    assert s & S_TA
    assert s & S_TXE
    assert not s & S_DONE
    for v in (16, 17, 18, 19):
        b.write("FIFO", v)
    run_until_done(rig)
    assert bytes(target.mem[0x40 : 0x40 + 19]) == bytes(range(1, 20))
    assert 0xEE not in target.mem[0x40:0x54]


def test_txw_is_clear_when_the_fifo_holds_the_rest() -> None:
    """soc-facts §2 S TXW: "(or sufficient data to send)": a short write all in the FIFO
    never asks for more, which the Linux ISR relies on."""
    r = make_rig("BCM2835")
    r.attach(PointerTarget(0x48))
    start(r, 0x48, read=False, dlen=2, data=b"\x01\x02")
    assert not r.bsc.read("S") & S_TXW


def test_st_while_active_gives_a_repeated_start(rig: Rig) -> None:
    """soc-facts §1.6: ST while TA (before the TX bytes are out) sends a repeated START and the
    address with R/W=1 after the write: no STOP between the two."""
    b = rig.bsc
    target = rig.targets[0]
    assert isinstance(target, PointerTarget)
    start(rig, 0x48, read=False, dlen=1, data=b"\x30")
    assert b.read("S") & S_TA
    b.write("A", 0x48)
    b.write("DLEN", 2)
    b.write("C", C_I2CEN | C_ST | C_READ)
    run_until_done(rig)
    calls = [c for c, _, _ in target.log]
    assert calls == ["start", "write", "start", "read", "ack", "read", "ack", "stop"]
    assert [b.read("FIFO") for _ in range(2)] == [0x30, 0x31]


def test_clear_aborts_a_read_with_a_nack_and_stop(rig: Rig) -> None:
    """soc-facts §1.6 (Linux note) and §2 C.CLEAR: clearing the FIFO during a transfer aborts it;
    a read NACKs a byte and sends a STOP."""
    b = rig.bsc
    target = rig.targets[0]
    assert isinstance(target, PointerTarget)
    t0 = rig.world.now_ns
    start(rig, 0x48, read=True, dlen=10)
    run_to_byte(rig, t0, 3.5)
    b.write("C", C_I2CEN | C_CLEAR)
    assert not b.read("S") & S_RXD  # the FIFO is empty at once
    run_until_done(rig)
    acks = [v for c, v, _ in target.log if c == "ack"]
    assert acks[-1] == 0
    assert len(acks) < 10
    assert target.log[-1][0] == "stop"
    assert b.read("DLEN") == 0


def test_st_without_i2cen_does_nothing(rig: Rig) -> None:
    """soc-facts §2 C.I2CEN: "If this bit is 0 then transfers will not be performed"."""
    b = rig.bsc
    b.write("A", 0x48)
    b.write("DLEN", 1)
    b.write("C", C_ST | C_READ)
    rig.world.run_for(10 * BYTE_NS)
    assert not b.read("S") & (S_TA | S_DONE)
    assert rig.targets[0].log == []  # type: ignore[attr-defined]


def test_irq_line_follows_int_enables(rig: Rig) -> None:
    """soc-facts §2 C: INTD interrupts on DONE, INTR on RXR, INTT on TXW."""
    b = rig.bsc
    start(rig, 0x48, read=True, dlen=1)
    run_until_done(rig)
    assert not b.irq_line()
    b.write("C", C_INTD)
    assert b.irq_line()
    b.write("S", S_DONE)
    assert not b.irq_line()


@pytest.mark.parametrize(
    ("reg", "value"),
    [
        ("C", 1 << 6),
        ("C", 1 << 16),
        ("S", 1 << 10),
        ("DLEN", 0x1_0000),
        ("FIFO", 0x100),
        ("DIV", 0x1_0000),
        ("CLKT", 0x1_0000),
    ],
)
def test_reserved_bits_are_refused(rig: Rig, reg: str, value: int) -> None:
    """In strict mode bad input gets a clear error (soc-facts §2 field widths); by default the
    chip's behaviour, ignore and warn (tests/emulator/test_register_policy.py)."""
    rig.soc.register_policy.strict = True
    with pytest.raises(RegisterError, match="reserved"):
        rig.bsc.write(reg, value)


def test_address_register_is_seven_bits(rig: Rig) -> None:
    """soc-facts §2 A: the slave address is bits 6:0."""
    rig.bsc.write("A", 0x7F)
    assert rig.bsc.read("A") == 0x7F
    rig.soc.register_policy.strict = True
    with pytest.raises(RegisterError, match="7 bits"):
        rig.bsc.write("A", 0x80)


def test_del_at_half_cdiv_or_more_is_refused_at_start(rig: Rig) -> None:
    """soc-facts §2 DEL: "it is possible to cause the BSC master to malfunction by setting values
    of CDIV/2 or greater": the model refuses to start rather than guess."""
    b = rig.bsc
    b.write("DEL", (10 << 16) | 750)  # REDL = CDIV/2 with CDIV 1500
    b.write("A", 0x48)
    b.write("DLEN", 0)
    with pytest.raises(Exception, match="CDIV/2"):
        b.write("C", C_I2CEN | C_ST)
