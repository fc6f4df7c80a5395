"""The Linux driver spi-bcm2835 on SPI0: ``transfer`` as the kernel programs the block.

CDIV as the driver computes it from the core clock rate it read at probe (``bs->clk_hz``;
SCLK itself is always the core clock now / CDIV, soc-facts §4.1), polled / interrupt /
DMA choice by length (only the gap between bytes differs), CS prepared with
CPOL/CPHA/CSPOL, TA set, the bytes clocked through the bus engine in closed form (one
wait for the whole transfer), then the driver's reset of the block (TA cleared, FIFOs
cleared, DLEN = 0).

Two paths give the same result (tests/emulator/test_spi_fast_path_equivalence.py): the
reference path writes the registers one by one through the block; the closed form
(issue 13 item 1, `Spi0Driver._transfer_fast`, taken while nothing could tell them
apart: see `Spi0Driver._fast_pins`) sets the same state directly, drives only the pins
whose level changes and advances time in one step when nothing else is due
(`advance_idle`). ``Spi0Block.fast_path = False`` keeps the reference path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..buses.spi_bus import SpiClock, SpiPins, advance_idle, effective_divisor, recorders_on
from ..buses.spi_target import check_mode
from ..errors import BusError, ConfigurationError
from ..vcd import VcdRecorder
from ..world.clock import NS_PER_S
from .spi0_map import (
    CE_SIGNALS,
    CPOL,
    CS_BITS,
    CSPOL,
    CSPOLN,
    DMA_MIN_LENGTH,
    DMAEN,
    MISO,
    MODE_BITS,
    MOSI,
    POLLING_LIMIT_US,
    RESET_OFF,
    SCLK,
    STORED_MASK,
    TA,
)

if TYPE_CHECKING:
    from .spi0 import Spi0Block


def linux_cdiv(core_clock_hz: int, speed_hz: int) -> int:
    """CLK.CDIV for ``speed_hz`` exactly as spi-bcm2835.c computes it (soc-facts §4.1)."""
    if speed_hz >= core_clock_hz // 2:
        return 2  # clk_hz/2 is the fastest we can go
    if speed_hz:
        cdiv = -(-core_clock_hz // speed_hz)  # DIV_ROUND_UP
        cdiv += cdiv % 2  # CDIV must be a multiple of two
        return 0 if cdiv >= 65536 else cdiv
    return 0


def effective_speed_hz(core_clock_hz: int, cdiv: int) -> int:
    """``effective_speed_hz = cdiv ? clk_hz / cdiv : clk_hz / 65536`` (integer, as Linux)."""
    return core_clock_hz // cdiv if cdiv else core_clock_hz // 65536


class Spi0Driver:
    """spi-bcm2835's transfer on one SPI0 block (`Spi0Block.transfer` calls it)."""

    def __init__(self, block: Spi0Block) -> None:
        self.block = block
        self._requests: dict[tuple[object, ...], tuple[int, int, int]] = {}
        """(field, CDIV, CSPOLn) of a checked request, per (its arguments and their types,
        the probed clock rate, the GPIO routing generation): the checks and the routing test
        pass alike while those stay, so a kept answer is what they compute. Plain dict on
        the driver, so a snapshot restores it with the routing generation it was made for."""
        self._pins_memo: tuple[int, SpiPins] | None = None
        """(routing generation, `SpiPins`) while no VCD recorder is open (`_fast_pins`)."""
        self._clocks: dict[tuple[int, int, int], tuple[SpiClock, int]] = {}
        """(`SpiClock`, half period in ns) per (core clock, divisor, gap): pure values."""

    def _drive_changed(self, cs: int) -> None:
        """`_drive_pins` for CS value ``cs``, skipping the signals already at their level.

        Exact: this block is the only driver under its owner name, and an equal drive is
        a no-op for GPIO and the nets (`Net.drive`), so no watcher sees a difference."""
        b = self.block
        driven = b._driven
        level = bool(cs & CPOL)
        if driven.get(SCLK) is not level:
            b._drive(SCLK, level)
        level = b._mosi_level
        if driven.get(MOSI) is not level:
            b._drive(MOSI, level)
        selected = cs & 0b11 if cs & TA else -1
        for line, signal in enumerate(b._ce_signals):
            active_high = bool(cs >> (21 + line) & 1)
            level = active_high if line == selected else not active_high
            if driven.get(signal) is not level:
                b._drive(signal, level)

    # -- the Linux driver --------------------------------------------------------------
    def transfer(
        self,
        tx: bytes,
        *,
        cs: int,
        mode: int,
        speed_hz: int,
        cs_high: bool = False,
        bits_per_word: int = 8,
        hold_cs: bool = False,
        no_cs: bool = False,
    ) -> bytes:
        """One spidev transfer as spi-bcm2835 runs it; returns the bytes read (same length).

        ``hold_cs`` leaves /CS asserted after the transfer (TA stays 1), as the spi core
        holds a message's chip select between its transfers; the next transfer to the held
        chip select does not deassert it first, and `release_cs` ends it. ``no_cs``
        (SPI_NO_CS) asserts no chip select (CS field 0b11, as the Linux driver programs it).

        Raises `ConfigurationError` for a mode, word size or speed the controller cannot
        do, and `BusError` (kind ``not_routed``) when no GPIO is routed to the chip select
        or SCLK.
        """
        b = self.block
        gpio = b.soc.gpio
        clk = b.linux_clk_hz  # the rate the driver knows; the wire runs at core_clock_hz
        key = (
            cs,
            mode,
            speed_hz,
            bits_per_word,
            no_cs,
            type(cs),
            type(mode),
            type(speed_hz),
            type(bits_per_word),
            clk,
            gpio.routing_generation,
        )
        known = self._requests.get(key) if type(tx) is bytes else None
        if known is not None:
            data = tx
            field, cdiv, speed = known
        else:
            data = self._check_request(tx, cs, mode, speed_hz, bits_per_word)
            field, cdiv, speed = self._resolve(cs, speed_hz, no_cs, clk)
            if len(self._requests) >= 64:
                self._requests.clear()
            self._requests[key] = (field, cdiv, speed)
        b.effective_speed_hz = speed
        cs_now = b._values["CS"]
        held = b._held_cs == field and bool(cs_now & TA) and (cs_now & 0b11) == field
        # prepare CS as the driver does: mode bits, chip select, per-line polarity
        value = cs_now & ~MODE_BITS
        value |= field | (mode >> 1) << 3 | (mode & 1) << 2
        pol = CSPOLN[cs]
        value = (value | pol | CSPOL) if cs_high else (value & ~pol & ~CSPOL)
        value &= ~(TA | DMAEN)
        changed = (b._values["CS"] ^ value) & (CPOL | pol)
        use_dma = len(data) >= DMA_MIN_LENGTH and len(data) >= self._poll_byte_limit()
        # a mode or polarity change waits half a period between the CLEAR and the TA write
        # (below), during which anything may happen: that transfer takes the reference path
        pins = self._fast_pins() if b.fast_path and (held or not changed) else None
        if pins is not None:
            b.fast_transfers += 1
            return self._transfer_fast(data, value, cdiv, field, held, hold_cs, use_dma, pins)
        b.write("CLK", cdiv)
        # prepare_message: "Set up clock polarity before spi_transfer_one_message() asserts chip
        # select to avoid a gratuitous clock transition" (TA still 0)
        if not held:
            b.write("CS", value | CS_BITS["CLEAR"].mask)
            if changed:
                b.world.run_for(b._clock().ns(b.divisor // 2))
        if use_dma:
            b.write("DLEN", len(data) & 0xFFFF)
        b.write("CS", value | TA | (DMAEN if use_dma else 0))
        rx = self._clock_bulk(data)
        # bcm2835_spi_reset_hw: TA, DMAEN and interrupts off, DONE written, FIFOs cleared, DLEN 0
        off = CS_BITS["INTR"].mask | CS_BITS["INTD"].mask | DMAEN | (0 if hold_cs else TA)
        b.write("CS", (b.read("CS") & ~off) | CS_BITS["DONE"].mask | CS_BITS["CLEAR"].mask)
        b.write("DLEN", 0)
        b._held_cs = field if hold_cs else None
        return rx

    def _resolve(self, cs: int, speed_hz: int, no_cs: bool, clk: int) -> tuple[int, int, int]:
        """(CS field, CDIV, effective speed) of a checked request; raises `BusError` (kind
        ``not_routed``) when the chip select or SCLK has no pin now."""
        b = self.block
        gpio = b.soc.gpio
        signal = self._ce_signal(cs)
        for needed in (SCLK,) if no_cs else (signal, SCLK):
            if not gpio.lines_for(needed):
                where = ", ".join(f"GPIO{n} ALT{a}" for n, a in gpio.candidates(needed))
                raise BusError(
                    f"chip select {cs} needs {needed} routed to a pin, and none is "
                    f"(route one of: {where or 'no pin on this chip'})",
                    bus=b.name,
                    kind="not_routed",
                    time_ns=b.world.now_ns,
                )
        cdiv = linux_cdiv(clk, speed_hz)
        return 0b11 if no_cs else cs, cdiv, effective_speed_hz(clk, cdiv)

    # -- the Linux driver's transfer in closed form --------------------------------------
    def _fast_pins(self) -> SpiPins | None:
        """The pins, when `_transfer_fast` may run: nothing that the register-by-register path
        would show differently, or that could interfere, is there: no register-level
        transfer in progress (bytes in the TX FIFO, a shifter process), no VCD recorder
        on the SPI nets (it takes the reference path's waveform, lazily, from
        `SpiBus.run`), no fault on the bus (a stuck MISO, a silent or dropped device).
        The register policy has nothing to say: the driver writes defined bits only
        (CDIV, DLEN & 0xffff, CS fields)."""
        b = self.block
        if b._tx or b._proc is not None or b._shifting or b.bus.dominant_owners:
            return None
        for link in b.bus.links:
            target = link.target
            if not (target.present and target.answering):
                return None
        gpio = b.soc.gpio
        generation = gpio.routing_generation
        if not VcdRecorder.open_count:
            memo = self._pins_memo
            if memo is not None and memo[0] == generation:
                return memo[1]
        sclk, mosi, miso = gpio.signal_nets(SCLK), gpio.signal_nets(MOSI), gpio.signal_nets(MISO)
        if VcdRecorder.open_count:
            nets = [*sclk, *mosi, *miso]
            for signal in b._ce_signals:
                nets += gpio.signal_nets(signal)
            if recorders_on(nets):
                return None
        pins = SpiPins(sclk, mosi, miso[0] if miso else None)
        self._pins_memo = (generation, pins)
        return pins

    def _transfer_fast(
        self,
        data: bytes,
        value: int,
        cdiv: int,
        field: int,
        held: bool,
        hold_cs: bool,
        use_dma: bool,
        pins: SpiPins,
    ) -> bytes:
        """`transfer` with the registers set directly: the same state at every instant
        simulated time can advance (after the TA write, at the end of the data phase and
        the reset of the block), the pins driven only where their level changes,
        time advanced by one step when nothing else is due before the end
        (`advance_idle`). Tested equal to the reference path
        (tests/emulator/test_spi_fast_path_equivalence.py)."""
        b = self.block
        values = b._values
        world = b.world
        values["CLK"] = cdiv
        hz = b.core_clock_hz
        gap = 0 if use_dma else 1
        timing = self._clocks.get((hz, cdiv, gap))
        if timing is None:
            divisor = effective_divisor(cdiv)
            clock = SpiClock(hz, divisor, gap_sclk_cycles=gap)
            if len(self._clocks) >= 64:
                self._clocks.clear()
            timing = self._clocks[(hz, cdiv, gap)] = (clock, divisor // 2 * NS_PER_S // hz)
        clock, half_ns = timing
        if not held:  # _write_CS(value | CLEAR): FIFOs cleared, TA off, /CS inactive
            b._tx.clear()
            b._rx.clear()
            old_cs = values["CS"]
            if old_cs & TA:
                b._generation += 1
                b._shifting = False
                b._proc = None
            values["CS"] = value = value & STORED_MASK
            if old_cs & TA:
                self._drive_changed(value)
            # else no level changes: SCLK keeps CPOL (unchanged, or this is the reference
            # path), MOSI its level, every /CS stays inactive with its polarity unchanged
        if use_dma:
            values["DLEN"] = len(data) & 0xFFFF
        new = (value | TA | (DMAEN if use_dma else 0)) & STORED_MASK
        old = values["CS"]
        values["CS"] = new
        if not old & TA:
            b._generation += 1
            b.sync_devices()
            b._next_start_ns = world.now_ns + half_ns
            b._dlen_left = values["DLEN"] & 0xFFFF
            if field < len(b._ce_signals):  # only the selected /CS changes level
                signal = b._ce_signals[field]
                level = bool(new >> (21 + field) & 1)  # TA = 1: active (CSPOLn)
                if b._driven.get(signal) is not level:
                    b._drive(signal, level)
        else:
            self._drive_changed(new)  # held: the mode (CPOL) may differ
        # the data phase (_clock_bulk)
        if not data:
            advance_idle(world, 2 * half_ns)
            rx = b""
        else:
            b._shifting = True
            try:
                run = b.bus.run(
                    data,
                    t0_ns=max(world.now_ns + half_ns, b._next_start_ns),
                    clock=clock,
                    mode=(new >> 3 & 1) << 1 | (new >> 2 & 1),
                    pins=pins,
                    mosi_before=b._mosi_level,
                    record=False,
                )
                advance_idle(world, run.end_ns + half_ns - world.now_ns)
            finally:
                b._shifting = False
            b._mosi_level = level = run.mosi_last
            if b._driven.get(MOSI) is not level:
                b._drive(MOSI, level)
            rx = run.rx
        # bcm2835_spi_reset_hw: TA (unless held), DMAEN, interrupts off; FIFOs cleared
        cur = values["CS"]
        b._tx.clear()
        b._rx.clear()
        end = cur & ~(RESET_OFF | (0 if hold_cs else TA))
        values["CS"] = end
        if cur & TA and not end & TA:
            b._generation += 1
            b._shifting = False
            b._proc = None
            if field < len(b._ce_signals):  # /CS inactive; SCLK, MOSI keep theirs
                signal = b._ce_signals[field]
                level = not end >> (21 + field) & 1
                if b._driven.get(signal) is not level:
                    b._drive(signal, level)
        values["DLEN"] = 0
        b._held_cs = field if hold_cs else None
        return rx

    def release_cs(self) -> None:
        """Deassert the chip select a `transfer` with ``hold_cs`` left asserted (TA = 0)."""
        b = self.block
        if b._held_cs is None:
            return
        b._held_cs = None
        b.write("CS", (b.read("CS") & ~TA) | CS_BITS["CLEAR"].mask)

    def _poll_byte_limit(self) -> int:
        """spi-bcm2835: transfers shorter than this run polled (9 clocks per byte in 30 µs)."""
        b = self.block
        hz_per_byte = (9 * 1_000_000) // POLLING_LIMIT_US
        return b.effective_speed_hz // hz_per_byte

    def _clock_bulk(self, data: bytes) -> bytes:
        """The data phase in closed form: one wait for the whole transfer."""
        b = self.block
        world = b.world
        clock = b._clock()
        half_ns = clock.ns(clock.half_cycles)
        if not data:
            world.run_for(2 * half_ns)
            return b""
        b._shifting = True
        try:
            t0 = max(world.now_ns + half_ns, b._next_start_ns)
            run = b.bus.run(
                data,
                t0_ns=t0,
                clock=clock,
                mode=b.mode,
                pins=b._pins(),
                mosi_before=b._mosi_level,
            )
            world.run_for(run.end_ns + half_ns - world.now_ns)
        finally:
            b._shifting = False
        b._mosi_level = run.mosi_last
        b._drive(MOSI, run.mosi_last)
        return run.rx

    def _ce_signal(self, cs: int) -> str:
        b = self.block
        signal = CE_SIGNALS[cs]
        if signal not in b._ce_signals:
            raise BusError(
                f"chip select {cs} ({signal}) has no pin on the {b.soc.variant.name}; "
                f"SPI0 chip selects here: {', '.join(str(i) for i in range(len(b._ce_signals)))}",
                bus=b.name,
                kind="not_routed",
                time_ns=b.world.now_ns,
            )
        return signal

    def _check_request(
        self, tx: bytes, cs: int, mode: int, speed_hz: int, bits_per_word: int
    ) -> bytes:
        b = self.block
        if not isinstance(tx, bytes | bytearray | memoryview):
            raise ConfigurationError(f"{b.name}: tx must be bytes, got {type(tx).__name__}")
        if bits_per_word != 8:
            raise ConfigurationError(
                f"{b.name}: spi-bcm2835 supports 8-bit words only "
                f"(bits_per_word_mask = SPI_BPW_MASK(8)), got {bits_per_word}"
            )
        check_mode(mode)
        if not isinstance(cs, int) or isinstance(cs, bool) or not 0 <= cs < len(CE_SIGNALS):
            raise ConfigurationError(f"{b.name}: chip select must be 0, 1 or 2, got {cs!r}")
        clk = b.linux_clk_hz
        fastest, slowest = clk // 2, -(-clk // 65536)
        if (
            not isinstance(speed_hz, int)
            or isinstance(speed_hz, bool)
            or not slowest <= speed_hz <= fastest
        ):
            raise ConfigurationError(
                f"{b.name}: speed {speed_hz!r} Hz is outside what CDIV allows at a "
                f"{clk / 1e6:g} MHz core clock: {slowest} Hz (CDIV 65536) .. {fastest} Hz (CDIV 2)"
            )
        return bytes(tx)
