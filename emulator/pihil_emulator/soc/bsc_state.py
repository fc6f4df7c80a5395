"""The BSC controller's state below its registers' handlers (`BscState`): the FIFO, the
status bits and the interrupt line, and the timeline that applies bytes computed ahead
as simulated time passes; with the adapter constants (`LINUX_ADAPTER_TIMEOUT_NS`,
`LINUX_DEFAULT_BUS_HZ`) and the `Level` choice. `bsc_transfer.BscTransfer` (the bus view
and the transfer's steps) builds on it, `bsc_controller.BscController` (the register
handlers, the controller process) on that; see `bsc_controller` for what is modelled.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

import simpy

from ..buses.i2c_slave import I2cSlave
from ..buses.i2c_wire import BscWire, ByteRun
from ..errors import ConfigurationError
from ..world.clock import NS_PER_S, World
from .bsc_map import (
    BSC_MAP,
    C_INTD,
    C_INTR,
    C_INTT,
    FIFO_DEPTH,
    RXR_FROM,
    S_CLKT,
    S_DONE,
    S_ERR,
    S_RXD,
    S_RXF,
    S_RXR,
    S_TA,
    S_TXD,
    S_TXE,
    S_TXW,
    TXW_BELOW,
)
from .bsc_map import ErrorInfo as _ErrorInfo
from .bsc_map import Xfer as _Xfer
from .registers import RegisterBlock, RegisterMap

if TYPE_CHECKING:
    from .soc import Soc


LINUX_ADAPTER_TIMEOUT_NS = NS_PER_S
"""``i2c_add_adapter`` gives an adapter a timeout of HZ (one second) when the driver sets none."""
LINUX_DEFAULT_BUS_HZ = 100_000
"""I2C_MAX_STANDARD_MODE_FREQ: the speed when the device tree has no clock-frequency."""

Level = Literal["auto", "transaction", "pin"]


def _signals(name: str) -> tuple[str, str]:
    n = name.lower().removeprefix("bsc")
    if not n.isdigit():
        raise ConfigurationError(f"a BSC block is named bsc<n>, got {name!r}")
    return f"SDA{n}", f"SCL{n}"


@dataclass(slots=True)
class _Event:
    t: int
    fn: Callable[[], None]


@dataclass(slots=True)
class _RunEntry:
    """A `ByteRun` on the timeline: how far its bytes have started and ended by now."""

    x: _Xfer
    run: ByteRun
    read: bool
    started: int = 0
    done: int = 0


class BscState(RegisterBlock):
    """A BSC master's registers and plain state, status and interrupt, and its timeline."""

    MAP: ClassVar[RegisterMap] = BSC_MAP

    def __init__(self, soc: Soc, name: str) -> None:
        self.soc = soc
        self.world: World = soc.world
        self.sda_signal, self.scl_signal = _signals(name)
        self.owner = name
        self.level: Level = "auto"
        """``"auto"``: pin level while an edge queue or a VCD recorder watches the pins (only
        recorders: their waveform from the transaction level, `bsc_wave`); or force one."""
        self.adapter_timeout_ns = LINUX_ADAPTER_TIMEOUT_NS
        self._fifo: deque[int] = deque()
        self._timeline: deque[_Event | _RunEntry] = deque()
        self._wire_slaves: list[I2cSlave] = []
        self._xfer: _Xfer | None = None
        self._wire: BscWire | None = None
        self._proc: simpy.Process | None = None
        self._kick: simpy.Event | None = None
        self._irq_handler: Callable[[], None] | None = None
        self._in_irq = False
        self._irq_again = False
        self._probed = False
        self._bus_free_at = 0
        self.last_error: _ErrorInfo | None = None
        self.last_level = "transaction"
        self.fast_path = True
        """Run a whole `transfer` in closed form when nothing can see it happen
        (`pihil_emulator.soc.bsc_fast`); False: always the register-by-register path, the
        reference the closed form is tested against."""
        self.fast_path_count = 0
        """Transfers the closed form has run."""
        self._next_wire: BscWire | None = None  # a wire the fast path began (see ReplayWire)
        super().__init__(name)

    # ----------------------------------------------------------------------------------
    # reset and plain state
    # ----------------------------------------------------------------------------------
    def reset_registers(self) -> None:
        super().reset_registers()
        self._fifo = deque()
        self._timeline = deque()
        self._xfer = None
        self._pending_st = False
        self._st_while_aborting = False
        self._abort = False
        self._ta = False
        self._done = False
        self._err = False
        self._clkt = False
        self._dlen_written = 0
        self._planned_pop = 0  # FIFO head bytes taken by planned (not yet started) writes
        self._planned_push = 0  # read bytes planned whose end has not come
        if getattr(self, "_proc", None) is not None and self._proc is not None:
            if self._proc.is_alive:
                self._proc.interrupt("reset")
            self._proc = None
        if getattr(self, "_wire", None) is not None and self._wire is not None:
            self._wire.finish()
            self._wire = None
        self._probed = False
        self._next_wire = None

    def _c(self) -> int:
        return self._values["C"]

    # ----------------------------------------------------------------------------------
    # status and interrupt
    # ----------------------------------------------------------------------------------
    def _status(self) -> int:
        n = len(self._fifo)
        s = 0
        if self._ta:
            s |= S_TA
            x = self._xfer
            if x is not None:
                if x.read:
                    if n >= RXR_FROM:
                        s |= S_RXR
                elif n < TXW_BELOW and self._tx_needed(x) > n:
                    s |= S_TXW
        if self._done:
            s |= S_DONE
        if n < FIFO_DEPTH:
            s |= S_TXD
        else:
            s |= S_RXF
        if n == 0:
            s |= S_TXE
        else:
            s |= S_RXD
        if self._err:
            s |= S_ERR
        if self._clkt:
            s |= S_CLKT
        return s

    def _tx_needed(self, x: _Xfer) -> int:
        """Bytes of this write still to leave the FIFO. A queued transfer (ST while TA) does not
        count: it asks for its data once it has started, which the Linux ISR relies on to queue
        a third message only then."""
        return x.dlen - (x.started - self._planned_pop)

    def _needed_after(self, x: _Xfer) -> int:
        """`_tx_needed` as it will be once every planned byte has left the FIFO."""
        return x.dlen - x.started

    def irq_line(self) -> bool:
        c = self._c()
        s = self._status()
        return bool(
            (c & C_INTD and s & S_DONE) or (c & C_INTT and s & S_TXW) or (c & C_INTR and s & S_RXR)
        )

    def _update_irq(self) -> None:
        """Run the interrupt handler while the (level) interrupt line is asserted."""
        if self._irq_handler is None:
            return
        if self._in_irq:
            self._irq_again = True
            return
        self._in_irq = True
        try:
            for _ in range(64):
                self._irq_again = False
                if not self.irq_line():
                    break
                handler = self._irq_handler
                if handler is None:
                    break
                handler()
        finally:
            self._in_irq = False

    # ----------------------------------------------------------------------------------
    # the timeline: bytes computed ahead, applied as time passes
    # ----------------------------------------------------------------------------------
    def _at(self, t: int, fn: Callable[[], None]) -> None:
        """Do ``fn`` at ``t`` (now, if that has passed and nothing is queued before it)."""
        tl = self._timeline
        if not tl and t <= self.world.now_ns:
            fn()
        else:
            tl.append(_Event(t, fn))

    def _settle(self) -> None:
        """Apply every byte start/end and status change whose time has come."""
        tl = self._timeline
        if not tl:
            return
        now = self.world.now_ns
        while tl:
            item = tl[0]
            if isinstance(item, _Event):
                if item.t > now:
                    return
                tl.popleft()
                item.fn()
            else:
                if not self._settle_run(item, now):
                    return
                tl.popleft()

    def _settle_run(self, r: _RunEntry, now: int) -> bool:
        """Advance a run to ``now``; True when all of it is in the past."""
        run = r.run
        n = len(run.values)
        starts, ends = run.starts, run.ends
        x = r.x
        while r.done < n:
            i = r.done
            if r.started == i:
                if starts[i] > now:
                    return False
                r.started += 1
                if not r.read:
                    self._planned_pop -= 1
                    if self._fifo:
                        self._fifo.popleft()
            if ends[i] > now:
                return False
            r.done += 1
            x.done += 1
            if r.read:
                self._planned_push -= 1
                if not self._abort and len(self._fifo) < FIFO_DEPTH:
                    # (an aborted read is drained on the wire and thrown away)
                    self._fifo.append(run.values[i])
                self._transferred += 1
            elif run.acks[i]:
                self._transferred += 1
        return True

    def _clear_fifo(self) -> None:
        self._fifo.clear()
        self._planned_pop = 0

    def _kick_controller(self) -> None:
        kick = self._kick
        if kick is not None and not kick.triggered:
            kick.succeed()

    _transferred = 0
    """Bytes of the current call that the wire moved (ACKed writes, reads), as Linux counts."""
