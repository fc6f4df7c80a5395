"""The GPIO pads' pulls (soc-facts §3.6, §3.7): the BCM2835 GPPUD/GPPUDCLK clocked
sequence and the BCM2711 GPIO_PUP_PDN_CNTRL registers, on top of the GPIO state shared by
the block's parts (declared here, set up by `gpio.GpioBlock.__init__`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from ..errors import ConfigurationError, PinError
from ..world.clock import World
from ..world.net import Net
from .gpio_map import _PULL_DRIVES, GPPUD_TO_PULL, PULL_NAMES, PULL_NONE, PULL_OF_NAME, _bits
from .registers import RegisterBlock

if TYPE_CHECKING:
    from .soc import Soc


class GpioPadPulls(RegisterBlock):
    """The state every part of the GPIO block shares, line checks, and the pads' pulls."""

    GPIO_COUNT: ClassVar[int]
    PULL_CONTROL: ClassVar[str]

    soc: Soc
    world: World
    count: int
    _all: int
    _nets: list[Net]
    _level: int
    _pull: list[int]
    _pull_owner: list[str]
    pud_setup_ns: int
    _gppud: int
    _gppud_since: int
    _pudclk: int

    def _bank_mask(self, shift: int) -> int:
        return (self._all >> shift) & 0xFFFF_FFFF

    def _check_line(self, line: int) -> int:
        if not isinstance(line, int) or isinstance(line, bool) or not 0 <= line < self.count:
            raise PinError(
                f"GPIO{line} does not exist on the {self.soc.variant.name} "
                f"(GPIO0-GPIO{self.count - 1})"
            )
        return line

    def _set_pad_pull(self, n: int, pull: int) -> None:
        self._pull[n] = pull
        self._nets[n].drive(self._pull_owner[n], _PULL_DRIVES[pull])

    def _write_gppud(self, value: int) -> None:
        self._gppud = value & 0b11
        self._gppud_since = self.world.now_ns
        self._values["GPPUD"] = self._gppud

    def _pudclk_writer(self, bank: int) -> Callable[[int], None]:
        shift = 32 * bank
        mask = self._bank_mask(shift)
        reg_name = f"GPPUDCLK{bank}"

        def write(value: int) -> None:
            value &= mask
            new = value << shift
            rising = new & ~self._pudclk
            self._pudclk = (self._pudclk & ~(mask << shift)) | new
            self._values[reg_name] = value
            # §3.6: only pads that receive a clock are modified, and only with the set-up met
            pull = GPPUD_TO_PULL.get(self._gppud)
            if not rising or pull is None:
                return
            if self.world.now_ns - self._gppud_since < self.pud_setup_ns:
                return
            for n in _bits(rising):
                self._set_pad_pull(n, pull)

        return write

    def _pup_pdn_writer(self, r: int) -> Callable[[int], None]:
        first = 16 * r
        lines = range(first, min(first + 16, self.count))
        reg_name = f"GPIO_PUP_PDN_CNTRL_REG{r}"
        mask = sum(0b11 << (2 * (n - first)) for n in lines)

        def write(value: int) -> None:
            self._values[reg_name] = value & mask
            for n in lines:
                code = (value >> (2 * (n - first))) & 0b11
                # 11 is "Reserved": the register keeps it, the pad gets no resistor
                self._set_pad_pull(n, code if code in PULL_NAMES else PULL_NONE)

        return write

    def _pup_pdn_reader(self, r: int) -> Callable[[], int]:
        reg_name = f"GPIO_PUP_PDN_CNTRL_REG{r}"
        return lambda: self._values[reg_name]

    def pull(self, line: int) -> str:
        """The pad's pull now: ``"none"``, ``"up"`` or ``"down"`` (model side; the BCM2835 has
        no register that reads it back)."""
        return PULL_NAMES[self._pull[self._check_line(line)]]

    def set_pull(self, line: int, pull: str) -> None:
        """Set a pad's pull directly (firmware or test set-up); on the BCM2711 the
        GPIO_PUP_PDN_CNTRL register follows, as it reads the current state."""
        code = PULL_OF_NAME.get(pull)
        if code is None:
            raise ConfigurationError(f"unknown pull {pull!r}; valid: {', '.join(PULL_OF_NAME)}")
        n = self._check_line(line)
        self._set_pad_pull(n, code)
        if self.PULL_CONTROL == "pup_pdn":
            reg = f"GPIO_PUP_PDN_CNTRL_REG{n // 16}"
            shift = 2 * (n % 16)
            self._values[reg] = (self._values[reg] & ~(0b11 << shift)) | (code << shift)
