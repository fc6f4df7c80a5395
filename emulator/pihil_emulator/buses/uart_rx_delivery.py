"""When the Linux driver's interrupt handler hands received characters to the tty.

A UART's receiver completes a character at its stop bit, but the kernel sees it only when
the block interrupts and the handler drains the FIFO:

- PL011 (drivers/tty/serial/amba-pl011.c): ``pl011_startup`` unmasks RXIM and RTIM;
  RXIS is raised when the RX FIFO *reaches* its IFLS trigger level (``vendor_arm.ifls``
  ``UART011_IFLS_RX4_8``: 16 of 32; with FEN clear, the one-character holding register),
  RTIS when "the receive FIFO is not empty, and no more data is received during a 32-bit
  period" (PL011 TRM, UARTRTINTR). ``pl011_int`` then runs ``pl011_fifo_to_tty``, which
  reads DR until FR.RXFE: every character in the FIFO at that instant goes to the tty
  together. So a burst arrives in groups of 16 and its tail 32 bit periods after its last
  character (tests/emulator/test_pl011_interrupts.py checks the same events at register
  level).
- mini UART (8250_bcm2835aux through the 8250 core): the receive interrupt is pending while
  the FIFO holds a byte (BCM2835 ARM Peripherals §2.2.2, AUX_MU_IIR "receiver holds valid
  byte"), and ``serial8250_rx_chars`` reads while LSR.DR: each character is delivered when
  it completes (no `RxDelivery`; `UartTty` takes it at once).

[I] The handler runs at the interrupt instant (no IRQ or workqueue latency: the flip buffer
push is microseconds, far below a character time at these rates).
"""

from __future__ import annotations

from collections.abc import Callable

from .uart_line import EPS_NS
from .uart_rx import Chunk, UartReceiver

RT_BITS = 32
"""PL011 receive timeout: 32 bit periods of silence with the RX FIFO not empty."""


class RxDelivery:
    """The hardware RX FIFO between the receiver and the tty, emptied at each interrupt.

    ``trigger()`` is the FIFO level whose arrival interrupts (1: every character);
    ``timeout_ns()`` the receive timeout (None: none).
    """

    def __init__(self, trigger: Callable[[], int], timeout_ns: Callable[[], float | None]) -> None:
        self.trigger = trigger
        self.timeout_ns = timeout_ns
        self._data = bytearray()
        self._flags = bytearray()
        self._any_flags = False
        self._last_ns = 0.0
        self.interrupts = 0
        """Interrupts that delivered characters (RX level and receive timeout), for tests."""

    @property
    def held(self) -> int:
        """Characters received and waiting in the FIFO for the next interrupt."""
        return len(self._data)

    def push(
        self, chunks: list[Chunk], now_ns: float, deliver: Callable[[list[Chunk]], None]
    ) -> None:
        """Characters completed by ``now_ns`` into the FIFO; each interrupt due by then
        hands the FIFO's contents to ``deliver`` (as one `Chunk` at the interrupt time)."""
        if not self._data and not chunks:
            return  # (chunks: a list, from `UartReceiver.take`)
        rt = self.timeout_ns()
        trigger = self.trigger()
        for chunk in chunks:
            data, flags = chunk.data, chunk.flags
            n = len(data)
            # evenly spaced characters come a frame apart (< 32 bit periods): no timeout
            # inside the chunk, so the FIFO fills to the trigger in slices
            even = chunk.timer is None
            i = 0
            while i < n:
                at = chunk.time_of(i)
                if self._data and rt is not None and at - self._last_ns >= rt - EPS_NS:
                    self._flush(self._last_ns + rt, deliver)
                room = max(1, trigger - len(self._data))
                k = min(n - i, room) if even else 1
                self._data += data[i : i + k]
                if flags is not None:
                    self._flags += flags[i : i + k]
                    self._any_flags = True
                else:
                    self._flags += bytes(k)
                i += k
                self._last_ns = chunk.time_of(i - 1)
                if len(self._data) >= trigger:
                    self._flush(self._last_ns, deliver)
        if self._data and rt is not None and now_ns - self._last_ns >= rt - EPS_NS:
            self._flush(self._last_ns + rt, deliver)

    def _flush(self, at_ns: float, deliver: Callable[[list[Chunk]], None]) -> None:
        flags = bytes(self._flags) if self._any_flags else None
        chunk = Chunk(bytes(self._data), flags, at_ns, 0.0)
        self._data.clear()
        self._flags.clear()
        self._any_flags = False
        self.interrupts += 1
        deliver([chunk])

    def next_ns(self, rx: UartReceiver) -> float | None:
        """The earliest time the next interrupt can come, if known: the receive timeout of
        what the FIFO holds, or the completion of the character that reaches the trigger
        (a character arriving meanwhile may push the timeout later; the caller looks again)."""
        rt = self.timeout_ns()
        held = len(self._data)
        times = []
        if held and rt is not None:
            times.append(self._last_ns + rt)
        reach = rx.time_of(max(0, self.trigger() - held - 1))
        if reach is not None:
            times.append(reach)
        if not held and rt is not None:
            first = rx.time_of(0)
            if first is not None:
                times.append(first + rt)
        return min(times) if times else None

    def due_ns(self, rx: UartReceiver, need: int) -> float | None:
        """When to look again for ``need`` more characters than the tty has (a caller that
        also wakes on the receiver's news): the completion of the last one needed if it is
        still to come (none can be delivered before it completes); when it is the last one
        known and the FIFO cannot reach its trigger by then, its receive timeout; else
        `next_ns`."""
        ahead = need - len(self._data)
        if ahead > 0:
            when = rx.time_of(ahead - 1)
            if when is not None:
                rt = self.timeout_ns()
                if rt is not None and need < self.trigger() and rx.time_of(ahead) is None:
                    return when + rt
                return when
        return self.next_ns(rx)

    def discard(self) -> None:
        """The FIFO emptied without delivery (the driver drains it at startup)."""
        self._data.clear()
        self._flags.clear()
        self._any_flags = False
