"""The GPIO block's register map as data (soc-facts §3.2): offsets, fields, reset values,
access, FSEL and pull codes, and the timing constants of §3.5/§3.6. Behaviour lives in
`gpio` (the block), `gpio_events` (event detect) and `gpio_pulls` (pad pulls)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ..errors import ConfigurationError
from ..world.net import Drive
from .registers import Access, Field, Register, RegisterMap

# --------------------------------------------------------------------------------------
# Register map (soc-facts §3.2), as data. Offsets are from the GPIO base (0x7e200000).
# --------------------------------------------------------------------------------------

GPIO_BANK_REGISTERS: Final = (
    # (name prefix, offset of bank 0, field prefix, access, what it does)
    ("GPSET", 0x1C, "SET", Access.WO, "write 1: set the output latch (§3.4)"),
    ("GPCLR", 0x28, "CLR", Access.WO, "write 1: clear the output latch (§3.4)"),
    ("GPLEV", 0x34, "LEV", Access.RO, "the actual level of the pin (§3.4)"),
    ("GPEDS", 0x40, "EDS", Access.W1C, "event detect status, write 1 to clear (§3.5)"),
    ("GPREN", 0x4C, "REN", Access.RW, "synchronous rising-edge detect enable"),
    ("GPFEN", 0x58, "FEN", Access.RW, "synchronous falling-edge detect enable"),
    ("GPHEN", 0x64, "HEN", Access.RW, "high-level detect enable"),
    ("GPLEN", 0x70, "LEN", Access.RW, "low-level detect enable"),
    ("GPAREN", 0x7C, "AREN", Access.RW, "asynchronous rising-edge detect enable"),
    ("GPAFEN", 0x88, "AFEN", Access.RW, "asynchronous falling-edge detect enable"),
)
GPFSEL_OFFSET: Final = 0x00  # GPFSEL0-5 at 0x00-0x14, 3 bits per pin, 10 pins per register
GPPUD_OFFSET: Final = 0x94  # BCM2835 only
GPPUDCLK_OFFSET: Final = 0x98  # BCM2835 only: GPPUDCLK0/1 at 0x98/0x9c
PUP_PDN_OFFSET: Final = 0xE4  # BCM2711 only: GPIO_PUP_PDN_CNTRL_REG0-3 at 0xe4-0xf0

# GPFSEL encodings (§3.3): 000 input, 001 output, 100 ALT0, 101 ALT1, 110 ALT2, 111 ALT3,
# 011 ALT4, 010 ALT5.
FSEL_INPUT: Final = 0b000
FSEL_OUTPUT: Final = 0b001
FSEL_ALT: Final = (0b100, 0b101, 0b110, 0b111, 0b011, 0b010)
"""FSEL code of ALT0..ALT5."""
ALT_OF_FSEL: Final = {code: alt for alt, code in enumerate(FSEL_ALT)}
FUNCTION_NAMES: Final = {
    FSEL_INPUT: "input",
    FSEL_OUTPUT: "output",
    **{code: f"ALT{alt}" for alt, code in enumerate(FSEL_ALT)},
}
FSEL_OF_FUNCTION: Final = {name: code for code, name in FUNCTION_NAMES.items()}

# Pull states, in the BCM2711 GPIO_PUP_PDN_CNTRL encoding (§3.6): 00 none, 01 up, 10 down.
PULL_NONE: Final = 0
PULL_UP: Final = 1
PULL_DOWN: Final = 2
PULL_NAMES: Final = {PULL_NONE: "none", PULL_UP: "up", PULL_DOWN: "down"}
PULL_OF_NAME: Final = {name: code for code, name in PULL_NAMES.items()}
# BCM2835 GPPUD bits 1:0 (§3.6): 00 off, 01 pull-down, 10 pull-up, 11 reserved.
GPPUD_TO_PULL: Final = {0b00: PULL_NONE, 0b01: PULL_DOWN, 0b10: PULL_UP}

PAD_PULL_OHMS: Final = 50_000.0
"""The pads' internal pull resistance. The seed gives 50-65 kΩ (up) and 50-60 kΩ (down);
Linux ``bcm2711_pinconf_get`` reports 50000 Ω, "taken from the BCM2711/7211 datasheet"
(soc-facts §3.6). 50 kΩ is the value both sources share."""

GPPUD_SETUP_CYCLES: Final = 150
"""soc-facts §3.6: "Wait 150 cycles – this provides the required set-up time"; counted in
core-clock cycles (Linux: "the VideoCore firmware delay ... this clock runs at 250 MHz")."""

SYNC_SAMPLES: Final = 2
"""soc-facts §3.5: synchronous detection looks for "011"/"100" in the pin sampled at the
system clock, so the new level must be seen by two samples. A pulse of two clock periods
always holds for two samples whatever the sampling phase; the model takes that bound
(8 ns at 250 MHz) so the outcome does not depend on an unobservable clock phase."""


def _reset_pulls(count: int) -> tuple[int, ...]:
    """Reset pulls per line (soc-facts §3.7; the same pattern on both chips):
    GPIO0-8 up; 9-27 down; 28-29 none; 30-33 down; 34-36 up; 37-43 down; 44-45 none;
    46-57 up."""
    spans = (
        (0, 8, PULL_UP),
        (9, 27, PULL_DOWN),
        (28, 29, PULL_NONE),
        (30, 33, PULL_DOWN),
        (34, 36, PULL_UP),
        (37, 43, PULL_DOWN),
        (44, 45, PULL_NONE),
        (46, 57, PULL_UP),
    )
    pulls = [PULL_NONE] * count
    for first, last, pull in spans:
        for line in range(first, min(last, count - 1) + 1):
            pulls[line] = pull
    return tuple(pulls)


def _pin_fields(
    prefix: str, first: int, count: int, width: int, access: Access
) -> tuple[Field, ...]:
    return tuple(Field(f"{prefix}{first + i}", i * width, width, access) for i in range(count))


def build_gpio_map(gpio_count: int, pull_control: str) -> RegisterMap:
    """The GPIO register map of a chip with ``gpio_count`` lines and the given pull control."""
    regs: list[Register] = []
    for i in range(6):
        first = 10 * i
        n = max(0, min(10, gpio_count - first))
        regs.append(
            Register(
                f"GPFSEL{i}",
                GPFSEL_OFFSET + 4 * i,
                _pin_fields("FSEL", first, n, 3, Access.RW),
                doc=f"function select GPIO{first}-{first + n - 1}",
            )
        )
    for prefix, offset, field_prefix, access, doc in GPIO_BANK_REGISTERS:
        for bank in (0, 1):
            first = 32 * bank
            n = min(32, gpio_count - first)
            regs.append(
                Register(
                    f"{prefix}{bank}",
                    offset + 4 * bank,
                    _pin_fields(field_prefix, first, n, 1, access),
                    doc=doc,
                )
            )
    if pull_control == "gppud":
        regs.append(
            Register(
                "GPPUD",
                GPPUD_OFFSET,
                (Field("PUD", 0, 2, Access.RW, doc="00 off, 01 pull-down, 10 pull-up"),),
                doc="pull control signal for the GPPUDCLK sequence (BCM2835)",
            )
        )
        for bank in (0, 1):
            first = 32 * bank
            regs.append(
                Register(
                    f"GPPUDCLK{bank}",
                    GPPUDCLK_OFFSET + 4 * bank,
                    _pin_fields("PUDCLK", first, min(32, gpio_count - first), 1, Access.RW),
                    doc="clock GPPUD into these pads (BCM2835)",
                )
            )
    elif pull_control == "pup_pdn":
        pulls = _reset_pulls(gpio_count)
        for r in range(4):
            first = 16 * r
            n = max(0, min(16, gpio_count - first))
            fields = tuple(
                Field(f"GPIO_PUP_PDN_CNTRL{first + i}", 2 * i, 2, Access.RW, reset=pulls[first + i])
                for i in range(n)
            )
            regs.append(
                Register(
                    f"GPIO_PUP_PDN_CNTRL_REG{r}",
                    PUP_PDN_OFFSET + 4 * r,
                    fields,
                    doc="00 none, 01 pull-up, 10 pull-down; reads the current state (BCM2711)",
                )
            )
    else:
        raise ConfigurationError(f"unknown pull control {pull_control!r}; known: gppud, pup_pdn")
    return RegisterMap(regs)


_HIGH: Final = Drive.push_pull(True)
_LOW: Final = Drive.push_pull(False)
_PULL_DRIVES: Final[Mapping[int, Drive | None]] = {
    PULL_NONE: None,
    PULL_UP: Drive.pull_up(PAD_PULL_OHMS),
    PULL_DOWN: Drive.pull_down(PAD_PULL_OHMS),
}


def _bits(mask: int) -> list[int]:
    """The set bit positions of ``mask``, lowest first."""
    out: list[int] = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out
