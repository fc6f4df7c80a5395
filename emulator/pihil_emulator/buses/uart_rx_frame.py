"""One received UART frame: the error flags a receiver gives it, and how its bits are sampled.

`sample_frame` reads a frame as the receiver samples it (soc-facts §4.2): one sample at the
centre of each bit period after the start bit, data LSB first, then parity, then one stop
bit; on a PL011, FE when the stop bit is low, PE on a parity mismatch, and BE (with FE) when
the whole frame was low; the mini UART checks none of these. Both the per-character decoder
(`uart_rx_decoding`) and the memoised one (`uart_rx_memo`) sample frames through it.
`CharRun` is what a run of received characters (`uart_rx_chars.Run`,
`uart_rx_garbage.GarbageRun`) does alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .uart_line import LineSettings

FE = 0x1
"""Framing error: the stop bit was low (PL011 DR bit 8 when shifted by 8)."""
PE = 0x2
"""Parity error (DR bit 9)."""
BE = 0x4
"""Break: the whole frame was low (DR bit 10)."""
OE = 0x8
"""Overrun: the FIFO was full when a character arrived (DR bit 11); set by the FIFO, not here."""


def sample_frame(
    level: Callable[[float], int], t0: float, bit: float, s: LineSettings, pl011: bool
) -> tuple[int, int]:
    """(value, flags) of the frame whose start bit is sampled at ``t0``, ``bit`` ns a bit;
    ``level(t)`` is the line at ``t``, ``pl011`` whether parity, framing and break are checked."""
    value = 0
    for k in range(s.data_bits):
        if level(t0 + (k + 1) * bit):
            value |= 1 << k
    pos = 1 + s.data_bits
    flags = 0
    par_low = True
    if s.parity != "none":
        p = level(t0 + pos * bit)
        par_low = not p
        if pl011 and int(p) != s.parity_bit(value):
            flags |= PE
        pos += 1
    stop = level(t0 + pos * bit)
    if pl011 and not stop:
        flags |= FE
        if value == 0 and par_low:
            flags = BE | FE
    return value, flags


class CharRun:
    """Received characters with their flags (``data``/``flags`` None: all 0x00 / no flags)."""

    __slots__ = ("count", "data", "flags")
    count: int | None
    data: bytes | None
    flags: bytes | None

    def cut(self, keep: int) -> None:
        """Keep the first ``keep`` characters only."""
        self.count = keep
        if self.data is not None:
            self.data = self.data[:keep]
        if self.flags is not None:
            self.flags = self.flags[:keep]
