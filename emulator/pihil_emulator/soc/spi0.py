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

The driver entry point `Spi0Block.transfer` follows Linux spi-bcm2835: CDIV as
the driver computes it from the core clock rate it read at probe (``bs->clk_hz``;
SCLK itself is always the core clock now / CDIV, soc-facts §4.1), polled / interrupt / DMA choice by length (only the
gap between bytes differs), CS prepared with CPOL/CPHA/CSPOL, TA set, the
bytes clocked through the bus engine in closed form (one wait for the whole
transfer), then the driver's reset of the block (TA cleared, FIFOs cleared,
DLEN = 0).

Pins go through the GPIO block's signals (GPIO7-11 ALT0 on both chips):
SPI0_SCLK (idle at CPOL), SPI0_MOSI, SPI0_CE0_N / SPI0_CE1_N (and CE2 where
the chip routes it), SPI0_MISO in.

Modelling choices [I]: /CS goes active half an SCLK period before the first
bit cell and inactive half a period after the last one; MOSI keeps its last
bit between transfers; the global CSPOL bit (6) is stored but the level of
each line follows its own CSPOLn bit (the Linux driver's CS_HIGH handling only
works that way); LoSSI (LEN), 3-wire (REN) and interrupts are stored, not
modelled. Driven register by register, each FIFO byte is its own run of the
bus engine, so a device clocked outside its SPI modes loses its sub-byte
phase between bytes (the closed-form `transfer` keeps it across the transfer).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, ClassVar, Final

import simpy

from ..buses.spi_bus import SpiBus, SpiClock, SpiPins, effective_divisor
from ..buses.spi_target import SpiTarget, check_mode
from ..errors import BusError, ConfigurationError
from ..world.net import Drive, Net
from .registers import Access, Field, Register, RegisterBlock, RegisterMap

if TYPE_CHECKING:
    from ..attachments import Attachment
    from .soc import Soc

# --------------------------------------------------------------------------------------
# Register map (soc-facts §4.1; BCM2711-DS ch.9), offsets from the SPI0 base 0x7e204000.
# --------------------------------------------------------------------------------------
SPI0_MAP: Final = RegisterMap(
    [
        Register(
            "CS",
            0x00,
            (
                Field("CS", 0, 2, doc="chip select: 00 CE0, 01 CE1, 10 CE2, 11 reserved"),
                Field("CPHA", 2, doc="1: first SCLK transition at the beginning of the data bit"),
                Field("CPOL", 3, doc="rest state of the clock: 0 low, 1 high"),
                Field("CLEAR", 4, 2, Access.W1S, doc="x1 clear TX FIFO, 1x clear RX FIFO"),
                Field("CSPOL", 6, doc="chip select polarity (stored; see module docstring)"),
                Field("TA", 7, doc="transfer active: /CS per CS and CSPOLn"),
                Field("DMAEN", 8, doc="DMA mode: 32-bit FIFO words, DLEN bytes"),
                Field("INTD", 9, doc="interrupt on DONE"),
                Field("INTR", 10, doc="interrupt on RXR"),
                Field("ADCS", 11, doc="auto-deassert chip select (DMA)"),
                Field("REN", 12, reset=1, doc="read enable (bidirectional mode)"),
                Field("LEN", 13, doc="LoSSI mode"),
                Field("LMONO", 14, doc="unused"),
                Field("TE_EN", 15, doc="unused"),
                Field("DONE", 16, access=Access.RO, doc="transfer complete"),
                Field("RXD", 17, access=Access.RO, doc="RX FIFO holds data"),
                Field("TXD", 18, access=Access.RO, reset=1, doc="TX FIFO can accept data"),
                Field("RXR", 19, access=Access.RO, doc="RX FIFO needs reading (>= 3/4 full)"),
                Field("RXF", 20, access=Access.RO, doc="RX FIFO full: the clock pauses"),
                Field("CSPOL0", 21, doc="CE0 active high"),
                Field("CSPOL1", 22, doc="CE1 active high"),
                Field("CSPOL2", 23, doc="CE2 active high"),
                Field("DMA_LEN", 24, doc="LoSSI DMA"),
                Field("LEN_LONG", 25, doc="LoSSI long data word"),
            ),
            doc="control and status; reset 0x00041000 (TXD, REN)",
        ),
        Register("FIFO", 0x04, doc="TX FIFO on write, RX FIFO on read (64 bytes each)"),
        Register("CLK", 0x08, (Field("CDIV", 0, 16, doc="SCLK = core clock / CDIV"),)),
        Register("DLEN", 0x0C, (Field("LEN", 0, 16, doc="bytes to transfer in DMA mode"),)),
        Register("LTOH", 0x10, (Field("TOH", 0, 4, reset=0x1, doc="LoSSI output hold"),)),
        Register(
            "DC",
            0x14,
            (
                Field("TDREQ", 0, 8, reset=0x20),
                Field("TPANIC", 8, 8, reset=0x10),
                Field("RDREQ", 16, 8, reset=0x20),
                Field("RPANIC", 24, 8, reset=0x30),
            ),
            doc="DMA DREQ and panic thresholds",
        ),
    ]
)

FIFO_SIZE: Final = 64
"""Linux ``BCM2835_SPI_FIFO_SIZE 64``."""
FIFO_3_4: Final = 48
"""Linux ``BCM2835_SPI_FIFO_SIZE_3_4 48``: RXR sets at this fill level."""
DMA_MIN_LENGTH: Final = 96
"""Linux ``BCM2835_SPI_DMA_MIN_LENGTH``: shorter transfers are never DMA."""
POLLING_LIMIT_US: Final = 30
"""Linux ``polling_limit_us`` module parameter default."""

CS_BITS: Final = {f.name: f for f in SPI0_MAP.get("CS").fields}
_STATUS_MASK: Final = sum(CS_BITS[n].mask for n in ("DONE", "RXD", "TXD", "RXR", "RXF"))
_STORED_MASK: Final = 0xFFFF_FFFF & ~_STATUS_MASK & ~CS_BITS["CLEAR"].mask
_TA: Final = CS_BITS["TA"].mask
_DMAEN: Final = CS_BITS["DMAEN"].mask

CE_SIGNALS: Final = ("SPI0_CE0_N", "SPI0_CE1_N", "SPI0_CE2_N")
SCLK: Final = "SPI0_SCLK"
MOSI: Final = "SPI0_MOSI"
MISO: Final = "SPI0_MISO"
_CS_ROLES: Final = ("cs", "ce", "ss")


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
        gap = 0 if self._values["CS"] & _DMAEN else 1
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
        asserted = bool(cs & _TA) and (cs & 0b11) == line
        return active_high if asserted else not active_high

    def _drive_pins(self) -> None:
        gpio = self.soc.gpio
        gpio.drive_signal(SCLK, self.owner, Drive.push_pull(bool(self._field("CPOL"))))
        gpio.drive_signal(MOSI, self.owner, Drive.push_pull(self._mosi_level))
        for line, signal in enumerate(self._ce_signals):
            gpio.drive_signal(signal, self.owner, Drive.push_pull(self.ce_level(line)))

    # -- devices -----------------------------------------------------------------------
    def sync_devices(self) -> None:
        """Take this bus's SPI devices from ``soc.attachments`` into the engine.

        A device is this bus's when its attachment names the bus, or when its SCLK pin
        is on the node of a pin routed to SPI0_SCLK (a jumper to the header).
        """
        sclk_nets = self.soc.gpio.signal_nets(SCLK)
        current: dict[int, Attachment] = {}
        for a in self.soc.attachments:
            device = a.device
            if a.kind != "spi" or not isinstance(device, SpiTarget):
                continue
            mine = a.bus == self.name or any(a.on("sclk", n) for n in sclk_nets)
            if mine and device.bus_owner in (None, self.name):
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
            cs = next((a.nets[r] for r in _CS_ROLES if r in a.nets), None)
            sclk = a.nets.get("sclk")
            if cs is None or sclk is None:
                raise ConfigurationError(
                    f"{a!r}: an SPI device needs 'sclk' and 'cs' nets (and usually 'mosi', 'miso')"
                )
            self.bus.attach(
                device, cs=cs, sclk=sclk, mosi=a.nets.get("mosi"), miso=a.nets.get("miso")
            )
            self._attached[key] = a

    # -- registers: CS -----------------------------------------------------------------
    def _read_CS(self) -> int:  # noqa: N802 - datasheet register name
        value = self._values["CS"] & _STORED_MASK
        ta = bool(value & _TA)
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
        new = value & _STORED_MASK
        self._values["CS"] = new
        if (old ^ new) & _TA:
            self._generation += 1  # a byte in flight when TA drops is abandoned
            if new & _TA:
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

    # -- registers: FIFO ---------------------------------------------------------------
    def _write_FIFO(self, value: int) -> None:  # noqa: N802
        cs = self._values["CS"]
        if cs & _DMAEN:
            if not cs & _TA:
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

    def _read_FIFO(self) -> int:  # noqa: N802
        if self._values["CS"] & _DMAEN:
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
        if not cs & _TA or not self._tx or len(self._rx) >= FIFO_SIZE:
            return False
        return not (cs & _DMAEN and self._dlen_left <= 0)

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
                self.soc.gpio.drive_signal(MOSI, self.owner, Drive.push_pull(run.mosi_last))
                self._next_start_ns = run.end_ns + clock.ns(clock.gap_sclk_cycles * clock.divisor)
                if self._values["CS"] & _DMAEN:
                    self._dlen_left -= 1
                    if self._dlen_left <= 0:
                        self._tx.clear()  # the rest of the last word is not sent
                self._shifting = False
        finally:
            if generation == self._generation:
                self._shifting = False
                self._proc = None

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
        data = self._check_request(tx, cs, mode, speed_hz, bits_per_word)
        gpio = self.soc.gpio
        signal = self._ce_signal(cs)
        field = 0b11 if no_cs else cs
        cs_now = self._values["CS"]
        held = self._held_cs == field and bool(cs_now & _TA) and (cs_now & 0b11) == field
        for needed in (SCLK,) if no_cs else (signal, SCLK):
            if not gpio.lines_for(needed):
                where = ", ".join(f"GPIO{n} ALT{a}" for n, a in gpio.candidates(needed))
                raise BusError(
                    f"chip select {cs} needs {needed} routed to a pin, and none is "
                    f"(route one of: {where or 'no pin on this chip'})",
                    bus=self.name,
                    kind="not_routed",
                    time_ns=self.world.now_ns,
                )
        clk = self.linux_clk_hz  # the rate the driver knows; the wire runs at core_clock_hz
        cdiv = linux_cdiv(clk, speed_hz)
        self.effective_speed_hz = effective_speed_hz(clk, cdiv)
        self.write("CLK", cdiv)
        # prepare CS as the driver does: mode bits, chip select, per-line polarity
        value = self._values["CS"] & ~(0b11 | CS_BITS["CPOL"].mask | CS_BITS["CPHA"].mask)
        value |= field | (mode >> 1) << 3 | (mode & 1) << 2
        pol = CS_BITS[f"CSPOL{cs}"].mask
        value = (
            (value | pol | CS_BITS["CSPOL"].mask)
            if cs_high
            else (value & ~pol & ~CS_BITS["CSPOL"].mask)
        )
        value &= ~(_TA | _DMAEN)
        rest_bits = CS_BITS["CPOL"].mask | pol
        changed = (self._values["CS"] ^ value) & rest_bits
        # prepare_message: "Set up clock polarity before spi_transfer_one_message() asserts chip
        # select to avoid a gratuitous clock transition" (TA still 0)
        if not held:
            self.write("CS", value | CS_BITS["CLEAR"].mask)
            if changed:
                self.world.run_for(self._clock().ns(self.divisor // 2))
        use_dma = len(data) >= DMA_MIN_LENGTH and len(data) >= self._poll_byte_limit()
        if use_dma:
            self.write("DLEN", len(data) & 0xFFFF)
        self.write("CS", value | _TA | (_DMAEN if use_dma else 0))
        rx = self._clock_bulk(data)
        # bcm2835_spi_reset_hw: TA, DMAEN and interrupts off, DONE written, FIFOs cleared, DLEN 0
        off = CS_BITS["INTR"].mask | CS_BITS["INTD"].mask | _DMAEN | (0 if hold_cs else _TA)
        self.write("CS", (self.read("CS") & ~off) | CS_BITS["DONE"].mask | CS_BITS["CLEAR"].mask)
        self.write("DLEN", 0)
        self._held_cs = field if hold_cs else None
        return rx

    def release_cs(self) -> None:
        """Deassert the chip select a `transfer` with ``hold_cs`` left asserted (TA = 0)."""
        if self._held_cs is None:
            return
        self._held_cs = None
        self.write("CS", (self.read("CS") & ~_TA) | CS_BITS["CLEAR"].mask)

    def _poll_byte_limit(self) -> int:
        """spi-bcm2835: transfers shorter than this run polled (9 clocks per byte in 30 µs)."""
        hz_per_byte = (9 * 1_000_000) // POLLING_LIMIT_US
        return self.effective_speed_hz // hz_per_byte

    def _clock_bulk(self, data: bytes) -> bytes:
        """The data phase in closed form: one wait for the whole transfer."""
        world = self.world
        clock = self._clock()
        half_ns = clock.ns(clock.half_cycles)
        if not data:
            world.run_for(2 * half_ns)
            return b""
        self._shifting = True
        try:
            t0 = max(world.now_ns + half_ns, self._next_start_ns)
            run = self.bus.run(
                data,
                t0_ns=t0,
                clock=clock,
                mode=self.mode,
                pins=self._pins(),
                mosi_before=self._mosi_level,
            )
            world.run_for(run.end_ns + half_ns - world.now_ns)
        finally:
            self._shifting = False
        self._mosi_level = run.mosi_last
        self.soc.gpio.drive_signal(MOSI, self.owner, Drive.push_pull(run.mosi_last))
        return run.rx

    def _ce_signal(self, cs: int) -> str:
        signal = CE_SIGNALS[cs]
        if signal not in self._ce_signals:
            raise BusError(
                f"chip select {cs} ({signal}) has no pin on the {self.soc.variant.name}; "
                f"SPI0 chip selects here: {', '.join(str(i) for i in range(len(self._ce_signals)))}",
                bus=self.name,
                kind="not_routed",
                time_ns=self.world.now_ns,
            )
        return signal

    def _check_request(
        self, tx: bytes, cs: int, mode: int, speed_hz: int, bits_per_word: int
    ) -> bytes:
        if not isinstance(tx, bytes | bytearray | memoryview):
            raise ConfigurationError(f"{self.name}: tx must be bytes, got {type(tx).__name__}")
        if bits_per_word != 8:
            raise ConfigurationError(
                f"{self.name}: spi-bcm2835 supports 8-bit words only "
                f"(bits_per_word_mask = SPI_BPW_MASK(8)), got {bits_per_word}"
            )
        check_mode(mode)
        if not isinstance(cs, int) or isinstance(cs, bool) or not 0 <= cs < len(CE_SIGNALS):
            raise ConfigurationError(f"{self.name}: chip select must be 0, 1 or 2, got {cs!r}")
        clk = self.linux_clk_hz
        fastest, slowest = clk // 2, -(-clk // 65536)
        if (
            not isinstance(speed_hz, int)
            or isinstance(speed_hz, bool)
            or not slowest <= speed_hz <= fastest
        ):
            raise ConfigurationError(
                f"{self.name}: speed {speed_hz!r} Hz is outside what CDIV allows at a "
                f"{clk / 1e6:g} MHz core clock: {slowest} Hz (CDIV 65536) .. {fastest} Hz (CDIV 2)"
            )
        return bytes(tx)

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
