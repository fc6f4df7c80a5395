"""GPIO event detect (soc-facts §3.5): synchronous REN/FEN through the sampling window,
asynchronous AREN/AFEN, level-sensitive HEN/LEN, GPEDS, and the per-line edge-event buffers.
See the `gpio` module docstring for how the window is computed from event times."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import simpy

from ..world.edges import Edge, EdgeQueue
from ..world.net import Net
from .gpio_map import _bits
from .gpio_pulls import GpioPadPulls


class GpioEventDetect(GpioPadPulls):
    """Event detect of the GPIO block: GPEDS, the enables and the synchronous sampler."""

    sync_window_ns: int
    _env: simpy.Environment
    _bit_of: dict[Net, int]
    _eds: int
    _ren: int
    _fen: int
    _hen: int
    _len: int
    _aren: int
    _afen: int
    _detect: int
    _sync: int
    _sync_level: int
    _pend_t: list[int]
    _pend_seq: list[int]
    _edge_seq: list[int]
    _evented_seq: list[int]
    _commit_q: deque[tuple[int, int, int]]
    _armed: set[int]
    _commit_cb: Callable[[simpy.Event], None]
    _queues: list[list[GpioEventQueue]]

    def _clear_events(self, bits: int) -> None:
        self._flush()
        self._eds &= ~bits
        # §3.5 GPHEN/GPLEN: "If the pin is still high [low] when an attempt is made to clear
        # the status bit in GPEDSn then the status bit will remain set."
        self._eds |= bits & ((self._hen & self._level) | (self._len & ~self._level))

    def _enable_writer(self, reg: str, bank: int) -> Callable[[int], None]:
        shift = 32 * bank
        mask = self._bank_mask(shift) << shift
        attr = f"_{reg.lower()}"
        reg_name = f"GP{reg}{bank}"

        def write(value: int) -> None:
            new = (value << shift) & mask
            old: int = getattr(self, attr)
            setattr(self, attr, (old & ~mask) | new)
            self._values[reg_name] = value & self._bank_mask(shift)
            self._detection_changed(new & ~old & mask, reg)

        return write

    def _detection_changed(self, enabled: int, reg: str) -> None:
        newly_sync = (self._ren | self._fen) & ~self._sync
        self._sync = self._ren | self._fen
        self._detect = self._sync | self._hen | self._len | self._aren | self._afen
        for n in _bits(newly_sync):
            # the sampler has been running all along: it agrees with the pin now
            bit = 1 << n
            self._sync_level = (self._sync_level & ~bit) | (self._level & bit)
            self._pend_t[n] = -1
        if reg in ("HEN", "LEN"):
            hits = enabled & (self._level if reg == "HEN" else ~self._level)
            now = self.world.now_ns
            for n in _bits(hits):
                self._edge_seq[n] += 1
                self._hit(n, 1 << n, reg == "HEN", now, self._edge_seq[n])

    def _on_net_change(self, net: Net, level: bool, time_ns: int) -> None:
        """Every level change of a GPIO net: GPLEV, then event detection (the per-edge path)."""
        bit = self._bit_of[net]
        if level:
            self._level |= bit
        else:
            self._level &= ~bit
        if not bit & self._detect:
            return
        n = bit.bit_length() - 1
        self._edge_seq[n] += 1
        seq = self._edge_seq[n]
        sync = bit & self._sync
        if sync:
            pend_t = self._pend_t[n]
            if pend_t >= 0:
                if time_ns - pend_t >= self.sync_window_ns:
                    self._accept(n)  # the previous edge was held long enough: it counts first
                else:
                    self._pend_t[n] = -1  # a glitch shorter than the window: never sampled
                    sync = 0
        if bit & (self._aren if level else self._afen):
            self._hit(n, bit, level, time_ns, seq)
        if bit & (self._hen if level else self._len):
            self._hit(n, bit, level, time_ns, seq)
        if sync:
            self._schedule(n, time_ns, seq)

    def _schedule(self, n: int, time_ns: int, seq: int) -> None:
        """Remember an edge the sampler decides on after the window (lazily, see _flush)."""
        q = self._commit_q
        if q and q[0][0] <= time_ns:
            self._commit_due(None)  # keeps the queue to the edges of the last window
        self._pend_t[n] = time_ns
        self._pend_seq[n] = seq
        due = time_ns + self.sync_window_ns
        q.append((due, n, seq))
        queues = self._queues[n]
        if queues and any(qq.waiting for qq in queues):
            self._arm(due)

    def _arm(self, due: int) -> None:
        """A timer at ``due``, for a reader waiting in simulated time."""
        if due not in self._armed:
            self._armed.add(due)
            self._env.timeout(max(0, due - self._env.now)).callbacks.append(self._commit_cb)

    def _arm_line(self, n: int) -> None:
        if self._pend_t[n] >= 0:
            self._arm(self._pend_t[n] + self.sync_window_ns)

    def _flush(self) -> None:
        """Let the sampler decide on every edge whose window has passed by now."""
        q = self._commit_q
        if q and q[0][0] <= self._env.now:
            self._commit_due(None)

    def _events_now(self) -> int:
        """GPEDS as of now, the sampler's pending decisions included."""
        self._flush()
        return self._eds

    def _commit_due(self, _event: simpy.Event | None) -> None:
        now = self._env.now
        self._armed.discard(now)
        q = self._commit_q
        while q and q[0][0] <= now:
            _, n, seq = q.popleft()
            if self._pend_t[n] >= 0 and self._pend_seq[n] == seq:
                self._accept(n)

    def _accept(self, n: int) -> None:
        """The sampler has seen the new level twice: a synchronous edge (§3.5 "011"/"100")."""
        bit = 1 << n
        self._sync_level ^= bit
        level = bool(self._sync_level & bit)
        stamp = self._pend_t[n] + self.sync_window_ns
        self._pend_t[n] = -1
        if bit & (self._ren if level else self._fen):
            self._hit(n, bit, level, stamp, self._pend_seq[n])

    def _hit(self, n: int, bit: int, level: bool, time_ns: int, seq: int) -> None:
        self._eds |= bit
        if self._evented_seq[n] != seq:
            self._evented_seq[n] = seq
            queues = self._queues[n]
            if queues:
                edge = Edge(time_ns, self._nets[n].name, level)
                for q in queues:
                    q.put(edge)


class GpioEventQueue(EdgeQueue):
    """The edge-event buffer of one line: an `Edge` per event-detect hit (``gpio.events``)."""

    def __init__(self, block: GpioEventDetect, line: int) -> None:
        super().__init__(block.world)
        self._block = block
        self.line = line

    # every way of looking first lets the sampler decide on edges whose window has passed
    def __len__(self) -> int:
        self._block._flush()
        return super().__len__()

    def get_nowait(self) -> Edge | None:
        self._block._flush()
        return super().get_nowait()

    def drain(self) -> list[Edge]:
        self._block._flush()
        return super().drain()

    def when_any(self) -> simpy.Event:
        self._block._flush()
        event = super().when_any()
        if not event.triggered:
            self._block._arm_line(self.line)
        return event

    @property
    def waiting(self) -> bool:
        """True while a reader waits in simulated time for this buffer."""
        return bool(self._waiters)

    def close(self) -> None:
        super().close()
        subscribers = self._block._queues[self.line]
        if self in subscribers:
            subscribers.remove(self)
