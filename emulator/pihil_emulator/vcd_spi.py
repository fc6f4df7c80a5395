"""Closed-form SPI runs as compact waveform data, rendered to VCD text in bulk (issue 13 item 3).

`SpiWave` is what the SPI engine (buses/spi_bus.py) hands a `VcdRecorder`
(vcd.py, the one VCD writer) instead of an `Edge` per SCLK/MOSI/MISO change: the bytes
both ways, the bit period, the start time, the mode and the pins' names. `SpiWave.edges`
is the reference, edge by edge; `SpiWave.render` gives the recorder the same text in
bulk: the instants' times by ``range`` arithmetic, MOSI/MISO changes found with integer
bit operations over the whole run, each bit's lines taken from a small table, filled in
with one ``%`` format (tests/emulator/test_vcd_lazy_spi.py compares the two).
"""

from __future__ import annotations

from dataclasses import dataclass

from .world.clock import NS_PER_S
from .world.edges import Edge

_STAMP = "#%d\n"
_NO_STAMP = "%.0s"  # takes an instant's time and prints nothing: that instant has no change


@dataclass(frozen=True)
class SpiWave:
    """One closed-form SPI run as data (what `SpiBus.run` computed): its SCLK, MOSI and MISO
    waveforms follow from these fields alone.

    Timing as the engine counts it (buses/spi_bus.py): bit cells of ``2 * half_cycles``
    core-clock cycles from ``t0_ns``, ``gap_sclk_cycles`` idle SCLK periods after each
    byte; mode ``cpol``/``cpha`` (soc-facts §4.1). MISO changes where the master launches
    its bits, its first bit always given (see `edges`).
    """

    tx: bytes
    rx: bytes
    t0_ns: int
    core_clock_hz: int
    half_cycles: int
    gap_sclk_cycles: int
    cpol: int
    cpha: int
    sclk: tuple[str, ...]
    mosi: tuple[str, ...]
    miso: str | None
    mosi_before: bool

    def _ns(self, cycles: int) -> int:
        return cycles * NS_PER_S // self.core_clock_hz

    @property
    def byte_halves(self) -> int:
        """Half periods from one byte's first bit cell to the next byte's."""
        return 16 + 2 * self.gap_sclk_cycles

    @property
    def last_ns(self) -> int:
        """The last edge: the trailing SCLK edge of the last bit."""
        n = len(self.tx)
        return self.t0_ns + self._ns(
            ((n - 1) * self.byte_halves + 16 - self.cpha) * self.half_cycles
        )

    def edges(self) -> list[Edge]:
        """The run's edges one by one, in the engine's order (the reference of `render`).

        MISO's first bit is always given, whatever the net's level: the engine never drives
        the MISO net, so between the bytes of a register-level transfer (one run each) the
        line holds what the slave drove last, not the net's undriven level, and a byte whose
        first bit equals the undriven level would otherwise leave the previous bit on the
        recording (issue 12 item 4). A recorder drops a change to the level it already has.
        """
        out: list[Edge] = []
        half = self.half_cycles
        byte_cycles = self.byte_halves * half
        ns = self._ns
        t0, cpha = self.t0_ns, self.cpha
        active = not self.cpol
        mosi_level = int(self.mosi_before)
        miso_level = -1  # unknown: the first bit cell always sets it
        miso_name = self.miso
        for k, (b, r) in enumerate(zip(self.tx, self.rx, strict=True)):
            base = k * byte_cycles
            for i in range(8):
                cell = base + 2 * i * half
                t_cell = t0 + ns(cell)
                bit = (b >> (7 - i)) & 1
                if bit != mosi_level:
                    mosi_level = bit
                    out.extend(Edge(t_cell, name, bool(bit)) for name in self.mosi)
                rbit = (r >> (7 - i)) & 1
                if miso_name is not None and rbit != miso_level:
                    miso_level = rbit
                    out.append(Edge(t_cell, miso_name, bool(rbit)))
                lead = t0 + ns(cell + (1 - cpha) * half)
                trail = t0 + ns(cell + (2 - cpha) * half)
                for name in self.sclk:
                    out.append(Edge(lead, name, active))
                    out.append(Edge(trail, name, not active))
        return out

    @property
    def held(self) -> int:
        """What the run counts for in a recorder's held changes (its bytes)."""
        return len(self.tx)

    def recordable(self, recorded: dict[str, str]) -> bool:
        """Whether a recorder of ``recorded`` keeps it as data: it has bytes and an SCLK of
        it is recorded (`first_ns` and `render` count from SCLK)."""
        return bool(self.tx) and any(n in recorded for n in self.sclk)

    def first_ns(self, recorded: dict[str, str]) -> int:
        """The first edge on a net of ``recorded`` (one of `sclk` at least is)."""
        first = self.t0_ns + self._ns((1 - self.cpha) * self.half_cycles)  # the first SCLK edge
        mosi_moves = (self.tx[0] >> 7) != self.mosi_before and any(n in recorded for n in self.mosi)
        if mosi_moves or self.miso in recorded:
            first = self.t0_ns
        return first

    def edge_count(self, recorded: dict[str, str]) -> int:
        """How many of `edges` are on nets of ``recorded``."""
        bits = 8 * len(self.tx)
        x = int.from_bytes(self.tx, "big")
        mosi_changes = (x ^ ((self.mosi_before << bits | x) >> 1)).bit_count()
        count = 2 * bits * sum(n in recorded for n in self.sclk)
        count += mosi_changes * sum(n in recorded for n in self.mosi)
        if self.miso in recorded:
            r = int.from_bytes(self.rx, "big")
            count += 1 + ((r ^ (r >> 1)) & ((1 << (bits - 1)) - 1)).bit_count()
        return count

    def render(
        self, ids: dict[str, str], last: dict[str, bool], t_prev: int, shift: int
    ) -> tuple[str, int] | None:
        """The VCD text `VcdRecorder` writes for `edges` (sorted by time, repeats dropped,
        ``#t`` before the first change of each instant), from the recorder's state (``last``
        levels, updated here; the last ``#t`` written; its time shift), and the new last
        ``#t``. None when the state is not the one the bulk rendering assumes (SCLK idle,
        MOSI at ``mosi_before`` on the recording, instants at least 1 ns apart): then the
        recorder writes `edges` one by one."""
        n = len(self.tx)
        sclk = [name for name in self.sclk if name in ids]
        mosi = [name for name in self.mosi if name in ids]
        miso = self.miso if self.miso in ids else None
        idle, before = bool(self.cpol), self.mosi_before
        t0 = self.t0_ns + shift
        if (
            not n
            or not sclk
            or t_prev >= t0
            or self.half_cycles * NS_PER_S < self.core_clock_hz  # instants closer than 1 ns
            or any(last[name] is not idle for name in sclk)
            or any(last[name] is not before for name in mosi)
        ):
            return None
        cpha, gap = self.cpha, self.gap_sclk_cycles
        bits = 8 * n
        # per bit: MOSI code (0 no change, 1 to 0, 2 to 1), MISO code, as one byte each
        zero = int.from_bytes(b"0" * bits, "big")

        def spread(v: int) -> int:  # bit j of the stream (MSB first) -> byte j, 0 or 1
            return int.from_bytes(format(v, f"0{bits}b").encode("ascii"), "big") - zero

        x = int.from_bytes(self.tx, "big")
        bx = spread(x)
        bc = spread(x ^ ((before << bits | x) >> 1))
        code = 3 * (bc + (bc & bx))
        if miso is not None:
            r = int.from_bytes(self.rx, "big")
            br = spread(r)
            bq = spread(r ^ ((last[miso] << bits | r) >> 1))
            code += bq + (bq & br)
        # the bit's place: 9 when the previous bit's trailing edge shares its first instant
        # (CPHA 0), 18 when the byte's idle gap follows it (not after the last byte)
        trail = 9 if cpha == 0 else 0
        first = bytearray([0] + [trail] * 7)
        rest = bytearray([trail if gap == 0 else 0] + [trail] * 7)
        if n == 1:
            places = bytes(first)
        else:
            first_gap, rest_gap = bytearray(first), bytearray(rest)
            if gap:
                first_gap[7] += 18
                rest_gap[7] += 18
            places = bytes(first_gap + rest_gap * (n - 2) + rest)
        code += int.from_bytes(places, "big")
        symbols = code.to_bytes(bits, "big")

        code_of = {name: ids[name].replace("%", "%%") for name in (*sclk, *mosi)}  # for `%`
        active_lines = "".join(f"{int(not idle)}{code_of[name]}\n" for name in sclk)
        idle_lines = "".join(f"{int(idle)}{code_of[name]}\n" for name in sclk)
        mosi_lines = (
            "",
            "".join(f"0{code_of[name]}\n" for name in mosi),
            "".join(f"1{code_of[name]}\n" for name in mosi),
        )
        miso_lines: tuple[str, str, str] = ("", "", "")
        if miso is not None:
            miso_code = ids[miso].replace("%", "%%")
            miso_lines = ("", f"0{miso_code}\n", f"1{miso_code}\n")

        def slot(lines: str) -> str:
            return _STAMP + lines if lines else _NO_STAMP

        table: list[str] = []
        for where in range(4):  # bit 0..1: trailing edge before; bit 1: gap after
            trail_before, gap_after = where & 1, where >> 1
            for m in range(3):
                for q in range(3):
                    data = mosi_lines[m] + miso_lines[q]
                    if cpha == 0:
                        piece = slot((idle_lines if trail_before else "") + data) + slot(
                            active_lines
                        )
                        if gap_after:
                            piece += slot(idle_lines) + _NO_STAMP * (2 * gap - 1)
                    else:
                        piece = slot(data + active_lines) + slot(idle_lines)
                        if gap_after:
                            piece += _NO_STAMP * (2 * gap)
                    table.append(piece)
        text_format = "".join(map(table.__getitem__, symbols))
        if cpha == 0:
            text_format += slot(idle_lines)  # the last bit's trailing edge
        instants = (n - 1) * self.byte_halves + 17 - cpha
        step = self.half_cycles * NS_PER_S
        hz = self.core_clock_hz
        if step % hz == 0:
            h = step // hz
            times: tuple[int, ...] = tuple(range(t0, t0 + instants * h, h))
        else:
            times = tuple(t0 + m * step // hz for m in range(instants))
        for name in sclk:
            last[name] = idle
        for name in mosi:
            last[name] = bool(self.tx[-1] & 1)
        if miso is not None:
            last[miso] = bool(self.rx[-1] & 1)
        return text_format % times, times[-1]
