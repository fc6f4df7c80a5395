"""RPi.GPIO 0.7.1's chip layer on the emulated board: ``c_gpio.c``, ``cpuinfo.c``, ``common.c``.

The C extension maps ``/dev/gpiomem`` and reads and writes the GPIO registers itself,
bypassing the kernel; `GpioMem` is that mapping over the emulated GPIO block, addressed by
the word offsets ``c_gpio.c`` uses (``FSEL_OFFSET 0``, ``SET_OFFSET 7``, ``CLR_OFFSET 10``,
``PINLEVEL_OFFSET 13``, ``PULLUPDN_OFFSET 37``, ``PULLUPDNCLK_OFFSET 38``,
``PULLUPDN_OFFSET_2711_0..3 57..60``). The functions below are the C functions line for
line: ``setup_gpio`` writes the pull first, then GPFSEL straight to the new function;
``set_pullupdn`` tells the chips apart as the C does (offset 60 reads ``0x6770696f``,
"gpio", on a BCM2835) and runs the BCM2835 GPPUD/GPPUDCLK sequence with ``short_wait()``
between the steps, or a read-modify-write of GPIO_PUP_PDN_CNTRL_REGn on the BCM2711
(soc-facts §3.6).

``short_wait()`` is a busy loop of 150 ``nop``s (it does not yield the CPU): here it runs the
board for `SHORT_WAIT_NS` without passing the turn to another thread, as a busy wait would.

`rpi_info` decodes a revision code as ``get_rpi_info()`` does (``RPI_INFO``; its
``P1_REVISION`` picks the BOARD numbering and 0 marks a Compute Module).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from ..errors import RegisterError

# c_gpio.h
INPUT: Final = 1  # "is really 0 for control register!"
OUTPUT: Final = 0  # "is really 1 for control register!"
ALT0: Final = 4
HIGH: Final = 1
LOW: Final = 0
PUD_OFF: Final = 0
PUD_DOWN: Final = 1
PUD_UP: Final = 2
SETUP_OK, SETUP_DEVMEM_FAIL, SETUP_MALLOC_FAIL, SETUP_MMAP_FAIL = 0, 1, 2, 3
SETUP_CPUINFO_FAIL, SETUP_NO_PERI_ADDR = 4, 5
# common.h
MODE_UNKNOWN: Final = -1
BOARD: Final = 10
BCM: Final = 11
SERIAL: Final = 40
SPI: Final = 41
I2C: Final = 42
PWM: Final = 43
# constants.h
PY_PUD_CONST_OFFSET: Final = 20
PY_EVENT_CONST_OFFSET: Final = 30
# event_gpio.h
NO_EDGE, RISING_EDGE, FALLING_EDGE, BOTH_EDGE = 0, 1, 2, 3

# c_gpio.c word offsets
FSEL_OFFSET: Final = 0
SET_OFFSET: Final = 7
CLR_OFFSET: Final = 10
PINLEVEL_OFFSET: Final = 13
PULLUPDN_OFFSET: Final = 37
PULLUPDNCLK_OFFSET: Final = 38
PULLUPDN_OFFSET_2711_0: Final = 57
PULLUPDN_OFFSET_2711_3: Final = 60
BCM2835_ID_WORD: Final = 0x6770696F
"""What a BCM2835 reads at offset 0xf0, where the BCM2711 has GPIO_PUP_PDN_CNTRL_REG3:
``c_gpio.c``'s ``is2711 = *(gpio_map+PULLUPDN_OFFSET_2711_3) != 0x6770696f``."""

SHORT_WAIT_NS: Final = 1_000
"""``short_wait()``: 150 iterations of ``nop``, increment, compare and branch, about 600
instructions: 0.4 µs at 1.5 GHz (Pi 4) to 0.9 µs at 700 MHz (Pi 1); 1 µs is taken, which
covers the GPPUD set-up of 150 core-clock cycles (600 ns at 250 MHz, soc-facts §3.6)."""

# common.c: the P1/J8 header of each P1 revision (index = pin, -1 = not a GPIO)
PIN_TO_GPIO_REV1: Final = (
    -1, -1, -1, 0, -1, 1, -1, 4, 14, -1, 15, 17, 18, 21, -1, 22, 23, -1, 24, 10, -1, 9, 25,
    11, 8, -1, 7, *([-1] * 14),
)  # fmt: skip
PIN_TO_GPIO_REV2: Final = (
    -1, -1, -1, 2, -1, 3, -1, 4, 14, -1, 15, 17, 18, 27, -1, 22, 23, -1, 24, 10, -1, 9, 25,
    11, 8, -1, 7, *([-1] * 14),
)  # fmt: skip
PIN_TO_GPIO_REV3: Final = (
    -1, -1, -1, 2, -1, 3, -1, 4, 14, -1, 15, 17, 18, 27, -1, 22, 23, -1, 24, 10, -1, 9, 25,
    11, 8, -1, 7, -1, -1, 5, -1, 6, 12, 13, -1, 19, 16, 26, 20, -1, 21,
)  # fmt: skip


class GpioMem:
    """The mapped ``/dev/gpiomem`` page: 32-bit words at ``c_gpio.c``'s offsets."""

    def __init__(self, userspace: Any) -> None:
        self.block = userspace.board.soc.gpio
        self.world = userspace.world
        self.lock = userspace.lock

    def __getitem__(self, offset: int) -> int:
        with self.lock:
            try:
                return int(self.block.read(4 * offset))
            except RegisterError:
                if offset == PULLUPDN_OFFSET_2711_3:
                    return BCM2835_ID_WORD
                raise

    def __setitem__(self, offset: int, value: int) -> None:
        with self.lock:
            self.block.write(4 * offset, value & 0xFFFF_FFFF)

    def short_wait(self) -> None:
        with self.lock:
            self.world.run_for(SHORT_WAIT_NS)


# -- c_gpio.c -------------------------------------------------------------------------------
def set_pullupdn(mem: GpioMem, gpio: int, pud: int) -> None:
    is2711 = mem[PULLUPDN_OFFSET_2711_3] != BCM2835_ID_WORD
    if is2711:  # "Pi 4 Pull-up/down method"
        pullreg = PULLUPDN_OFFSET_2711_0 + (gpio >> 4)
        pullshift = (gpio & 0xF) << 1
        pull = {PUD_OFF: 0, PUD_UP: 1, PUD_DOWN: 2}.get(pud, 0)
        pullbits = mem[pullreg]
        pullbits &= ~(3 << pullshift)
        pullbits |= pull << pullshift
        mem[pullreg] = pullbits
        return
    # "Legacy Pull-up/down method"
    clk_offset = PULLUPDNCLK_OFFSET + gpio // 32
    shift = gpio % 32
    if pud == PUD_DOWN:
        mem[PULLUPDN_OFFSET] = (mem[PULLUPDN_OFFSET] & ~3) | PUD_DOWN
    elif pud == PUD_UP:
        mem[PULLUPDN_OFFSET] = (mem[PULLUPDN_OFFSET] & ~3) | PUD_UP
    else:
        mem[PULLUPDN_OFFSET] = mem[PULLUPDN_OFFSET] & ~3
    mem.short_wait()
    mem[clk_offset] = 1 << shift
    mem.short_wait()
    mem[PULLUPDN_OFFSET] = mem[PULLUPDN_OFFSET] & ~3
    mem[clk_offset] = 0


def setup_gpio(mem: GpioMem, gpio: int, direction: int, pud: int) -> None:
    offset = FSEL_OFFSET + gpio // 10
    shift = (gpio % 10) * 3
    set_pullupdn(mem, gpio, pud)
    if direction == OUTPUT:
        mem[offset] = (mem[offset] & ~(7 << shift)) | (1 << shift)
    else:
        mem[offset] = mem[offset] & ~(7 << shift)


def gpio_function(mem: GpioMem, gpio: int) -> int:
    """GPFSEL of ``gpio``: 0 input, 1 output, 4 ALT0..."""
    return (mem[FSEL_OFFSET + gpio // 10] >> ((gpio % 10) * 3)) & 7


def output_gpio(mem: GpioMem, gpio: int, value: int) -> None:
    offset = (SET_OFFSET if value else CLR_OFFSET) + gpio // 32
    mem[offset] = 1 << (gpio % 32)


def input_gpio(mem: GpioMem, gpio: int) -> int:
    return mem[PINLEVEL_OFFSET + gpio // 32] & (1 << (gpio % 32))


# -- cpuinfo.c --------------------------------------------------------------------------------
@dataclass(frozen=True)
class RpiInfo:
    """``rpi_info`` of cpuinfo.h."""

    p1_revision: int
    ram: str
    manufacturer: str
    processor: str
    type: str
    revision: str

    def as_dict(self) -> dict[str, Any]:
        """``RPI_INFO``, in the C module's key order."""
        return {
            "P1_REVISION": self.p1_revision,
            "REVISION": self.revision,
            "TYPE": self.type,
            "MANUFACTURER": self.manufacturer,
            "PROCESSOR": self.processor,
            "RAM": self.ram,
        }


_NEW_TYPES: Final = {
    "00": ("Model A", 2), "01": ("Model B", 2), "02": ("Model A+", 3), "03": ("Model B+", 3),
    "04": ("Pi 2 Model B", 3), "05": ("Alpha", 3), "06": ("Compute Module 1", 0),
    "08": ("Pi 3 Model B", 3), "09": ("Zero", 3), "0a": ("Compute Module 3", 0),
    "0c": ("Zero W", 3), "0d": ("Pi 3 Model B+", 3), "0e": ("Pi 3 Model A+", 3),
    "10": ("Compute Module 3+", 0), "11": ("Pi 4 Model B", 3), "12": ("Zero 2 W", 3),
    "13": ("Pi 400", 3), "14": ("Compute Module 4", 0),
}  # fmt: skip
_PROCESSORS: Final = {"0": "BCM2835", "1": "BCM2836", "2": "BCM2837", "3": "BCM2711"}
_MANUFACTURERS: Final = {
    "0": "Sony UK", "1": "Egoman", "2": "Embest", "3": "Sony Japan", "4": "Embest", "5": "Stadium"
}  # fmt: skip
_RAM: Final = ("256M", "512M", "1G", "2G", "4G", "8G")
_OLD: Final = {
    # rev: (type, p1_revision, ram, manufacturer); processor BCM2835 for all
    0x2: ("Model B", 1, "256M", "Egoman"), 0x3: ("Model B", 1, "256M", "Egoman"),
    0x4: ("Model B", 2, "256M", "Sony UK"), 0x5: ("Model B", 2, "256M", "Qisda"),
    0x6: ("Model B", 2, "256M", "Egoman"), 0x7: ("Model A", 2, "256M", "Egoman"),
    0x8: ("Model A", 2, "256M", "Sony UK"), 0x9: ("Model A", 2, "256M", "Qisda"),
    0xD: ("Model B", 2, "512M", "Egoman"), 0xE: ("Model B", 2, "512M", "Sony UK"),
    0xF: ("Model B", 2, "512M", "Qisda"), 0x10: ("Model B+", 3, "512M", "Sony UK"),
    0x11: ("Compute Module 1", 0, "512M", "Sony UK"), 0x12: ("Model A+", 3, "256M", "Sony UK"),
    0x13: ("Model B+", 3, "512M", "Embest"), 0x14: ("Compute Module 1", 0, "512M", "Embest"),
    0x15: ("Model A+", 3, "Unknown", "Embest"),
}  # fmt: skip


def rpi_info(code: str) -> RpiInfo | None:
    """``get_rpi_info()`` for the board's revision code (hex text, as the profile gives it).

    The C reads ``/proc/device-tree/system/linux,revision`` first and prints it with
    ``"%x"``, so an old-style code loses its leading zeros (``REVISION`` is ``"e"`` for
    ``000e``). None when there is no code (the C fails: "This module can only be run on a
    Raspberry Pi!").
    """
    if not code:
        return None
    revision = f"{int(code, 16):x}"
    n = len(revision)
    if n >= 6 and int(revision[n - 6], 16) & 8:  # new scheme
        kind, p1 = _NEW_TYPES.get(revision[n - 3 : n - 1], ("Unknown", 3))
        if revision[n - 3] not in "01":
            kind, p1 = "Unknown", 3
        ram_index = int(revision[n - 6], 16) & 7
        return RpiInfo(
            p1_revision=p1,
            ram=_RAM[ram_index] if ram_index < len(_RAM) else "Unknown",
            manufacturer=_MANUFACTURERS.get(revision[n - 5], "Unknown"),
            processor=_PROCESSORS.get(revision[n - 4], "Unknown"),
            type=kind,
            revision=revision,
        )
    rev = int(revision, 16) & 0xEFFFFFFF  # "ignore preceeding 1000 for overvolt"
    old = _OLD.get(rev)
    if old is None:  # "don't know - assume revision 3 p1 connector"
        return RpiInfo(3, "Unknown", "Unknown", "Unknown", "Unknown", revision)
    kind, p1, ram, maker = old
    return RpiInfo(p1, ram, maker, "BCM2835", kind, revision)


def header_gpios(userspace: Any) -> dict[int, int]:
    """The profile's primary header (J8 or P1): pin number -> GPIO (the BOARD numbering).

    The HAT ID EEPROM pins (ID_SD/ID_SC, J8-27/J8-28) are left out: common.c's
    ``pin_to_gpio_rev3`` has -1 there, so the C refuses them as channels.
    """
    info = userspace.info
    id_lines = {info.gpio_aliases.get("ID_SD"), info.gpio_aliases.get("ID_SC")} - {None}
    return {
        p.number: p.gpio
        for p in info.pins
        if p.header == info.primary_header and p.gpio is not None and p.gpio not in id_lines
    }
