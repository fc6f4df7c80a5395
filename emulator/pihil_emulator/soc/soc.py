"""The SoC: its blocks, built from one explicit list.

Adding a block (I2C, SPI, UART...) is one import and one line in `block_list`: a
factory ``factory(soc, name) -> RegisterBlock``, given the `Soc` so it can reach
``soc.world``, ``soc.circuit``, ``soc.variant``, ``soc.gpio`` and ``soc.attachments``.
Blocks are built in list order, so a block may use any block listed before it
(``gpio`` comes first). A block module imports `Soc` for type hints only (under
``TYPE_CHECKING``), which keeps this file free of import cycles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..attachments import Attachments
from ..errors import RegisterError
from ..world.clock import World
from ..world.net import Circuit
from .bsc import BscBlock
from .gpio import GpioBlock, gpio_block
from .mini_uart import MiniUartBlock, aux_alias
from .pads import PadsBlock
from .pl011 import Pl011Block
from .registers import RegisterBlock, RegisterPolicy
from .spi0 import Spi0Block
from .variants import SocVariant

BlockFactory = Callable[["Soc", str], RegisterBlock]


@dataclass(frozen=True)
class BlockSpec:
    """One block of the SoC: its datasheet name (lower case) and how to build it."""

    name: str
    factory: BlockFactory


def block_list(variant: SocVariant) -> list[BlockSpec]:
    """THE list of the SoC's blocks, in build order. Add yours here (one line).

    Blocks that exist in several instances take their names from the variant, e.g.
    ``*(BlockSpec(n, BscBlock) for n in variant.i2c_controllers)``.
    """
    return [
        BlockSpec("gpio", gpio_block),
        BlockSpec("pads", PadsBlock),
        *(BlockSpec(n, BscBlock) for n in variant.i2c_controllers),
        BlockSpec("spi0", Spi0Block),
        *(BlockSpec(n, Pl011Block) for n in variant.pl011_uarts),
        BlockSpec("uart1", MiniUartBlock),
        BlockSpec("aux", aux_alias),  # the same mini UART block under its AUX name
    ]


class Soc:
    """One BCM2835 or BCM2711: the blocks of `block_list`, by name in ``blocks``."""

    def __init__(
        self,
        world: World,
        circuit: Circuit,
        variant: SocVariant,
        attachments: Attachments | None = None,
    ) -> None:
        self.world = world
        self.circuit = circuit
        self.variant = variant
        self.attachments = attachments if attachments is not None else Attachments()
        self.blocks: dict[str, RegisterBlock] = {}
        self.register_policy = RegisterPolicy(lambda: world.now_ns)
        """Reserved bits and too-wide values written to any block: warnings, or strict errors."""
        for spec in block_list(variant):
            if spec.name in self.blocks:
                raise ValueError(f"block {spec.name!r} is listed twice in soc.block_list")
            self.blocks[spec.name] = spec.factory(self, spec.name)
            self.blocks[spec.name].policy = self.register_policy

    @property
    def gpio(self) -> GpioBlock:
        block = self.blocks["gpio"]
        assert isinstance(block, GpioBlock)
        return block

    @property
    def pads(self) -> PadsBlock:
        block = self.blocks["pads"]
        assert isinstance(block, PadsBlock)
        return block

    def block(self, name: str) -> RegisterBlock:
        """A block by its datasheet name (case-insensitive), with a clear error listing them."""
        block = self.blocks.get(name.lower())
        if block is None:
            raise RegisterError(
                f"the {self.variant.name} model has no block {name!r}; "
                f"blocks: {', '.join(self.blocks)}"
            )
        return block

    def set_core_clock(self, hz: int) -> None:
        """Change the VPU core clock at run time; blocks clocked from it follow through their
        ``core_clock_changed(hz)`` (the mini UART's baud rate changes, soc-facts §4.2)."""
        self.variant = self.variant.with_overrides(core_clock_hz=hz)
        for block in dict.fromkeys(self.blocks.values()):  # once each (``aux`` is ``uart1``)
            hook = getattr(block, "core_clock_changed", None)
            if callable(hook):
                hook(hz)

    def reset(self) -> None:
        """Every block back to its reset state (a SoC reset: wires and devices stay)."""
        for block in self.blocks.values():
            block.reset_registers()
