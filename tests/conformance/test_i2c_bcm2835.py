"""i2c-bcm2835 register sequences against the BSC model.

Source: raspberrypi/linux drivers/i2c/busses/i2c-bcm2835.c (commit 0139aaed, the RPi fork):
- ``bcm2835_i2c_probe`` → ``clk_set_rate_exclusive`` → ``clk_bcm2835_i2c_set_rate``: DIV from
  ``clk_bcm2835_i2c_calc_divider`` (DIV_ROUND_UP, made even, 2..0xFFFE), DEL = FEDL << 16 | REDL
  with ``fedl = max(divider / 16, 1)``, ``redl = max(divider / 4, 1)``, CLKT = ``clk_tout_ms *
  rate / 1000`` (35 ms), then probe writes ``CLKT = 0`` ("Disable the hardware clock
  stretching timeout") and ``C = 0``.
- ``bcm2835_i2c_xfer`` / ``bcm2835_i2c_start_transfer`` / ``bcm2835_i2c_isr``: the fork's ISR
  records CLKT|ERR only ``if (err && !(val & BCM2835_I2C_S_TA))`` and completes on DONE; the
  mainline ISR (torvalds/linux, ported in tests/emulator/test_bsc_nack_restart.py as
  ``LinuxIsr``) completes on any CLKT|ERR. Both are replayed. Returns: ``num`` on success,
  ``-EREMOTEIO`` for ERR, ``-EIO`` for CLKT or a length error, ``-ETIMEDOUT`` (soc-facts §1.3).

The interrupt line is the block's ``irq_line()``; the "CPU" takes it 1 µs after it rises
(``LinuxIsr.xfer``). Every sequence is recorded to VCD and decoded with sigrok-cli's i2c
decoder (tests/emulator/test_i2c_vcd.py ``decode`` / ``expected``).
"""

from __future__ import annotations

import errno
import itertools
from pathlib import Path

import pytest

from pihil_emulator.buses.i2c_master import I2cMessage
from pihil_emulator.buses.i2c_target import Stretch, StretchPhase
from pihil_emulator.soc.bsc import BscBlock
from pihil_emulator.vcd import VcdRecorder
from pihil_emulator.world.clock import NS_PER_MS

from ..emulator.i2c_rig import PointerTarget, Rig, make_rig
from ..emulator.test_bsc_nack_restart import S_LEN, LinuxIsr
from ..emulator.test_i2c_vcd import decode, expected, needs_sigrok

# the driver's own BCM2835_I2C_S_* (not the model's constants)
S_TA, S_DONE, S_TXW, S_RXR, S_TXD, S_RXD, S_TXE = (1 << b for b in range(7))
S_ERR, S_CLKT = 1 << 8, 1 << 9
CDIV_MIN, CDIV_MAX = 0x0002, 0xFFFE  # BCM2835_I2C_CDIV_MIN / _MAX
CLK_TOUT_MS = 35  # "SMBUs-recommended 35ms"


def calc_divider(rate: int, parent_rate: int) -> int:
    """clk_bcm2835_i2c_calc_divider: -EINVAL outside 2..0xFFFE."""
    divider = -(-parent_rate // rate)
    if divider & 1:
        divider += 1
    if divider < CDIV_MIN or divider > CDIV_MAX:
        return -errno.EINVAL
    return divider


def set_rate(bsc: BscBlock, rate: int, parent_rate: int) -> int:
    """clk_bcm2835_i2c_set_rate, register for register; returns 0 or -EINVAL."""
    divider = calc_divider(rate, parent_rate)
    if divider == -errno.EINVAL:
        return -errno.EINVAL
    bsc.write("DIV", divider)
    fedl = max(divider // 16, 1)
    redl = max(divider // 4, 1)
    bsc.write("DEL", (fedl << 16) | redl)
    clk_tout = 0xFFFF if rate > 0xFFFF * 1000 // CLK_TOUT_MS else CLK_TOUT_MS * rate // 1000
    bsc.write("CLKT", clk_tout)
    return 0


def probe(bsc: BscBlock, bus_clk_rate: int = 100_000) -> int:
    """bcm2835_i2c_probe's register writes (the clock-frequency property, or 100 kHz)."""
    ret = set_rate(bsc, bus_clk_rate, bsc.soc.variant.core_clock_hz)
    if ret < 0:
        return ret
    bsc.write("CLKT", 0)
    bsc.write("C", 0)
    return 0


class RpiForkIsr(LinuxIsr):
    """The raspberrypi/linux ``bcm2835_i2c_isr``: an error is kept only once TA has dropped,
    and the transfer completes on DONE (not on the error itself)."""

    def isr(self) -> None:
        val = self.bsc.read("S")
        self.log.append(f"isr S={val:#x}")
        err = val & (S_CLKT | S_ERR)
        if err and not val & S_TA:
            self.msg_err = err
        if val & S_DONE:
            if self.msgs[self.curr].read:
                self.drain_rxfifo()
                val = self.bsc.read("S")
            if val & S_RXD or self.remaining:
                self.msg_err = S_LEN
            return self.complete()
        if val & S_TXW:
            if not self.remaining:
                self.msg_err = val | S_LEN
                return self.complete()
            self.fill_txfifo()
            if self.num_msgs and not self.remaining:
                self.curr += 1
                self.start_transfer()
            return None
        if val & S_RXR:
            if not self.remaining:
                self.msg_err = val | S_LEN
                return self.complete()
            self.drain_rxfifo()
        return None


ISRS = {"rpi": RpiForkIsr, "mainline": LinuxIsr}
NACK_ERRNO = {"mainline": -errno.EREMOTEIO, "rpi": -errno.EIO}
"""What each ISR returns for a NACK that leaves bytes unsent: mainline completes on S.ERR
(-EREMOTEIO); the fork keeps ERR, then on DONE overwrites ``msg_err`` with S_LEN because
``msg_buf_remaining`` (a read) or S.RXD (unsent write bytes still in the one shared FIFO: RXD
"FIFO contains at least 1 byte", BCM2711-DS §3.2) is set, so it returns -EIO."""


@pytest.fixture(params=sorted(ISRS))
def isr_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def probed_rig(variant: str = "BCM2835", rate: int = 100_000) -> tuple[Rig, PointerTarget]:
    r = make_rig(variant)
    t = r.attach(PointerTarget(0x48, fill=0x30))
    assert isinstance(t, PointerTarget)
    assert probe(r.bsc, rate) == 0
    return r, t


def replay(
    r: Rig, kind: str, msgs: list[I2cMessage], path: Path
) -> tuple[int, LinuxIsr, list[str]]:
    """bcm2835_i2c_xfer on ``msgs`` inside a recording; (return value, ISR state, sigrok lines).
    Only for tests marked ``needs_sigrok``."""
    isr = ISRS[kind](r.bsc, msgs)
    with VcdRecorder(r.world, path, [r.sda, r.scl]):
        r.world.run_for(10_000)
        ret = isr.xfer(r)
        r.world.run_for(20_000)
    return (len(msgs) if ret == 0 else ret), isr, decode(path, "GPIO2", "GPIO3")


def test_probe_programs_div_del_and_disables_clkt() -> None:
    """clk_bcm2835_i2c_set_rate at 100 kHz on the 250 MHz core: DIV 2500, FEDL 156, REDL 625,
    CLKT 3500 (35 ms) and then 0 from probe; C 0; S keeps its reset TXD|TXE."""
    r = make_rig("BCM2835")
    assert r.bsc.read("CLKT") == 0x40  # reset value, soc-facts §1.3
    assert r.bsc.read("DIV") == 0x5DC
    seen: list[tuple[str, int]] = []
    write = r.bsc.write

    def spy(reg: str | int, value: int) -> None:
        seen.append((str(reg), value))
        write(reg, value)

    r.bsc.write = spy  # type: ignore[method-assign,assignment]
    assert probe(r.bsc) == 0
    assert seen == [
        ("DIV", 2500),
        ("DEL", (156 << 16) | 625),
        ("CLKT", 3500),
        ("CLKT", 0),
        ("C", 0),
    ]
    assert r.bsc.read("DIV") == 2500
    assert r.bsc.read("DEL") == (156 << 16) | 625
    assert r.bsc.read("CLKT") == 0
    assert r.bsc.read("C") == 0
    assert r.bsc.read("S") == S_TXD | S_TXE
    assert not r.bsc.irq_line()
    assert r.bsc.bus_speed_hz() == 100_000  # clk_bcm2835_i2c_recalc_rate


@pytest.mark.parametrize(
    ("rate", "div", "fedl", "redl", "clkt"),
    [
        (100_000, 2500, 156, 625, 3500),
        (400_000, 626, 39, 156, 14000),
        (10_000, 25000, 1562, 6250, 350),
        (3_000_000, 84, 5, 21, 0xFFFF),  # rate > 0xffff*1000/35: CLKT saturates
    ],
)
def test_set_rate_register_values(rate: int, div: int, fedl: int, redl: int, clkt: int) -> None:
    r = make_rig("BCM2835")
    assert set_rate(r.bsc, rate, 250_000_000) == 0
    assert (r.bsc.read("DIV"), r.bsc.read("DEL"), r.bsc.read("CLKT")) == (
        div,
        (fedl << 16) | redl,
        clkt,
    )


def test_set_rate_refuses_a_divider_out_of_range_and_leaves_the_registers() -> None:
    """calc_divider: above 0xFFFE is -EINVAL and nothing is written (a rate above the parent's
    gives divider 1, made even: 2, the floor, so the lower bound is never hit)."""
    r = make_rig("BCM2835")
    assert set_rate(r.bsc, 3_000, 250_000_000) == -errno.EINVAL  # 83334 > 0xFFFE
    assert r.bsc.read("DIV") == 0x5DC
    assert set_rate(r.bsc, 300_000_000, 250_000_000) == 0
    assert r.bsc.read("DIV") == 2


@pytest.mark.parametrize(
    ("rate", "period_ns", "fedl_ns"), [(100_000, 10_000, 624), (400_000, 2_504, 156)]
)
def test_the_probed_div_and_del_are_the_scl_timing_on_the_wire(
    rate: int, period_ns: int, fedl_ns: int
) -> None:
    """What set_rate programs is what the pins do: SCL rises every DIV core clocks (2500 or 626
    at 250 MHz, soc-facts §2 "SCL = core_clock / CDIV") and the master changes SDA FEDL clocks
    after SCL falls (156 or 39 clocks: 624 or 156 ns; DEL "wait after the falling edge of SCL
    before outputting next bit of data"); the slave's ACK moves SDA at the falling edge."""
    r, _ = probed_rig(rate=rate)
    r.bsc.level = "pin"
    edges: list[tuple[str, bool, int]] = []
    r.scl.watch(lambda _n, level, t: edges.append(("scl", level, t)))
    r.sda.watch(lambda _n, level, t: edges.append(("sda", level, t)))
    assert LinuxIsr(r.bsc, [I2cMessage(0x48, False, b"\x5a\xa5")]).xfer(r) == 0
    rises = [t for k, level, t in edges if k == "scl" and level]
    falls = [t for k, level, t in edges if k == "scl" and not level]
    assert len(rises) == 28  # 3 bytes of 9 clocks, then SCL up for the STOP
    assert {b - a for a, b in itertools.pairwise(rises)} == {period_ns}
    after_fall = set()
    for t in (t for k, _level, t in edges if k == "sda"):
        before = [f for f in falls if f <= t]
        if before and t - before[-1] < period_ns // 2:
            after_fall.add(t - before[-1])
    assert after_fall == {0, fedl_ns}


@needs_sigrok
def test_write(tmp_path: Path, isr_kind: str) -> None:
    """A 5-byte register write: TXW refills, DONE completes, return num; the device has it."""
    r, t = probed_rig()
    msgs = [I2cMessage(0x48, False, b"\x10\x01\x02\x03\x04")]
    ret, isr, lines = replay(r, isr_kind, msgs, tmp_path / "w.vcd")
    assert ret == 1
    assert isr.msg_err == 0
    assert bytes(t.mem[0x10:0x14]) == b"\x01\x02\x03\x04"
    assert lines == expected(msgs, [])
    assert r.bsc.read("S") & (S_TA | S_DONE | S_ERR) == 0  # the ISR cleared DONE (W1C)
    assert not r.bsc.irq_line()


@needs_sigrok
def test_read_longer_than_the_fifo(tmp_path: Path, isr_kind: str) -> None:
    """A 20-byte read: RXR drains at 3/4 full, DONE drains the rest; the buffer is the device's."""
    r, t = probed_rig()
    t.pointer = 0x20
    msgs = [I2cMessage(0x48, True, 20)]
    ret, isr, lines = replay(r, isr_kind, msgs, tmp_path / "r.vcd")
    assert ret == 1
    want = bytes(range(0x50, 0x64))
    assert bytes(isr.read) == want
    assert lines == expected(msgs, [want])
    assert any("isr S=" in e and int(e.split("=")[1], 16) & S_RXR for e in isr.log)  # RXR seen


@needs_sigrok
def test_write_then_read_through_a_repeated_start(tmp_path: Path, isr_kind: str) -> None:
    """The TXW interrupt of the first message starts the second (C.ST while TA): Sr, not P+S."""
    r, _ = probed_rig()
    msgs = [I2cMessage(0x48, False, b"\x05"), I2cMessage(0x48, True, 3)]
    ret, isr, lines = replay(r, isr_kind, msgs, tmp_path / "wr.vcd")
    assert ret == 2
    assert bytes(isr.read) == b"\x35\x36\x37"
    assert lines == expected(msgs, [b"\x35\x36\x37"])
    assert isr.log[:3] == ["start msg 0", f"isr S={S_TXW | S_TXD | S_TXE | S_TA:#x}", "start msg 1"]


@needs_sigrok
def test_address_nack_is_eremoteio(tmp_path: Path, isr_kind: str) -> None:
    """S.ERR on the address: -EREMOTEIO within microseconds (not the 1 s adapter timeout);
    the driver's complete() leaves S clean and the line low."""
    r, _ = probed_rig()
    t0 = r.world.now_ns
    msgs = [I2cMessage(0x21, True, 2)]
    ret, isr, lines = replay(r, isr_kind, msgs, tmp_path / "nack.vcd")
    assert ret == NACK_ERRNO[isr_kind]
    assert isr.msg_err == (S_ERR if isr_kind == "mainline" else S_LEN)
    assert isr.log[1] == f"isr S={S_ERR | S_TXE | S_TXD | S_DONE:#x}"  # TA 0: the fork keeps ERR
    assert r.world.now_ns - t0 < 500_000
    assert lines == expected(msgs, [], nack_address=True)
    assert r.bsc.read("S") & (S_ERR | S_DONE | S_TA) == 0
    assert not r.bsc.irq_line()


@needs_sigrok
def test_data_nack_is_eremoteio(tmp_path: Path, isr_kind: str) -> None:
    r, t = probed_rig()
    t.nack_data_after = 2
    msgs = [I2cMessage(0x48, False, b"\x00\x11\x22\x33")]
    ret, isr, lines = replay(r, isr_kind, msgs, tmp_path / "dnack.vcd")
    assert ret == NACK_ERRNO[isr_kind]
    assert isr.log[-1] == f"isr S={S_ERR | S_RXD | S_TXD | S_DONE:#x}"  # byte 4 left in the FIFO
    # the decoder sees the address, two ACKed bytes, the NACKed third and the STOP
    assert lines == [
        "Start",
        "Write",
        "Address write: 48",
        "ACK",
        "Data write: 00",
        "ACK",
        "Data write: 11",
        "ACK",
        "Data write: 22",
        "NACK",
        "Stop",
    ]


@needs_sigrok
def test_clock_stretch_timeout_is_eio_on_the_bcm2711(tmp_path: Path, isr_kind: str) -> None:
    """CLKT set by the user after probe (TOUT 64 = 0.64 ms at 100 kHz), a 1 ms stretch after the
    first data byte's ACK: S.CLKT, -EIO (soc-facts §1.3; BCM2711 "fixed" CLKT, issue #3064).
    The bytes before the stretch decode."""
    r, t = probed_rig("BCM2711")
    r.bsc.write("CLKT", 64)
    t.stretches = [Stretch(StretchPhase.WRITE_POST_ACK, NS_PER_MS, byte_index=1)]
    msgs = [I2cMessage(0x48, False, b"\x00\x01\x02")]
    ret, isr, lines = replay(r, isr_kind, msgs, tmp_path / "clkt.vcd")
    assert ret == -errno.EIO
    # mainline: CLKT itself; the fork: S_LEN on DONE (bytes 01 02 left in the FIFO, S.RXD)
    assert isr.msg_err == (S_CLKT if isr_kind == "mainline" else S_LEN)
    assert isr.log[-1] == f"isr S={S_CLKT | S_RXD | S_TXD | S_DONE:#x}"
    assert lines[:6] == ["Start", "Write", "Address write: 48", "ACK", "Data write: 00", "ACK"]
    assert r.bsc.read("S") & (S_CLKT | S_TA) == 0
