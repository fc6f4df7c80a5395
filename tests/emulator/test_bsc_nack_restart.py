"""The BSC after an address NACK in a multi-message transfer (issue 12 item 1).

The BSC has no stop-on-error: the START that i2c-bcm2835's ISR queues for the next message
(C.ST written while TA, `bcm2835_i2c_isr` → `bcm2835_i2c_start_transfer` once the write is
in the FIFO) follows the NACK as a repeated START and the read is attempted anyway:
raspberrypi/linux#5429 ("Instead it proceeds to do a repeated start and try the read
anyway") and its PR #5434 ("The BCM2835 I2C controllers do not have an interrupt-on-error
capability, and this makes it easy to proceed past a write NAK condition to the remainder of
a multi-part transfer"). soc-facts §1.6 (ST while TA), §1.3 (ERR → EREMOTEIO).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import smbus2

from pihil_emulator.buses.i2c_master import I2cMessage
from pihil_emulator.errors import BusError
from pihil_emulator.soc.bsc import (
    C_CLEAR,
    C_I2CEN,
    C_INTD,
    C_INTR,
    C_INTT,
    C_READ,
    C_ST,
    S_CLKT,
    S_DONE,
    S_ERR,
    S_RXD,
    S_RXR,
    S_TXD,
    S_TXW,
    BscBlock,
)
from pihil_emulator.vcd import VcdRecorder
from rpiboard_pihil import RpiBoard

from .test_i2c_vcd import decode, needs_sigrok

try:  # tests/ as packages, or as plain directories (rootdir on sys.path)
    from .i2c_rig import PointerTarget, Rig, make_rig
except ImportError:  # pragma: no cover
    from i2c_rig import PointerTarget, Rig, make_rig  # type: ignore[no-redef]

S_LEN = 1 << 10  # the driver's BCM2835_I2C_S_LEN


@dataclass
class LinuxIsr:
    """torvalds/linux drivers/i2c/busses/i2c-bcm2835.c, register for register:
    `bcm2835_i2c_start_transfer`, `bcm2835_i2c_isr` (mainline: any CLKT|ERR completes),
    `bcm2835_fill_txfifo`, `bcm2835_drain_rxfifo`. Runs against the bare block (the model's
    own driver is not in the loop); the interrupt is the block's level line."""

    bsc: BscBlock
    msgs: list[I2cMessage]
    curr: int = 0
    num_msgs: int = 0
    buf: bytearray = field(default_factory=bytearray)
    remaining: int = 0
    msg_err: int = 0
    completed: bool = False
    read: bytearray = field(default_factory=bytearray)
    log: list[str] = field(default_factory=list)

    def start_transfer(self) -> None:
        c = C_ST | C_I2CEN
        if not self.num_msgs:
            return
        msg = self.msgs[self.curr]
        last = self.num_msgs == 1
        self.num_msgs -= 1
        self.buf = bytearray(msg.data) if not msg.read else self.read
        self.remaining = msg.length
        c |= (C_READ | C_INTR) if msg.read else C_INTT
        if last:
            c |= C_INTD
        self.bsc.write("A", msg.address)
        self.bsc.write("DLEN", msg.length)
        self.bsc.write("C", c)
        self.log.append(f"start msg {self.curr}")

    def fill_txfifo(self) -> None:
        while self.remaining and self.bsc.read("S") & S_TXD:
            self.bsc.write("FIFO", self.buf.pop(0))
            self.remaining -= 1

    def drain_rxfifo(self) -> None:
        while self.remaining and self.bsc.read("S") & S_RXD:
            self.buf.append(self.bsc.read("FIFO"))
            self.remaining -= 1

    def isr(self) -> None:
        val = self.bsc.read("S")
        self.log.append(f"isr S={val:#x}")
        err = val & (S_CLKT | S_ERR)
        if err:
            self.msg_err = err
            return self.complete()
        if val & S_DONE:
            if self.msgs[self.curr].read:
                self.drain_rxfifo()
                val = self.bsc.read("S")
            self.msg_err = S_LEN if (val & S_RXD or self.remaining) else 0
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

    def complete(self) -> None:
        self.bsc.write("C", C_CLEAR)
        self.bsc.write("S", S_CLKT | S_ERR | S_DONE)
        self.completed = True

    def xfer(self, rig: Rig, limit_ns: int = 1_000_000_000) -> int:
        """`bcm2835_i2c_xfer`: 0, -EREMOTEIO, -EIO or -ETIMEDOUT; 1 µs interrupt latency."""
        self.num_msgs = len(self.msgs)
        self.start_transfer()
        t_end = rig.world.now_ns + limit_ns
        while not self.completed and rig.world.now_ns < t_end:
            if self.bsc.irq_line():
                self.isr()
            else:
                rig.world.run_for(1_000)
        if not self.completed:
            self.bsc.write("C", C_CLEAR)
            return -errno.ETIMEDOUT
        if not self.msg_err:
            return 0
        return -errno.EREMOTEIO if self.msg_err & S_ERR else -errno.EIO


def bus_rig() -> tuple[Rig, PointerTarget]:
    r = make_rig("BCM2835")
    t = r.attach(PointerTarget(0x48, fill=0x30))
    assert isinstance(t, PointerTarget)
    r.bsc.write("DIV", 2500)  # 100 kHz at the 250 MHz core clock
    r.bsc.write("CLKT", 0)
    return r, t


class BusyForWrites(PointerTarget):
    """NACKs its address when addressed for writing (busy), ACKs a read."""

    def start(self, read: bool) -> bool:
        if not read:
            return False
        return super().start(read)


WRITE_READ_ABSENT = [I2cMessage(0x33, False, b"\x05"), I2cMessage(0x33, True, 2)]


def test_register_replay_of_the_linux_isr_ends_in_eremoteio_within_microseconds() -> None:
    """Before the fix the queued ST stayed pending (`_pending_st`) and the replay timed out."""
    r, _ = bus_rig()
    t0 = r.world.now_ns
    isr = LinuxIsr(r.bsc, WRITE_READ_ABSENT)
    assert isr.xfer(r) == -errno.EREMOTEIO
    took = r.world.now_ns - t0
    assert took < 500_000  # two address bytes and a STOP at 100 kHz, not the 1 s timeout
    assert isr.log[:3] == ["start msg 0", f"isr S={S_TXW | S_TXD | 0x40 | 1:#x}", "start msg 1"]
    assert not r.bsc.read("S") & (S_ERR | 1)  # the ISR cleared ERR; the block is idle


def test_the_queued_read_is_attempted_after_the_nack_and_the_device_answers_it() -> None:
    """#5429: a device NACKing its address while busy and ready by the read sees a full read
    (its state changes: pointer advanced) though Linux reports EREMOTEIO."""
    r = make_rig("BCM2835")
    t = r.attach(BusyForWrites(0x48, fill=0x30))
    assert isinstance(t, BusyForWrites)
    r.bsc.write("DIV", 2500)
    r.bsc.write("CLKT", 0)
    isr = LinuxIsr(r.bsc, [I2cMessage(0x48, False, b"\x05"), I2cMessage(0x48, True, 2)])
    assert isr.xfer(r) == -errno.EREMOTEIO
    calls = [c for c, _, _ in t.log]
    assert calls == ["start", "read", "ack", "read", "ack", "stop"]
    assert t.log[0][1] == 1  # addressed for reading: the write never reached it
    assert t.pointer == 2  # the read happened: the device's state moved on


@pytest.mark.parametrize("level", ["transaction", "pin"])
def test_driver_transfer_after_a_nack_is_eremoteio_and_the_next_one_works(level: str) -> None:
    r, _ = bus_rig()
    r.bsc.level = level  # type: ignore[assignment]
    t0 = r.world.now_ns
    with pytest.raises(BusError) as err:
        r.bsc.transfer(WRITE_READ_ABSENT)
    assert (err.value.errno_name, err.value.phase, err.value.address) == (
        "EREMOTEIO",
        "address",
        0x33,
    )
    assert r.world.now_ns - t0 < 500_000
    assert r.bsc.transfer([I2cMessage(0x48, False, b"\x02"), I2cMessage(0x48, True, 2)]) == [
        b"\x32\x33"
    ]


def test_a_start_queued_while_an_aborted_transfer_finishes_is_not_lost() -> None:
    """ST while TA queues the next transfer; when the active one ends in a STOP (CLEAR aborted
    it) the queued one starts after that STOP instead of leaving TA low for good."""
    r, t = bus_rig()
    r.bsc.write("A", 0x48)
    r.bsc.write("DLEN", 4)
    r.bsc.write("C", C_I2CEN | C_ST | C_READ)
    r.world.run_for(30_000)  # inside the first data byte
    r.bsc.write("C", C_I2CEN | C_CLEAR | C_READ)  # abort
    r.bsc.write("DLEN", 1)
    r.bsc.write("C", C_I2CEN | C_ST | C_READ)  # queued while the abort finishes
    r.world.run_for(1_000_000)
    s = r.bsc.read("S")
    assert s & S_DONE
    assert not s & 1
    assert [c for c, _, _ in t.log].count("start") == 2


def test_clearing_i2cen_drops_a_queued_start() -> None:
    """C.I2CEN 0: "transfers will not be performed"; a START queued before is not kept."""
    r, t = bus_rig()
    r.bsc.write("A", 0x48)
    r.bsc.write("DLEN", 2)
    r.bsc.write("C", C_I2CEN | C_ST | C_READ)
    r.bsc.write("C", C_I2CEN | C_ST | C_READ)  # queued
    r.bsc.write("C", C_CLEAR)  # what the Linux ISR's complete does: I2CEN 0
    r.world.run_for(1_000_000)
    assert [c for c, _, _ in t.log].count("start") == 1


def test_smbus2_i2c_rdwr_to_an_absent_address_is_eremoteio_quickly() -> None:
    board = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
    try:
        with board.simulation.userspace(), smbus2.SMBus(1) as bus:
            t0 = board.simulation.now_ns
            w, rd = smbus2.i2c_msg.write(0x33, [0x00]), smbus2.i2c_msg.read(0x33, 2)
            with pytest.raises(OSError, match="Remote I/O") as err:
                bus.i2c_rdwr(w, rd)
            assert err.value.errno == errno.EREMOTEIO
            assert board.simulation.now_ns - t0 < 1_000_000
            bus.i2c_rdwr(smbus2.i2c_msg.write(0x68, [0]), smbus2.i2c_msg.read(0x68, 1))
    finally:
        board.close()


@needs_sigrok
def test_sigrok_sees_the_nack_the_repeated_start_and_the_read_header(tmp_path: Path) -> None:
    r, _ = bus_rig()
    path = tmp_path / "nack_restart.vcd"
    with VcdRecorder(r.world, path, [r.sda, r.scl]):
        r.world.run_for(20_000)
        with pytest.raises(BusError):
            r.bsc.transfer(WRITE_READ_ABSENT)
        r.world.run_for(20_000)
    assert r.bsc.last_level == "pin"
    assert decode(path, sda="GPIO2", scl="GPIO3") == [
        "Start",
        "Write",
        "Address write: 33",
        "NACK",
        "Start repeat",
        "Read",
        "Address read: 33",
        "NACK",
        "Stop",
    ]
