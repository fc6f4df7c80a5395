"""A plain SPI master on any nets, without a SoC block: device benches and software SPI.

It drives its chip-selects, SCLK and MOSI push-pull, reads MISO, and clocks
each transfer through the same `SpiBus` engine as SPI0 (closed form, one wait
per transfer). The SCLK period is ``1 / sclk_hz`` rounded to whole
nanoseconds, with no gap between bytes; /CS goes active half a period before
the first bit cell and inactive half a period after the last one.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import ConfigurationError
from ..world.clock import NS_PER_S
from ..world.net import Drive, Net
from .spi_bus import SpiBus, SpiClock, SpiPins
from .spi_target import check_mode


class SpiMaster:
    """Drives ``cs[i]`` (active low unless ``cs_high``), ``sclk`` and ``mosi``; samples ``miso``."""

    def __init__(
        self,
        bus: SpiBus,
        *,
        sclk: Net,
        mosi: Net | None,
        miso: Net | None,
        cs: Sequence[Net],
        sclk_hz: int = 1_000_000,
        owner: str = "spi-master",
    ) -> None:
        if not 1 <= sclk_hz <= NS_PER_S // 2:
            raise ConfigurationError(
                f"sclk_hz must be 1..{NS_PER_S // 2} (a half period of at least 1 ns), got {sclk_hz}"
            )
        self.bus = bus
        self.world = bus.world
        self.pins = SpiPins([sclk], [mosi] if mosi is not None else [], miso)
        self.cs = list(cs)
        self.owner = owner
        half_ns = max(1, round(NS_PER_S / sclk_hz / 2))
        # one "core cycle" per nanosecond: the divisor is the period in ns
        self.clock = SpiClock(NS_PER_S, 2 * half_ns, gap_sclk_cycles=0)
        self._mosi_level = False
        self._cs_high = [False] * len(self.cs)
        sclk.drive(owner, Drive.push_pull(False))
        if mosi is not None:
            mosi.drive(owner, Drive.push_pull(False))
        for net in self.cs:
            net.drive(owner, Drive.push_pull(True))

    def set_cs_polarity(self, index: int, active_high: bool) -> None:
        self._check_cs(index)
        self._cs_high[index] = active_high
        self.cs[index].drive(self.owner, Drive.push_pull(not active_high))

    def _check_cs(self, index: int) -> None:
        if not 0 <= index < len(self.cs):
            raise ConfigurationError(
                f"chip select {index} does not exist; this master has {len(self.cs)} (0..{len(self.cs) - 1})"
            )

    def transfer(self, tx: bytes, *, cs: int = 0, mode: int = 0) -> bytes:
        """Full-duplex transfer of ``tx`` with ``cs`` active; advances simulated time."""
        self._check_cs(cs)
        check_mode(mode)
        cpol = bool(mode >> 1)
        sclk = self.pins.sclk[0]
        sclk.drive(self.owner, Drive.push_pull(cpol))
        active = self._cs_high[cs]
        half_ns = self.clock.half_cycles
        self.cs[cs].drive(self.owner, Drive.push_pull(active))
        self.world.run_for(half_ns)
        run = self.bus.run(
            bytes(tx),
            t0_ns=self.world.now_ns,
            clock=self.clock,
            mode=mode,
            pins=self.pins,
            mosi_before=self._mosi_level,
        )
        self.world.run_for(run.end_ns - self.world.now_ns + half_ns)
        self._mosi_level = run.mosi_last
        for net in self.pins.mosi:
            net.drive(self.owner, Drive.push_pull(run.mosi_last))
        self.cs[cs].drive(self.owner, Drive.push_pull(not active))
        self.bus.release_edges(self.pins, self.world.now_ns)
        return run.rx
