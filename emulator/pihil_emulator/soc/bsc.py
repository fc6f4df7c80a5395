"""The Linux i2c-bcm2835 driver on the BSC controller model: `BscBlock`.

The controller (registers, FIFO, interrupts, the bytes on the wire) is
`pihil_emulator.soc.bsc_controller`; its register map and bit constants are data in
`pihil_emulator.soc.bsc_map` (re-exported here).

`BscBlock.transfer` and `set_bus_speed` are the Linux driver: they program these
registers exactly as i2c-bcm2835 does (start_transfer, the ISR, the adapter
timeout) and report errors as it does: ERR → EREMOTEIO, CLKT → EIO, the whole
transfer timing out → ETIMEDOUT, a read that is not the last message → EOPNOTSUPP.
When nothing can see or disturb a transfer before its STOP (transaction level, no other
event due, the slaves fault-free with at most declared stretches), `transfer` runs it in
closed form instead (`pihil_emulator.soc.bsc_fast`: the same wire operations, the
registers as the driver leaves them, the clock moved once); ``fast_path = False`` keeps
the register-by-register path, the reference it is tested equal to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import simpy

from ..buses.i2c_master import I2cMessage, check_messages
from ..buses.i2c_timing import effective_cdiv, linux_divider
from ..errors import BusError
from .bsc_controller import LINUX_DEFAULT_BUS_HZ, BscController
from .bsc_fast import fast_transfer
from .bsc_map import (
    BSC_MAP,
    C_CLEAR,
    C_I2CEN,
    C_INTD,
    C_INTR,
    C_INTT,
    C_READ,
    C_ST,
    FIFO_DEPTH,
    RXR_FROM,
    S_CLKT,
    S_DONE,
    S_ERR,
    S_LEN,
    S_RXD,
    S_RXF,
    S_RXR,
    S_TA,
    S_TXD,
    S_TXE,
    S_TXW,
    TXW_BELOW,
)

if TYPE_CHECKING:
    from .soc import Soc

__all__ = [
    "BSC_MAP",
    "C_CLEAR",
    "C_I2CEN",
    "C_INTD",
    "C_INTR",
    "C_INTT",
    "C_READ",
    "C_ST",
    "FIFO_DEPTH",
    "RXR_FROM",
    "S_CLKT",
    "S_DONE",
    "S_ERR",
    "S_LEN",
    "S_RXD",
    "S_RXF",
    "S_RXR",
    "S_TA",
    "S_TXD",
    "S_TXE",
    "S_TXW",
    "TXW_BELOW",
    "BscBlock",
    "bsc_block",
]


@dataclass
class _Call:
    """The state of one Linux ``bcm2835_i2c_xfer`` call (the driver's struct fields)."""

    msgs: list[I2cMessage]
    curr: int = 0
    num_msgs: int = 0
    buf: bytearray = field(default_factory=bytearray)
    buf_pos: int = 0
    buf_remaining: int = 0
    msg_err: int = 0
    results: list[bytearray] = field(default_factory=list)
    done: simpy.Event | None = None


class BscBlock(BscController):
    """One BSC master (bsc0, bsc1, and bsc3-6 on the BCM2711) and the Linux driver's entry
    points on it; see the module docstring."""

    def __init__(self, soc: Soc, name: str) -> None:
        super().__init__(soc, name)
        self.wave_path_count = 0
        """Transfers the closed form has run with VCD recorders on the pins, their waveform
        handed to the recorders as data (`pihil_emulator.soc.bsc_wave`); `fast_path_count`
        counts the others."""

    # ----------------------------------------------------------------------------------
    # The Linux i2c-bcm2835 driver, as the driver's entry points
    # ----------------------------------------------------------------------------------

    def _probe(self) -> None:
        """What bcm2835_i2c_probe leaves in the registers (once, when the driver first acts):
        the default rate, CLKT 0 (mainline: "just disable the timeout", soc-facts §1.3), C 0.
        Until then the registers keep their reset values."""
        if self._probed:
            return
        self._probed = True
        self._set_rate(LINUX_DEFAULT_BUS_HZ)
        self.write("CLKT", 0)
        self.write("C", 0)

    def set_bus_speed(self, hz: int) -> None:
        """clk_bcm2835_i2c_set_rate: DIV and DEL for ``hz`` (soc-facts §2)."""
        div = linux_divider(self.soc.variant.core_clock_hz, hz)  # refuse before probing
        self._probe()
        self.write("DIV", div.cdiv)
        self.write("DEL", div.del_value)

    def _set_rate(self, hz: int) -> None:
        div = linux_divider(self.soc.variant.core_clock_hz, hz)
        self.write("DIV", div.cdiv)
        self.write("DEL", div.del_value)

    def bus_speed_hz(self) -> int:
        """clk_bcm2835_i2c_recalc_rate: DIV_ROUND_UP(core, DIV)."""
        div = effective_cdiv(self._values["DIV"] & 0xFFFF)
        return -(-self.soc.variant.core_clock_hz // div)

    def transfer(self, msgs: Sequence[I2cMessage]) -> list[bytes]:
        """bcm2835_i2c_xfer: run ``msgs`` (repeated STARTs between them, STOP at the end).

        Returns the data of the read messages, in order. Raises `BusError` as Linux
        fails the call: ``nack`` (EREMOTEIO), ``clkt`` (EIO), ``timeout`` (ETIMEDOUT),
        ``length`` (EIO), ``unsupported`` (EOPNOTSUPP), ``not_routed``.
        """
        msgs = check_messages(msgs)
        bus = self.name
        for i in range(len(msgs) - 1):
            m = msgs[i]
            if m.read:
                raise BusError(
                    f"message {i} is a read but not the last: i2c-bcm2835 supports one read "
                    "message and it has to be last",
                    bus=bus,
                    kind="unsupported",
                    address=m.address,
                    errno_name="EOPNOTSUPP",
                    time_ns=self.world.now_ns,
                )
        sda, scl = self.nets()
        if not sda:
            self.soc.gpio.signal_level(self.sda_signal)  # raises BusError(kind="not_routed")
        if not scl:
            self.soc.gpio.signal_level(self.scl_signal)
        self._probe()
        if self.fast_path:
            fast = fast_transfer(self, msgs, sda, scl)
            if fast is not None:
                return fast
        call = _Call(msgs, num_msgs=len(msgs), results=[bytearray() for m in msgs if m.read])
        call.done = self.world.event()
        self._call = call
        self._transferred = 0
        self.last_error = None
        self._irq_handler = self._isr
        try:
            self._start_transfer(call)
            try:
                self.world.run_until(call.done, limit_ns=self.adapter_timeout_ns)
            except TimeoutError:
                self.write("C", C_CLEAR)
                self._raise(call, "timeout", "ETIMEDOUT", "the transfer timed out")
        finally:
            self._irq_handler = None
        if call.msg_err:
            if call.msg_err & S_ERR:
                self._raise(call, "nack", "EREMOTEIO", "no ACK")
            if call.msg_err & S_CLKT:
                self._raise(call, "clkt", "EIO", "clock-stretch timeout (S.CLKT)")
            self._raise(call, "length", "EIO", "length error (bytes left in the FIFO or buffer)")
        return [bytes(b) for b in call.results]

    def _raise_nack(self, msgs: list[I2cMessage]) -> None:
        """`_raise` of a NACK after the closed form (`last_error` says where)."""
        self._raise(_Call(msgs, curr=len(msgs) - 1), "nack", "EREMOTEIO", "no ACK")

    def _raise(self, call: _Call, kind: str, errno: str, what: str) -> None:
        info = self.last_error
        m = call.msgs[min(call.curr, len(call.msgs) - 1)]
        address = info.address if info is not None else m.address
        phase = info.phase if info is not None and info.kind == kind else None
        if kind == "timeout" and phase is None:
            phase = "read" if m.read else "write"
        raise BusError(
            what,
            bus=self.name,
            kind=kind,
            address=address,
            phase=phase,
            transferred=self._transferred,
            errno_name=errno,
            time_ns=self.world.now_ns,
        )

    def _start_transfer(self, call: _Call) -> None:
        """bcm2835_i2c_start_transfer."""
        if not call.num_msgs:
            return
        m = call.msgs[call.curr]
        last = call.num_msgs == 1
        call.num_msgs -= 1
        call.buf = bytearray(m.data) if not m.read else call.results[0]
        call.buf_pos = 0
        call.buf_remaining = m.length
        c = C_ST | C_I2CEN
        c |= (C_READ | C_INTR) if m.read else C_INTT
        if last:
            c |= C_INTD
        self.write("A", m.address)
        self.write("DLEN", m.length)
        self.write("C", c)

    def _fill_txfifo(self, call: _Call) -> None:
        """``while (remaining && S.TXD) writel(FIFO, *buf++)``, in one step."""
        self._settle()
        n = min(call.buf_remaining, FIFO_DEPTH - len(self._fifo))
        if n > 0:
            self._fifo.extend(call.buf[call.buf_pos : call.buf_pos + n])
            call.buf_pos += n
            call.buf_remaining -= n
            self._kick_controller()
            self._update_irq()

    def _drain_rxfifo(self, call: _Call) -> None:
        """``while (remaining && S.RXD) *buf++ = readl(FIFO)``, in one step."""
        self._settle()
        n = min(call.buf_remaining, len(self._fifo) - self._planned_pop)
        if n > 0:
            fifo = self._fifo
            call.buf.extend(fifo.popleft() for _ in range(n))
            call.buf_remaining -= n
            self._kick_controller()
            self._update_irq()

    def _isr(self) -> None:
        """bcm2835_i2c_isr."""
        call = self._call
        val = self.read("S")
        err = val & (S_CLKT | S_ERR)
        if err:
            call.msg_err = err
            self._complete(call)
            return
        if val & S_DONE:
            if call.msgs[call.curr].read:
                self._drain_rxfifo(call)
                val = self.read("S")
            call.msg_err = S_LEN if (val & S_RXD or call.buf_remaining) else 0
            self._complete(call)
            return
        if val & S_TXW:
            if not call.buf_remaining:
                call.msg_err = val | S_LEN
                self._complete(call)
                return
            self._fill_txfifo(call)
            if call.num_msgs and not call.buf_remaining:
                call.curr += 1
                self._start_transfer(call)
            return
        if val & S_RXR:
            if not call.buf_remaining:
                call.msg_err = val | S_LEN
                self._complete(call)
                return
            self._drain_rxfifo(call)

    def _complete(self, call: _Call) -> None:
        self.write("C", C_CLEAR)
        self.write("S", S_CLKT | S_ERR | S_DONE)
        if call.done is not None and not call.done.triggered:
            call.done.succeed()
        self._irq_handler = None

    _call: _Call


def bsc_block(soc: Soc, name: str) -> BscBlock:
    """The `soc.block_list` factory."""
    return BscBlock(soc, name)
