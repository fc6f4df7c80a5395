"""The tty side both SoC UARTs share (`soc.uart_port.UartPort`), run on the PL011 and the
mini UART alike: the driver entry points of docs/emulator-api.md, as the Linux serial core
behaves (``tcdrain``, closing a port, the first interrupt draining the FIFO)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pihil_emulator.buses.uart_line import LineSettings
from pihil_emulator.errors import ConfigurationError
from pihil_emulator.soc.mini_uart import MiniUartBlock
from pihil_emulator.soc.pl011 import Pl011Block
from pihil_emulator.soc.uart_port import UartPort
from pihil_emulator.soc.variants import BCM2711

from .uart_rig import SocUartRig


@dataclass(frozen=True)
class Block:
    """One UART block on GPIO14/15 and the register writes that start it bare-metal."""

    name: str
    block_type: type[UartPort]
    function: str
    bare_metal: tuple[tuple[str, int], ...]


BLOCKS = (
    Block("uart0", Pl011Block, "ALT0", (("IBRD", 26), ("FBRD", 3), ("LCRH", 0x70), ("CR", 0x301))),
    Block(
        "uart1",
        MiniUartBlock,
        "ALT5",
        (("AUX_ENABLES", 1), ("AUX_MU_LCR_REG", 3), ("AUX_MU_BAUD_REG", 270), ("CNTL", 3)),
    ),
)


@pytest.fixture(params=BLOCKS, ids=[b.name for b in BLOCKS])
def block(request: pytest.FixtureRequest) -> Block:
    b: Block = request.param
    return b


def make_rig(block: Block) -> SocUartRig[UartPort]:
    return SocUartRig(
        block.name, block.block_type, block.function, variant=BCM2711, far=LineSettings(115_200)
    )


def test_write_bytes_queues_and_flush_waits_for_the_last_stop_bit(block: Block) -> None:
    """tcdrain: queueing takes no time; flush returns when the last frame has left."""
    rig = make_rig(block)
    u = rig.uart
    line = u.configure(115_200)
    t0 = rig.world.now_ns
    u.write_bytes(b"hello")
    assert rig.world.now_ns == t0
    assert u.tx_level() == 4  # the first character is already on the line
    u.flush()
    assert rig.world.now_ns - t0 == pytest.approx(5 * line.frame_ns, abs=1)
    assert u.tx_level() == 0
    assert bytes(c.value for c in rig.heard()) == b"hello"


def test_close_drops_the_tty_buffer_and_stops_receiving(block: Block) -> None:
    """Closing: unread input is lost, the receiver is off, driver calls need configure again."""
    rig = make_rig(block)
    u = rig.uart
    u.configure(115_200)
    rig.far_tx.send(b"abc")
    rig.run(1_000_000)
    assert u.in_waiting() == 3
    u.close()
    with pytest.raises(ConfigurationError, match="not open"):
        u.in_waiting()
    rig.far_tx.send(b"def")
    rig.run(1_000_000)
    assert u.rx_level() == 0  # the receiver was off: nothing reached the FIFO
    u.configure(115_200)
    assert u.in_waiting() == 0
    rig.far_tx.send(b"g")
    assert u.read(1, 1_000_000) == b"g"


def test_bytes_received_before_the_port_opens_reach_read(block: Block) -> None:
    """What the hardware FIFO held when the port opened is the tty's first input."""
    rig = make_rig(block)
    u = rig.uart
    for reg, value in block.bare_metal:
        u.write(reg, value)
    rig.far_tx.send(b"xyz")
    rig.run(1_000_000)
    assert u.rx_level() == 3
    u.configure(115_200)
    assert u.rx_level() == 0
    assert u.in_waiting() == 3
    assert u.read(3, 0) == b"xyz"
