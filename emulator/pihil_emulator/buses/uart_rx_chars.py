"""What a UART receiver hands on: characters with error flags, and runs of them.

The flags (`FE`, `PE`, `BE`, `OE`: PL011 DR bits 8-11 shifted down, soc-facts §4.2), a
received character (`RxChar`), consecutive characters as one `Chunk`, and a burst accepted
whole as a `Run` with arithmetic completion times; `_samples_align` is the closed-form check
of when a burst may be accepted whole. The receiver itself is `uart_rx.UartReceiver`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .uart_line import EPS_NS, LineSettings
from .uart_rx_frame import BE as BE
from .uart_rx_frame import FE as FE
from .uart_rx_frame import OE as OE
from .uart_rx_frame import PE as PE
from .uart_rx_frame import CharRun
from .uart_rx_garbage import GarbageRun

ReceiverKind = Literal["pl011", "mini"]

SAMPLE_DELAY_BITS: dict[str, float] = {"pl011": 1 / 32, "mini": 1 / 16}
"""Mean start-detection latency in bits: half a tick of the 16x (PL011) or 8x (mini UART,
soc-facts §4.2 "8-times oversampling") sampling clock."""


@dataclass(frozen=True, slots=True)
class RxChar:
    """One received character: value, error flags (`FE`/`PE`/`BE`/`OE`), completion time."""

    value: int
    flags: int
    time_ns: float


@dataclass(slots=True)
class Chunk:
    """Consecutive received characters handed to a consumer.

    Character ``i`` completed at ``first_ns + i * pitch_ns``; ``flags`` is
    None when every character is clean.
    """

    data: bytes
    flags: bytes | None
    first_ns: float
    pitch_ns: float
    timer: Callable[[int], float] | None = None
    """Character ``i``'s completion when they are not evenly spaced (garbage decoded ahead)."""

    def time_of(self, i: int) -> float:
        if self.timer is not None:
            return self.timer(i)
        return self.first_ns + i * self.pitch_ns

    def chars(self) -> list[RxChar]:
        fl = self.flags
        return [
            RxChar(v, fl[i] if fl is not None else 0, self.time_of(i))
            for i, v in enumerate(self.data)
        ]


class Run(CharRun):
    """Characters the receiver decoded, not all handed out yet.

    ``count`` None with ``data`` None: an open-ended stream of 0x00 (a mini
    UART whose RX is held low), cut when the line moves.
    """

    __slots__ = (
        "await_before",
        "first_ns",
        "pitch_ns",
        "ready_before",
        "start0_ns",
        "taken",
    )

    def __init__(
        self,
        *,
        start0_ns: float,
        first_ns: float,
        pitch_ns: float,
        data: bytes | None,
        flags: bytes | None,
        count: int | None,
        ready_before: float,
        await_before: bool,
    ) -> None:
        self.start0_ns = start0_ns
        self.first_ns = first_ns
        self.pitch_ns = pitch_ns
        self.data = data
        self.flags = flags
        self.count = count
        self.ready_before = ready_before
        self.await_before = await_before
        self.taken = 0

    def completion(self, i: int) -> float:
        return self.first_ns + i * self.pitch_ns

    def start(self, i: int) -> float:
        return self.start0_ns + i * self.pitch_ns

    def count_until(self, t: float) -> int:
        """How many characters completed by ``t``."""
        if t + EPS_NS < self.first_ns:
            return 0
        n = int((t - self.first_ns + EPS_NS) // self.pitch_ns) + 1
        return n if self.count is None else min(n, self.count)

    def chunk(self, a: int, b: int) -> Chunk:
        """Characters ``a`` to ``b - 1`` as a `Chunk`."""
        data = bytes(b - a) if self.data is None else self.data[a:b]
        flags = None if self.flags is None else self.flags[a:b]
        return Chunk(data, flags, self.completion(a), self.pitch_ns)


def _chunk(run: Run | GarbageRun, a: int, b: int) -> Chunk:
    """Characters ``a`` to ``b - 1`` of ``run`` as a `Chunk`."""
    if isinstance(run, Run):
        return run.chunk(a, b)
    data = b"" if run.data is None else run.data[a:b]
    flags = None if run.flags is None else run.flags[a:b]
    completion = run.completion
    return Chunk(data, flags, completion(a), 0.0, lambda i: completion(a + i))


_MASKS: dict[int, bytes] = {
    bits: bytes(b & ((1 << bits) - 1) for b in range(256)) for bits in (5, 6, 7)
}


def _samples_align(tx: LineSettings, rx: LineSettings, delay_bits: float) -> bool:
    """True when a receiver ``rx`` decodes every frame of ``tx`` exactly (closed-form check).

    Same data bits and parity, and each of the receiver's sample instants
    ``(k + 0.5 + delay) * Trx`` after the start edge lands inside the sender's bit
    ``k``; the stop sample must land in the sender's stop bits, so the
    receiver is ready before the next start edge.
    """
    if tx.data_bits != rx.data_bits or tx.parity != rx.parity:
        return False
    ttx, trx = tx.bit_ns, rx.bit_ns
    m = rx.sampled_bits
    margin = 1e-3
    for k in range(m - 1):
        t = (k + 0.5 + delay_bits) * trx
        if not (k * ttx + margin < t < (k + 1) * ttx - margin):
            return False
    t_stop = (m - 0.5 + delay_bits) * trx
    return (m - 1) * ttx + margin < t_stop < tx.frame_ns - margin
