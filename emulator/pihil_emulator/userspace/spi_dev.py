"""``/dev/spidevB.C``: the kernel's spidev character device over the board's emulated SPI0.

What a program sees is what Raspberry Pi OS's kernel gives it, from these sources
(raspberrypi/linux): drivers/spi/spidev.c (the ioctls, ``bufsiz`` 4096, read/write as
one half-duplex transfer), drivers/spi/spi.c (``__spi_setup``, ``__spi_validate``,
``spi_transfer_one_message``: the chip select held across a message's transfers unless
``cs_change``, ``delay_usecs`` after a transfer, the 10 µs default ``cs_change`` delay,
a zero-length or bufferless transfer that clocks nothing), drivers/spi/spi-bcm2835.c
(``mode_bits = SPI_CPOL | SPI_CPHA | SPI_CS_HIGH | SPI_NO_CS | SPI_3WIRE``,
``bits_per_word_mask = SPI_BPW_MASK(8)``, ``max_speed_hz = clk / 2``, CDIV from the
speed) and include/uapi/linux/spi/{spi,spidev}.h (``struct spi_ioc_transfer``, the
ioctl numbers). The bytes go through `Spi0Block.transfer` (soc-facts §4.1).

Kernel behaviour kept on purpose:

- unsupported mode bits (LSB_FIRST, LOOP, READY, ...) and word sizes other than 8 are
  EINVAL and leave the device as it was; dual/quad/octal bits are dropped silently (the
  core's "ignoring unsupported mode bits"); a mode bit spidev does not know is EINVAL;
- the Pi's device tree gives SPI0 GPIO chip selects (``cs-gpios = <&gpio 8 1>, <&gpio 7
  1>``), so SPI_IOC_RD_MODE hides SPI_CS_HIGH and the line stays active low whatever the
  mode says (py-spidev's ``cshigh = True`` then fails its read-back, as on a Pi);
- each device starts at mode 0, 8 bits and the device tree's ``spi-max-frequency`` of
  125 MHz (capped at the controller's clk / 2); SPI_IOC_WR_MAX_SPEED_HZ keeps what it was
  given (0 is EINVAL) and a transfer faster than clk / 2 runs at clk / 2;
- a message longer than ``bufsiz`` (each transfer's buffers rounded up to
  ARCH_DMA_MINALIGN) is EMSGSIZE, as is read()/write() of more than 4096 bytes;
- the last transfer's ``cs_change`` leaves the chip select asserted after the message
  until the next message, or a successful SPI_IOC_WR_* ioctl (spi_setup deselects).

Modelled differently [I]: the GPIO chip select is driven as the CE0/CE1 line of the
emulated block (its TA bit, held across transfers); a speed below what CDIV reaches
runs at the slowest CDIV the block accepts (65532, where the kernel writes 0 = 65536);
SPI_3WIRE is accepted and its half-duplex rule applied but the wire stays 4-wire;
``word_delay_usecs`` is ignored (spi-bcm2835 has no word delay), as are the kernel's own
gaps between transfers; the device state lives as long as the userspace.
"""

from __future__ import annotations

import errno
import os
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .devfs import DevFile, oserror
from .user_memory import copy_in, copy_out, read_user, write_user

if TYPE_CHECKING:
    from .session import Userspace

# include/uapi/linux/spi/spi.h
SPI_CPHA = 1 << 0
SPI_CPOL = 1 << 1
SPI_MODE_X_MASK = SPI_CPOL | SPI_CPHA
SPI_CS_HIGH = 1 << 2
SPI_LSB_FIRST = 1 << 3
SPI_3WIRE = 1 << 4
SPI_LOOP = 1 << 5
SPI_NO_CS = 1 << 6
SPI_READY = 1 << 7
SPI_TX_DUAL = 1 << 8
SPI_TX_QUAD = 1 << 9
SPI_RX_DUAL = 1 << 10
SPI_RX_QUAD = 1 << 11
SPI_CS_WORD = 1 << 12
SPI_TX_OCTAL = 1 << 13
SPI_RX_OCTAL = 1 << 14
SPI_3WIRE_HIZ = 1 << 15
SPI_RX_CPHA_FLIP = 1 << 16
SPI_MOSI_IDLE_LOW = 1 << 17
SPI_MOSI_IDLE_HIGH = 1 << 18
SPI_MODE_USER_MASK = (1 << 19) - 1
_WIDE = SPI_TX_DUAL | SPI_TX_QUAD | SPI_TX_OCTAL | SPI_RX_DUAL | SPI_RX_QUAD | SPI_RX_OCTAL

# drivers/spi/spidev.c
SPI_MODE_MASK = (
    SPI_MODE_X_MASK
    | SPI_CS_HIGH
    | SPI_LSB_FIRST
    | SPI_3WIRE
    | SPI_LOOP
    | SPI_NO_CS
    | SPI_READY
    | SPI_TX_DUAL
    | SPI_TX_QUAD
    | SPI_TX_OCTAL
    | SPI_RX_DUAL
    | SPI_RX_QUAD
    | SPI_RX_OCTAL
    | SPI_RX_CPHA_FLIP
    | SPI_3WIRE_HIZ
    | SPI_MOSI_IDLE_LOW
)
BUFSIZ = 4096
"""spidev's ``bufsiz`` module parameter: "data bytes in biggest supported SPI message"."""
INT_MAX = 2**31 - 1

# drivers/spi/spi-bcm2835.c
BCM2835_SPI_MODE_BITS = SPI_CPOL | SPI_CPHA | SPI_CS_HIGH | SPI_NO_CS | SPI_3WIRE
BCM2835_BPW_MASK = 1 << (8 - 1)  # SPI_BPW_MASK(8)
DT_SPI_MAX_FREQUENCY = 125_000_000
"""``spi-max-frequency`` of the spidev@0/spidev@1 nodes in the Pi's device tree."""
GPIO_CHIP_SELECTS = True
"""SPI0 on the Pi's device tree uses ``cs-gpios``: spidev hides SPI_CS_HIGH on reads."""

# drivers/spi/spi.c
DEFAULT_CS_CHANGE_DELAY_NS = 10_000
"""``_spi_transfer_cs_change_delay``: 10 µs between deselect and reselect by default."""
SPI_NBITS = (1, 2, 4, 8)  # SPI_NBITS_SINGLE, _DUAL, _QUAD, _OCTAL

# include/uapi/linux/spi/spidev.h and asm-generic/ioctl.h
SPI_IOC_MAGIC = ord("k")
_IOC_WRITE, _IOC_READ = 1, 2
_IOC_SIZEBITS = 14


def _ioc(direction: int, nr: int, size: int) -> int:
    return direction << 30 | size << 16 | SPI_IOC_MAGIC << 8 | nr


SPI_IOC_RD_MODE = _ioc(_IOC_READ, 1, 1)
SPI_IOC_WR_MODE = _ioc(_IOC_WRITE, 1, 1)
SPI_IOC_RD_LSB_FIRST = _ioc(_IOC_READ, 2, 1)
SPI_IOC_WR_LSB_FIRST = _ioc(_IOC_WRITE, 2, 1)
SPI_IOC_RD_BITS_PER_WORD = _ioc(_IOC_READ, 3, 1)
SPI_IOC_WR_BITS_PER_WORD = _ioc(_IOC_WRITE, 3, 1)
SPI_IOC_RD_MAX_SPEED_HZ = _ioc(_IOC_READ, 4, 4)
SPI_IOC_WR_MAX_SPEED_HZ = _ioc(_IOC_WRITE, 4, 4)
SPI_IOC_RD_MODE32 = _ioc(_IOC_READ, 5, 4)
SPI_IOC_WR_MODE32 = _ioc(_IOC_WRITE, 5, 4)

SPI_IOC_TRANSFER = struct.Struct("=QQIIHBBBBBB")
"""``struct spi_ioc_transfer``: tx_buf, rx_buf, len, speed_hz, delay_usecs, bits_per_word,
cs_change, tx_nbits, rx_nbits, word_delay_usecs, pad (32 bytes on every ABI)."""


def spi_ioc_message(n: int) -> int:
    """``SPI_IOC_MESSAGE(n)``; its size is 0 when n transfers do not fit the size field."""
    size = n * SPI_IOC_TRANSFER.size
    return _ioc(_IOC_WRITE, 0, size if size < 1 << _IOC_SIZEBITS else 0)


def _align(n: int, to: int) -> int:
    return -(-n // to) * to


@dataclass
class Transfer:
    """One ``struct spi_transfer`` as spidev builds it from user space."""

    length: int
    tx: bytes | None = None  # None: no tx_buf (the controller shifts out zeros)
    rx: bool = False
    speed_hz: int = 0
    delay_usecs: int = 0
    bits_per_word: int = 0
    cs_change: bool = False
    tx_nbits: int = 0
    rx_nbits: int = 0


class SpiDevice:
    """One ``spi_device`` with spidev bound: the state the kernel keeps per device and
    every open file shares (``spi->mode``, ``->bits_per_word``, ``->max_speed_hz``,
    ``spidev->speed_hz``)."""

    def __init__(self, controller: SpiController, chip_select: int) -> None:
        self.controller = controller
        self.chip_select = chip_select
        self.mode = 0
        self.bits_per_word = 8
        self.max_speed_hz = min(DT_SPI_MAX_FREQUENCY, controller.max_speed_hz)
        self.speed_hz = self.max_speed_hz
        self.users = 0

    def setup(self, mode: int, bits_per_word: int) -> tuple[int, int]:
        """``__spi_setup``: the mode (unsupported wide-bus bits dropped) and word size the
        device takes, or EINVAL (nothing changed). Deselects the device on success."""
        if (mode & (SPI_TX_DUAL | SPI_TX_QUAD)).bit_count() > 1 or (
            mode & (SPI_RX_DUAL | SPI_RX_QUAD)
        ).bit_count() > 1:
            raise oserror(errno.EINVAL)
        if mode & SPI_3WIRE and mode & _WIDE:
            raise oserror(errno.EINVAL)
        if mode & SPI_MOSI_IDLE_LOW and mode & SPI_MOSI_IDLE_HIGH:
            raise oserror(errno.EINVAL)
        bad = mode & ~(BCM2835_SPI_MODE_BITS | SPI_CS_WORD)
        mode &= ~(bad & _WIDE)
        if bad & ~_WIDE:
            raise oserror(errno.EINVAL)
        if not bits_per_word:
            bits_per_word = 8
        elif not _bpw_ok(bits_per_word):
            raise oserror(errno.EINVAL)
        self.controller.deselect(self)
        return mode, bits_per_word

    def open(self) -> None:
        self.users += 1

    def release(self) -> None:
        """spidev_release: on the last close the speed goes back to the device's."""
        self.users -= 1
        if not self.users:
            self.speed_hz = self.max_speed_hz


def _bpw_ok(bits: int) -> bool:
    """``__spi_validate_bits_per_word`` against spi-bcm2835's mask."""
    return 0 < bits <= 32 and bool(BCM2835_BPW_MASK & (1 << (bits - 1)))


class SpiController:
    """spi-bcm2835 on one bus with the spi core's message pump: validation, the chip
    select across a message, delays; the bytes go through the emulated block."""

    def __init__(self, userspace: Userspace, block: Any) -> None:
        self.userspace = userspace
        self.block = block
        self.held: SpiDevice | None = None  # the last message's cs_change kept it selected

    @property
    def max_speed_hz(self) -> int:
        """``ctlr->max_speed_hz = clk_get_rate(bs->clk) / 2``."""
        return int(self.block.linux_clk_hz) // 2

    @property
    def dma_minalign(self) -> int:
        """ARCH_DMA_MINALIGN of the Pi's kernel: 128 on arm64 (BCM2711), 32 on ARMv6."""
        return 128 if self.userspace.info.soc.upper() == "BCM2711" else 32

    def deselect(self, device: SpiDevice) -> None:
        """``spi_set_cs(spi, false)``."""
        if self.held is device:
            self.held = None
            with self.userspace.lock:
                self.block.release_cs()

    def release_all(self) -> None:
        if self.held is not None:
            self.deselect(self.held)

    # -- __spi_validate ---------------------------------------------------------------------
    def validate(self, device: SpiDevice, transfers: list[Transfer]) -> None:
        if not transfers:
            raise oserror(errno.EINVAL)
        if device.mode & SPI_3WIRE and any(t.tx is not None and t.rx for t in transfers):
            raise oserror(errno.EINVAL)  # half duplex
        for t in transfers:
            if not t.bits_per_word:
                t.bits_per_word = device.bits_per_word
            if not t.speed_hz:
                t.speed_hz = device.max_speed_hz
            t.speed_hz = min(t.speed_hz, self.max_speed_hz)
            if not _bpw_ok(t.bits_per_word):
                raise oserror(errno.EINVAL)
            for present, nbits, dual, quad, octal in (
                (t.tx is not None, t.tx_nbits, SPI_TX_DUAL, SPI_TX_QUAD, SPI_TX_OCTAL),
                (t.rx, t.rx_nbits, SPI_RX_DUAL, SPI_RX_QUAD, SPI_RX_OCTAL),
            ):
                if not present:
                    continue
                nbits = nbits or 1  # SPI_NBITS_SINGLE
                wide = {2: dual | quad | octal, 4: quad | octal, 8: octal}
                if nbits not in SPI_NBITS or (nbits > 1 and not device.mode & wide[nbits]):
                    raise oserror(errno.EINVAL)

    # -- spi_transfer_one_message -------------------------------------------------------------
    def run(self, device: SpiDevice, transfers: list[Transfer]) -> list[bytes]:
        """One message: the bytes read by each transfer (b"" where nothing was clocked)."""
        from ..errors import EmulatorError
        from .session import errno_of

        self.validate(device, transfers)
        block = self.block
        clk = int(block.linux_clk_hz)
        slowest = -(-clk // 65536)
        no_cs = bool(device.mode & SPI_NO_CS)
        results: list[bytes] = []
        with self.userspace.lock:
            if self.held is not None and self.held is not device:
                self.held = None  # another device's transfer deselects it (one CE at a time)
            selected = self.held is device
            keep = False
            try:
                for i, t in enumerate(transfers):
                    clocked = (t.tx is not None or t.rx) and t.length
                    if clocked or not selected:
                        data = (t.tx if t.tx is not None else bytes(t.length)) if clocked else b""
                        rx = block.transfer(
                            data,
                            cs=device.chip_select,
                            mode=device.mode & SPI_MODE_X_MASK,
                            speed_hz=max(t.speed_hz, slowest),
                            hold_cs=True,
                            no_cs=no_cs,
                        )
                        selected = True
                    results.append(bytes(rx) if clocked else b"")
                    if t.delay_usecs:
                        block.world.run_for(t.delay_usecs * 1000)
                    if t.cs_change:
                        if i == len(transfers) - 1:
                            keep = True
                        else:
                            block.release_cs()
                            selected = False
                            block.world.run_for(DEFAULT_CS_CHANGE_DELAY_NS)
            except EmulatorError as exc:
                block.release_cs()
                self.held = None
                code = errno_of(exc)
                raise OSError(code, os.strerror(code)) from exc
            if keep:
                self.held = device
            else:
                block.release_cs()
                self.held = None
        return results


class SpidevFile(DevFile):
    """One open ``/dev/spidevB.C``."""

    def __init__(self, flags: int, device: SpiDevice) -> None:
        super().__init__(flags)
        self.device = device
        device.open()

    def close(self) -> None:
        if not self.closed:
            self.device.release()
        super().close()

    # -- read/write: one half-duplex transfer ------------------------------------------------
    def read(self, n: int) -> bytes:
        if n > BUFSIZ:
            raise oserror(errno.EMSGSIZE)
        t = Transfer(n, rx=True, speed_hz=self.device.speed_hz)
        return self.device.controller.run(self.device, [t])[0]

    def write(self, data: bytes) -> int:
        if len(data) > BUFSIZ:
            raise oserror(errno.EMSGSIZE)
        t = Transfer(len(data), tx=bytes(data), speed_hz=self.device.speed_hz)
        self.device.controller.run(self.device, [t])
        return len(data)

    # -- ioctl ----------------------------------------------------------------------------------
    def ioctl(self, request: int, arg: int | memoryview) -> int:
        if (request >> 8) & 0xFF != SPI_IOC_MAGIC:
            raise oserror(errno.ENOTTY)
        dev = self.device
        if request in (SPI_IOC_RD_MODE, SPI_IOC_RD_MODE32):
            mode = dev.mode & SPI_MODE_MASK
            if GPIO_CHIP_SELECTS:
                mode &= ~SPI_CS_HIGH
            wide = request == SPI_IOC_RD_MODE32
            self._out(arg, struct.pack("=I", mode) if wide else bytes([mode & 0xFF]))
        elif request == SPI_IOC_RD_LSB_FIRST:
            self._out(arg, bytes([1 if dev.mode & SPI_LSB_FIRST else 0]))
        elif request == SPI_IOC_RD_BITS_PER_WORD:
            self._out(arg, bytes([dev.bits_per_word & 0xFF]))
        elif request == SPI_IOC_RD_MAX_SPEED_HZ:
            self._out(arg, struct.pack("=I", dev.speed_hz))
        elif request in (SPI_IOC_WR_MODE, SPI_IOC_WR_MODE32):
            wide = request == SPI_IOC_WR_MODE32
            value = self._in_u32(arg) if wide else self._in_u8(arg)
            if value & ~SPI_MODE_MASK:
                raise oserror(errno.EINVAL)
            value = (value | (dev.mode & ~SPI_MODE_MASK)) & SPI_MODE_USER_MASK
            dev.mode, _ = dev.setup(value, dev.bits_per_word)
        elif request == SPI_IOC_WR_LSB_FIRST:
            lsb = self._in_u8(arg)
            mode = dev.mode | SPI_LSB_FIRST if lsb else dev.mode & ~SPI_LSB_FIRST
            dev.mode, _ = dev.setup(mode, dev.bits_per_word)
        elif request == SPI_IOC_WR_BITS_PER_WORD:
            _, dev.bits_per_word = dev.setup(dev.mode, self._in_u8(arg))
        elif request == SPI_IOC_WR_MAX_SPEED_HZ:
            speed = self._in_u32(arg)
            if speed == 0:
                raise oserror(errno.EINVAL)
            dev.setup(dev.mode, dev.bits_per_word)
            dev.speed_hz = speed
        else:
            return self._message(request, arg)
        return 0

    def _message(self, request: int, arg: int | memoryview) -> int:
        """``spidev_get_ioc_message`` + ``spidev_message``: SPI_IOC_MESSAGE(n)."""
        if request & 0xFF != 0 or request >> 30 != _IOC_WRITE:
            raise oserror(errno.ENOTTY)
        size = (request >> 16) & ((1 << _IOC_SIZEBITS) - 1)
        if size % SPI_IOC_TRANSFER.size:
            raise oserror(errno.EINVAL)
        count = size // SPI_IOC_TRANSFER.size
        if not count:
            return 0
        raw = self._in(arg, size)
        dev = self.device
        align = dev.controller.dma_minalign
        transfers: list[Transfer] = []
        reads: list[tuple[int, int]] = []
        total = tx_total = rx_total = 0
        for i in range(count):
            tx_at, rx_at, length, speed, delay, bpw, cs_change, tx_nbits, rx_nbits, _, _ = (
                SPI_IOC_TRANSFER.unpack_from(raw, i * SPI_IOC_TRANSFER.size)
            )
            total += length
            if total > INT_MAX or length > INT_MAX:
                raise oserror(errno.EMSGSIZE)
            if rx_at:
                rx_total += _align(length, align)
                if rx_total > BUFSIZ:
                    raise oserror(errno.EMSGSIZE)
            tx: bytes | None = None
            if tx_at:
                tx_total += _align(length, align)
                if tx_total > BUFSIZ:
                    raise oserror(errno.EMSGSIZE)
                tx = read_user(tx_at, length)
            transfers.append(
                Transfer(
                    length,
                    tx=tx,
                    rx=bool(rx_at),
                    speed_hz=speed or dev.speed_hz,
                    delay_usecs=delay,
                    bits_per_word=bpw,
                    cs_change=bool(cs_change),
                    tx_nbits=tx_nbits,
                    rx_nbits=rx_nbits,
                )
            )
            reads.append((rx_at, length))
        results = dev.controller.run(dev, transfers)
        for (rx_at, length), data in zip(reads, results, strict=True):
            if rx_at:
                write_user(rx_at, data.ljust(length, b"\0")[:length])
        return total

    # -- user memory ------------------------------------------------------------------------------
    _in = staticmethod(copy_in)
    _out = staticmethod(copy_out)

    def _in_u8(self, arg: int | memoryview) -> int:
        return self._in(arg, 1)[0]

    def _in_u32(self, arg: int | memoryview) -> int:
        return int(struct.unpack("=I", self._in(arg, 4))[0])


def attach(userspace: Userspace) -> None:
    """Serve ``/dev/spidevB.C`` for each chip select of each SPI bus of the profile, and
    ``/sys/module/spidev/parameters/bufsiz`` (py-spidev reads it for xfer3)."""
    controllers: list[SpiController] = []
    for bus in userspace.info.spi_buses:
        controller = SpiController(userspace, userspace.kernel.spi_controller(bus.number))
        controllers.append(controller)
        for cs, path in sorted(bus.linux_devices.items()):
            device = SpiDevice(controller, cs)

            def opener(flags: int, device: SpiDevice = device) -> DevFile:
                return SpidevFile(flags, device)

            userspace.add_device(path, opener)
    if controllers:
        userspace.devfs.add_static("/sys/module/spidev/parameters/bufsiz", f"{BUFSIZ}\n".encode())

    def enter(_space: Userspace) -> None:
        """Nothing to install: the device files are the interface."""

    def leave(_space: Userspace) -> None:
        for controller in controllers:
            controller.release_all()

    userspace.on_enter(enter, leave)
