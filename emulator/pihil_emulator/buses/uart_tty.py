"""The Linux serial core's part of a UART, shared by the PL011 and mini UART blocks.

Once a port is opened (the blocks' ``configure``), the kernel's interrupt
handler drains the hardware receive FIFO into the tty buffer as characters
arrive, so the FIFO never overruns at these rates; the handler counts errors
the way the kernel's ``icount`` does (a break counts as a break only, a
parity error before a framing error, an overrun on its own).
``read``/``write``/``drain`` block in simulated time, as the system calls do.

Bounded as on the board: what the port holds unread is the tty flip buffer
(drivers/tty/tty_buffer.c ``TTYB_DEFAULT_MEM_LIMIT``, 640 KiB of characters) plus
n_tty's read buffer (``N_TTY_BUF_SIZE`` 4096, of which n_tty fills 4095). A character
that finds both full is lost, and counted as the serial core counts it
(``uart_insert_char``: ``tty_insert_flip_char`` failed, ``icount.buf_overrun``), which
the driver reports as ``UART_OVERRUN``. The board's userspace keeps its own n_tty and
so lowers `UartTty.capacity` to the flip buffer's share while its tty is open.

When the handler takes the characters is the block's `RxDelivery`
(buses/uart_rx_delivery.py): the PL011's at its RX FIFO trigger level or its receive
timeout 32 bit periods after the last character (amba-pl011.c ``pl011_int`` →
``pl011_fifo_to_tty``), so a short message becomes readable ~32 bit times after its last
stop bit; without one (the mini UART, whose 8250 RX interrupt is pending while the FIFO
holds a byte) each character as it completes.
"""

from __future__ import annotations

import collections
import contextlib
import math
from collections.abc import Callable, Iterable

import simpy

from ..errors import BusError
from ..world.clock import World
from .spi_bus import advance_if_idle
from .uart_line import EPS_NS
from .uart_rx import BE, FE, OE, PE, Chunk, UartReceiver
from .uart_rx_delivery import RxDelivery
from .uart_tx import UartTransmitter

ERROR_KINDS = ("framing", "parity", "overrun", "break", "buf_overrun")
"""``overrun``: the hardware FIFO was full (OE); ``buf_overrun``: the tty buffer was full."""

N_TTY_BUF_SIZE = 4096
"""n_tty's read buffer (drivers/tty/n_tty.c); ``n_tty_receive_buf_common`` leaves one slot
free, so it holds 4095 characters."""
N_TTY_HOLDS = N_TTY_BUF_SIZE - 1
TTY_FLIP_LIMIT = 640 * 1024
"""``TTYB_DEFAULT_MEM_LIMIT`` (drivers/tty/tty_buffer.c): the flip buffer's characters."""


class UartTty:
    """Receive buffer, error counts and blocking I/O of one opened UART."""

    def __init__(
        self,
        world: World,
        name: str,
        rx: UartReceiver,
        tx: UartTransmitter,
        sync: Callable[[], None],
        delivery: RxDelivery | None = None,
    ) -> None:
        self.world = world
        self.delivery = delivery
        """The hardware FIFO's interrupts between the receiver and this buffer (None: each
        character as it completes)."""
        self.name = name
        self.rx = rx
        self.tx = tx
        self._sync = sync
        self.buffer = bytearray()
        self.flags = bytearray()
        """Per byte of ``buffer``, its receive flags (`FE`/`PE`/`BE`/`OE`; 0 when clean), as the
        tty flip buffer keeps a flag per character for the line discipline."""
        self.counts: dict[str, int] = dict.fromkeys(ERROR_KINDS, 0)
        self.received = 0
        self.capacity = TTY_FLIP_LIMIT + N_TTY_HOLDS
        """Characters the port holds unread before new ones are lost (see the module doc)."""
        self.fast_path = True
        """`drain` sets the clock to the last stop bit in one step when no event is due
        before it (`advance_if_idle`); False: the reference path through the scheduler."""
        self.fast_drains = 0
        """Drains done in one step (for tests)."""

    # -- fed by the block -------------------------------------------------------------------
    def feed(self, chunks: Iterable[Chunk]) -> None:
        """Characters the receiver completed by now: through the FIFO's interrupts
        (`delivery`) into the buffer."""
        if self.delivery is None:
            self._store(chunks)
        else:
            self.delivery.push(list(chunks), float(self.world.now_ns), self._store)

    def next_delivery_ns(self) -> float | None:
        """When the interrupt handler next hands characters over, if known (the caller
        looks again then: a character arriving meanwhile can push a receive timeout on)."""
        self._sync()
        if self.delivery is None:
            return self.rx.time_of(0)
        return self.delivery.next_ns(self.rx)

    def _store(self, chunks: Iterable[Chunk]) -> None:
        """Characters the interrupt handler took from the FIFO, with their error flags."""
        for chunk in chunks:
            data, flags = chunk.data, chunk.flags
            self.received += len(data)  # icount.rx counts what is lost too
            if flags is not None:
                self.count_flags(flags)
            room = self.capacity - len(self.buffer)
            if len(data) > room:
                room = max(0, room)
                self.counts["buf_overrun"] += len(data) - room
                data = data[:room]
                flags = None if flags is None else flags[:room]
            self.buffer += data
            self.flags += flags if flags is not None else bytes(len(data))

    def feed_entries(self, entries: Iterable[int]) -> None:
        """FIFO entries (value | flags << 8) left in the hardware FIFO when the port opened."""
        for entry in entries:
            self.received += 1
            self.count_flags((entry >> 8,))
            if len(self.buffer) >= self.capacity:
                self.counts["buf_overrun"] += 1
                continue
            self.buffer.append(entry & 0xFF)
            self.flags.append((entry >> 8) & 0xFF)

    def count_flags(self, flags: Iterable[int]) -> None:
        """Linux ``pl011_fifo_to_tty`` order: BE masks FE/PE; else PE, else FE; OE on its own."""
        # counted per distinct flag value (Counter counts in C): a long garbled run is one
        # pass, not one Python step per character
        for f, n in collections.Counter(flags).items():
            if f & BE:
                self.counts["break"] += n
            elif f & PE:
                self.counts["parity"] += n
            elif f & FE:
                self.counts["framing"] += n
            if f & OE:
                self.counts["overrun"] += n

    # -- the system calls -------------------------------------------------------------------
    def in_waiting(self) -> int:
        self._sync()
        return len(self.buffer)

    def read(self, n: int, timeout_ns: int) -> bytes:
        """Up to ``n`` bytes: as soon as ``n`` have arrived, or what came by ``timeout_ns``."""
        if n < 0:
            raise ValueError(f"{self.name}: cannot read a negative count ({n})")
        if timeout_ns < 0:
            raise ValueError(f"{self.name}: a timeout cannot be negative ({timeout_ns} ns)")
        deadline = self.world.now_ns + int(timeout_ns)
        while True:
            self._sync()
            now = self.world.now_ns
            if len(self.buffer) >= n or now >= deadline:
                break
            if self.delivery is None:
                known = self.rx.time_of(n - len(self.buffer) - 1)
            else:
                known = self.delivery.due_ns(self.rx, n - len(self.buffer))
            until = deadline if known is None else min(deadline, math.ceil(known - EPS_NS))
            self._wait(until)
        out = bytes(self.buffer[:n])
        del self.buffer[:n]
        del self.flags[:n]
        return out

    def _wait(self, until_ns: int) -> None:
        """Run the world until ``until_ns`` or until the receiver learns of new characters."""
        now = self.world.now_ns
        until_ns = max(until_ns, now + 1)
        ev = self.world.event()

        def wake() -> None:
            if not ev.triggered:
                ev.succeed()

        unsubscribe = self.rx.subscribe(wake)
        try:
            with contextlib.suppress(TimeoutError):
                self.world.run_until(ev, limit_ns=until_ns - now)
        finally:
            unsubscribe()

    def write(self, data: bytes, timeout_ns: int | None = None) -> None:
        """Queue ``data`` and return once the last stop bit has left (``tcdrain``)."""
        self.tx.send(data)
        self.drain(timeout_ns)

    def drain(self, timeout_ns: int | None = None) -> None:
        """Wait until everything written has left the transmitter.

        Without a timeout a transmitter that nothing holds finishes at a known
        time; one held (CTS deasserted, disabled) gets 10 simulated seconds
        before `BusError` (``ETIMEDOUT``), rather than hanging the simulation.
        """
        if self.fast_path:
            # the reference path: a wake-up at the last stop bit (`drained`), the scheduler
            # run until it; with nothing else due by then that is setting the clock there
            end = self.tx.drain_time_ns()
            if (
                end is not None
                and (timeout_ns is None or end - self.world.now_ns < timeout_ns)
                and advance_if_idle(self.world, end)
            ):
                self.fast_drains += 1
                return
        ev: simpy.Event = self.tx.drained()
        if ev.triggered:
            self.world.run_until(ev)
            return
        if timeout_ns is None:
            if not self.tx.holds:
                timeout_ns = max(0, math.ceil(self.tx.busy_until_ns - self.world.now_ns)) + 1
            else:
                timeout_ns = 10_000_000_000
        try:
            self.world.run_until(ev, limit_ns=timeout_ns)
        except TimeoutError:
            raise BusError(
                f"transmitter still busy after {timeout_ns} ns "
                f"({self.tx.queued()} byte(s) not sent; held by: "
                f"{', '.join(sorted(self.tx.holds)) or 'nothing'})",
                bus=self.name,
                kind="timeout",
                errno_name="ETIMEDOUT",
                time_ns=self.world.now_ns,
            ) from None

    def discard_input(self) -> None:
        """Drop what was received (the buffer and what the FIFO holds for its interrupt)."""
        self._sync()
        self.buffer.clear()
        self.flags.clear()
        if self.delivery is not None:
            self.delivery.discard()

    def error_counts(self) -> dict[str, int]:
        self._sync()
        return dict(self.counts)
