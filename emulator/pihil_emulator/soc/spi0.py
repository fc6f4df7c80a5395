"""SPI0, the BCM2835/BCM2711 SPI master, at register level (soc-facts §4.1, BCM2711-DS ch.9).

Registers (map below, as data): CS with its mode, chip-select and status bits,
the 64-byte TX and RX FIFOs behind FIFO, CLK (CDIV), DLEN, LTOH, DC.

Register-level behaviour: with TA = 1 the chip-select line named by CS.CS goes
to its active level (CSPOLn per line; all lines inactive with TA = 0) and
every byte written to the FIFO is shifted out, one byte per event, 8 SCLK
periods plus one idle period after it when the CPU feeds the FIFO (DMAEN = 0)
or none under DMA; RX bytes land in the RX FIFO, and when it is full (RXF) the
clock pauses until software reads. TXD, RXD, RXR (RX FIFO ≥ 48 bytes, cleared
by TA = 0), RXF and DONE (TA = 1, TX FIFO empty, shifter idle) are computed
from the FIFOs; CLEAR empties them (one-shot, reads 0). With DMAEN = 1 the
FIFO register takes and gives 32-bit words (four bytes, little endian), a
write with TA = 0 loads DLEN (bits 31:16) and CS (bits 7:0), and DLEN bytes
are sent (datasheet DMA recipe).

The driver entry point `Spi0Block.transfer` follows Linux spi-bcm2835
(`pihil_emulator.soc.spi0_driver`: register by register, or in closed form when nothing
can tell the difference); the register map and bit masks are data in
`pihil_emulator.soc.spi0_map`.

Pins go through the GPIO block's signals (GPIO7-11 ALT0 on both chips):
SPI0_SCLK (idle at CPOL), SPI0_MOSI, SPI0_CE0_N / SPI0_CE1_N (and CE2 where
the chip routes it), SPI0_MISO in.

Modelling choices [I]: /CS goes active half an SCLK period before the first
bit cell and inactive half a period after the last one; MOSI keeps its last
bit between transfers; the global CSPOL bit (6) is stored but the level of
each line follows its own CSPOLn bit (the Linux driver's CS_HIGH handling only
works that way); LoSSI (LEN) and 3-wire (REN) are stored, not modelled.

Interrupt output (BCM2835 ARM Peripherals §10.6, CS: INTD "Generate interrupt when DONE = 1",
INTR "Generate interrupt while RXR = 1"): `Spi0Block.irq_line` is the level the interrupt
controller sees, (INTD and DONE) or (INTR and RXR), as `BscBlock.irq_line` is for the BSC;
`Spi0Block.irq_event` is a SimPy event that fires when the line is (or goes) high, for a
driver model that sleeps until its interrupt as spi-bcm2835's ``bcm2835_spi_interrupt`` does. Driven register by register, each FIFO byte is its own run of the
bus engine, so a device clocked outside its SPI modes loses its sub-byte
phase between bytes (the closed-form `transfer` keeps it across the transfer).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, ClassVar

import simpy

from ..buses.spi_bus import SpiBus, SpiClock, SpiPins, effective_divisor
from ..buses.spi_target import SpiTarget
from ..errors import ConfigurationError
from ..world.net import Drive, Net
from .registers import RegisterBlock, RegisterMap
from .spi0_driver import Spi0Driver, effective_speed_hz, linux_cdiv
from .spi0_map import (
    CE_SIGNALS,
    CS_BITS,
    CS_ROLES,
    DMA_MIN_LENGTH,
    DMAEN,
    FIFO_3_4,
    FIFO_SIZE,
    MISO,
    MOSI,
    POLLING_LIMIT_US,
    SCLK,
    SPI0_MAP,
    STORED_MASK,
    TA,
)

_PUSH_PULL = (Drive.push_pull(False), Drive.push_pull(True))
"""The two push-pull drives (frozen values, shared: an equal drive is the same drive)."""

if TYPE_CHECKING:
    from ..attachments import Attachment
    from .soc import Soc

__all__ = [
    "CE_SIGNALS",
    "CS_BITS",
    "DMA_MIN_LENGTH",
    "FIFO_3_4",
    "FIFO_SIZE",
    "MISO",
    "MOSI",
    "POLLING_LIMIT_US",
    "SCLK",
    "SPI0_MAP",
    "Spi0Block",
    "effective_speed_hz",
    "linux_cdiv",
]


class Spi0Block(RegisterBlock):
    """SPI0: registers, FIFOs, pins through GPIO, and the Linux driver's transfer."""

    MAP: ClassVar[RegisterMap] = SPI0_MAP

    def __init__(self, soc: Soc, name: str = "spi0") -> None:
        self.soc = soc
        self.world = soc.world
        self.owner = name
        self.bus = SpiBus(soc.world, name)
        self._tx: deque[int] = deque()
        self._rx: deque[int] = deque()
        self._shifting = False
        self._proc: simpy.Process | None = None
        self._generation = 0
        self._next_start_ns = 0
        self._mosi_level = False
        self._dlen_left = 0
        self._held_cs: int | None = None  # CS field left asserted by `transfer(hold_cs=True)`
        self._attached: dict[int, Attachment] = {}  # id(attachment) -> attachment in the engine
        self._ce_signals = tuple(s for s in CE_SIGNALS if soc.gpio.candidates(s))
        self._sync_key: tuple[object, ...] = ()
        self._sync_mine: list[Attachment] = []
        self._sync_owners: tuple[str | None, ...] | None = None
        """Each `_sync_mine` device's ``bus_owner`` as the last `sync_devices` left them."""
        self._driven: dict[str, bool] = {}  # signal -> level this block drives on it now
        self._irq_waiters: list[simpy.Event] = []  # `irq_event`s not fired yet
        self.fast_path = True
        """`transfer` in closed form when nothing can observe the difference (`_fast_pins`);
        False: the reference path, register write by register write."""
        self.fast_transfers = 0
        """Transfers `transfer` ran on the fast path (for tests)."""
        self.driver = Spi0Driver(self)
        self.effective_speed_hz = 0
        """What the driver's last transfer computed (``effective_speed_hz`` in spi-bcm2835)."""
        self.linux_clk_hz: int = soc.variant.core_clock_hz
        """spi-bcm2835's ``bs->clk_hz``: the core clock rate read once at probe. CDIV for a
        requested speed comes from it, so after ``Soc.set_core_clock`` the same speed gives
        the same CDIV and SCLK moves with the clock (as it does on a Pi whose core clock
        changes under a running kernel)."""
        super().__init__(name)

    # -- reset -------------------------------------------------------------------------
    def reset_registers(self) -> None:
        super().reset_registers()
        self.linux_clk_hz = self.soc.variant.core_clock_hz  # a SoC reset boots: probe again
        self._generation += 1
        self._tx.clear()
        self._rx.clear()
        self._shifting = False
        self._dlen_left = 0
        self._held_cs = None
        self._mosi_level = False
        self._drive_pins()

    # -- the interrupt output ------------------------------------------------------------
    def irq_line(self) -> bool:
        """The SPI interrupt: (CS.INTD and DONE) or (CS.INTR and RXR) (ARM Peripherals §10.6)."""
        cs = self._read_CS()
        return bool(
            (cs & CS_BITS["INTD"].mask and cs & CS_BITS["DONE"].mask)
            or (cs & CS_BITS["INTR"].mask and cs & CS_BITS["RXR"].mask)
        )

    def irq_event(self) -> simpy.Event:
        """An event that fires (at once if the line is high now) when `irq_line` is high."""
        event = self.world.event()
        if self.irq_line():
            event.succeed()
        else:
            self._irq_waiters.append(event)
        return event

    def _update_irq(self) -> None:
        """After every change of CS, the FIFOs or the shifter: wake the waiters of a high line."""
        if self._irq_waiters and self.irq_line():
            waiters, self._irq_waiters = self._irq_waiters, []
            for event in waiters:
                event.succeed()

    # -- derived state -----------------------------------------------------------------
    @property
    def core_clock_hz(self) -> int:
        return self.soc.variant.core_clock_hz

    def _field(self, name: str) -> int:
        return CS_BITS[name].get(self._values["CS"])

    @property
    def mode(self) -> int:
        return self._field("CPOL") << 1 | self._field("CPHA")

    @property
    def divisor(self) -> int:
        """Core-clock cycles per SCLK period from CLK.CDIV (0 → 65536, odd rounded down)."""
        return effective_divisor(self._values["CLK"] & 0xFFFF)

    @property
    def sclk_hz(self) -> float:
        return self.core_clock_hz / self.divisor

    def _clock(self) -> SpiClock:
        gap = 0 if self._values["CS"] & DMAEN else 1
        return SpiClock(self.core_clock_hz, self.divisor, gap_sclk_cycles=gap)

    def _pins(self) -> SpiPins:
        gpio = self.soc.gpio
        miso = gpio.signal_nets(MISO)
        return SpiPins(gpio.signal_nets(SCLK), gpio.signal_nets(MOSI), miso[0] if miso else None)

    def miso_net(self) -> Net | None:
        """The net SPI0 reads MISO from now (the lowest line routed to SPI0_MISO), if any."""
        return self._pins().miso

    def ce_level(self, line: int) -> bool:
        """The level SPI0 drives on CE<line> now: active (CSPOLn) when TA = 1 and CS selects it."""
        cs = self._values["CS"]
        active_high = bool(cs >> (21 + line) & 1)
        asserted = bool(cs & TA) and (cs & 0b11) == line
        return active_high if asserted else not active_high

    def _drive(self, signal: str, level: bool) -> None:
        self.soc.gpio.drive_signal(signal, self.owner, _PUSH_PULL[level])
        self._driven[signal] = level

    def _drive_pins(self) -> None:
        self._drive(SCLK, bool(self._field("CPOL")))
        self._drive(MOSI, self._mosi_level)
        for line, signal in enumerate(self._ce_signals):
            self._drive(signal, self.ce_level(line))

    # -- devices -----------------------------------------------------------------------
    def sync_devices(self) -> None:
        """Take this bus's SPI devices from ``soc.attachments`` into the engine.

        A device is this bus's when its attachment names the bus, or when its SCLK pin
        is on the node of a pin routed to SPI0_SCLK (a jumper to the header).
        """
        sclk_nets = self.soc.gpio.signal_nets(SCLK)
        attachments = self.soc.attachments
        # which attachments are this bus's depends on the list and on the SCLK nodes only
        # (`Circuit.connect`/`disconnect` give changed nets new nodes, attachments.py), so
        # that part is kept per (generation, nodes); the owners are asked every time
        mine_key = (attachments.generation, *(n.node for n in sclk_nets))
        if not attachments.caching or mine_key != self._sync_key:
            self._sync_key = mine_key
            self._sync_owners = None
            self._sync_mine = [
                a
                for a in attachments
                if a.kind == "spi"
                and isinstance(a.device, SpiTarget)
                and (a.bus == self.name or any(a.on("sclk", n) for n in sclk_nets))
            ]
        else:
            # the same devices with the same owners as the last sync left them: nothing to do
            # (`_attached` changes only here, and a device's owner only by attach/detach)
            owners = self._sync_owners
            if owners is not None and len(owners) == len(self._sync_mine):
                for a, owner in zip(self._sync_mine, owners, strict=True):
                    if a.device.bus_owner is not owner:  # type: ignore[attr-defined]
                        break
                else:
                    return
        current: dict[int, Attachment] = {}
        for a in self._sync_mine:
            device = a.device
            assert isinstance(device, SpiTarget)
            if device.bus_owner in (None, self.name):
                current[id(a)] = a
        for key in list(self._attached):
            if key not in current:
                gone = self._attached.pop(key).device
                assert isinstance(gone, SpiTarget)
                self.bus.detach(gone)
        for key, a in current.items():
            device = a.device
            assert isinstance(device, SpiTarget)
            if key in self._attached or device.bus_owner == self.name:
                continue
            cs = next((a.nets[r] for r in CS_ROLES if r in a.nets), None)
            sclk = a.nets.get("sclk")
            if cs is None or sclk is None:
                raise ConfigurationError(
                    f"{a!r}: an SPI device needs 'sclk' and 'cs' nets (and usually 'mosi', 'miso')"
                )
            self.bus.attach(
                device, cs=cs, sclk=sclk, mosi=a.nets.get("mosi"), miso=a.nets.get("miso")
            )
            self._attached[key] = a
        self._sync_owners = tuple(a.device.bus_owner for a in self._sync_mine)  # type: ignore[attr-defined]

    # -- registers: CS -----------------------------------------------------------------
    def _read_CS(self) -> int:  # noqa: N802 - datasheet register name
        value = self._values["CS"] & STORED_MASK
        ta = bool(value & TA)
        tx_len, rx_len = len(self._tx), len(self._rx)
        if ta and tx_len == 0 and not self._shifting:
            value |= CS_BITS["DONE"].mask
        if rx_len:
            value |= CS_BITS["RXD"].mask
        if tx_len < FIFO_SIZE:
            value |= CS_BITS["TXD"].mask
        if ta and rx_len >= FIFO_3_4:
            value |= CS_BITS["RXR"].mask
        if rx_len >= FIFO_SIZE:
            value |= CS_BITS["RXF"].mask
        return value

    def _write_CS(self, value: int) -> None:  # noqa: N802
        clear = CS_BITS["CLEAR"].get(value)
        if clear & 0b01:
            self._tx.clear()
        if clear & 0b10:
            self._rx.clear()
        old = self._values["CS"]
        new = value & STORED_MASK
        self._values["CS"] = new
        if (old ^ new) & TA:
            self._generation += 1  # a byte in flight when TA drops is abandoned
            if new & TA:
                self.sync_devices()
                self._next_start_ns = (
                    self.world.now_ns + self.divisor // 2 * 10**9 // self.core_clock_hz
                )
                self._dlen_left = self._values["DLEN"] & 0xFFFF
            else:
                self._shifting = False
                self._proc = None
                self.bus.release_edges(self._pins(), self.world.now_ns)
        self._drive_pins()
        self._kick()
        self._update_irq()

    # -- registers: FIFO ---------------------------------------------------------------
    def _write_FIFO(self, value: int) -> None:  # noqa: N802
        cs = self._values["CS"]
        if cs & DMAEN:
            if not cs & TA:
                # DMA recipe: the first word with TA = 0 carries DLEN (31:16) and CS (7:0)
                self._values["DLEN"] = value >> 16
                self._write_CS((cs & ~0xFF) | (value & 0xFF))
                return
            data = value.to_bytes(4, "little")
        else:
            if value > 0xFF:
                raise ConfigurationError(
                    f"{self.name}.FIFO: without DMAEN the FIFO takes one byte per write (0..0xff), "
                    f"got {value:#x}"
                )
            data = bytes([value])
        for b in data:
            if len(self._tx) < FIFO_SIZE:
                self._tx.append(b)  # a write to a full FIFO is lost, as on the chip
        self._kick()
        self._update_irq()

    def _read_FIFO(self) -> int:  # noqa: N802
        if self._values["CS"] & DMAEN:
            word = bytes(self._rx.popleft() if self._rx else 0 for _ in range(4))
            value = int.from_bytes(word, "little")
        else:
            value = self._rx.popleft() if self._rx else 0
        self._kick()  # reading may un-pause a clock stopped on RXF
        return value

    # -- the register-level shifter: one event per byte --------------------------------
    def _kick(self) -> None:
        if self._proc is None and self._can_shift():
            self._proc = self.world.process(self._shifter(self._generation))

    def _can_shift(self) -> bool:
        cs = self._values["CS"]
        if not cs & TA or not self._tx or len(self._rx) >= FIFO_SIZE:
            return False
        return not (cs & DMAEN and self._dlen_left <= 0)

    def _shifter(self, generation: int) -> Generator[simpy.Event, Any, None]:
        world = self.world
        try:
            while generation == self._generation and self._can_shift():
                wait = self._next_start_ns - world.now_ns
                if wait > 0:
                    yield world.timeout(wait)
                    if generation != self._generation or not self._can_shift():
                        break
                byte = self._tx.popleft()
                self._shifting = True
                clock = self._clock()
                run = self.bus.run(
                    bytes([byte]),
                    t0_ns=world.now_ns,
                    clock=clock,
                    mode=self.mode,
                    pins=self._pins(),
                    mosi_before=self._mosi_level,
                )
                yield world.timeout(run.end_ns - world.now_ns)
                if generation != self._generation:
                    break
                self._rx.append(run.rx[0])
                self._mosi_level = run.mosi_last
                self._drive(MOSI, run.mosi_last)
                self._next_start_ns = run.end_ns + clock.ns(clock.gap_sclk_cycles * clock.divisor)
                if self._values["CS"] & DMAEN:
                    self._dlen_left -= 1
                    if self._dlen_left <= 0:
                        self._tx.clear()  # the rest of the last word is not sent
                self._shifting = False
                self._update_irq()  # RXR reached, or DONE after the last byte
        finally:
            if generation == self._generation:
                self._shifting = False
                self._proc = None

    # -- the Linux driver (spi0_driver.py) -------------------------------------------------
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
        """One spidev transfer as spi-bcm2835 runs it (`Spi0Driver.transfer`)."""
        return self.driver.transfer(
            tx,
            cs=cs,
            mode=mode,
            speed_hz=speed_hz,
            cs_high=cs_high,
            bits_per_word=bits_per_word,
            hold_cs=hold_cs,
            no_cs=no_cs,
        )

    def release_cs(self) -> None:
        """Deassert the chip select a `transfer` with ``hold_cs`` left asserted (TA = 0)."""
        self.driver.release_cs()

    # -- model side --------------------------------------------------------------------
    @property
    def tx_fifo(self) -> bytes:
        return bytes(self._tx)

    @property
    def rx_fifo(self) -> bytes:
        return bytes(self._rx)

    def attach(
        self, device: SpiTarget, *, cs: Net, sclk: Net, mosi: Net | None, miso: Net | None
    ) -> None:
        """Wire a device directly (without the board's attachment registry)."""
        self.bus.attach(device, cs=cs, sclk=sclk, mosi=mosi, miso=miso)
