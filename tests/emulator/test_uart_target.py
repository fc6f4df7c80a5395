"""The UART device protocol (`UartTarget`) on raw nets, off a board."""

from __future__ import annotations

from pihil_emulator.buses.uart_line import LineSettings, UartLines
from pihil_emulator.buses.uart_rx import BE, RxChar, UartReceiver
from pihil_emulator.buses.uart_target import UartTarget
from pihil_emulator.buses.uart_tx import UartTransmitter
from pihil_emulator.world.clock import World
from pihil_emulator.world.net import Circuit, Drive

S = LineSettings(57_600)


class Recorder(UartTarget):
    model = "recorder"

    def __init__(self) -> None:
        super().__init__(S, "rec")
        self.chars: list[RxChar] = []

    def receive(self, char: RxChar) -> None:
        self.chars.append(char)


def rig() -> tuple[World, UartTransmitter, UartReceiver, Recorder]:
    world = World()
    c = Circuit(world)
    soc_tx, soc_rx = c.add_net("SOC_TX"), c.add_net("SOC_RX")
    soc_tx.drive("soc", Drive.push_pull(True))
    hub = UartLines.of(c)
    tx = UartTransmitter(world, S, name="soc.tx", hub=hub, outputs=[soc_tx])
    rx = UartReceiver(world, S, name="soc.rx", inputs=[soc_rx], hub=hub)
    dev = Recorder()
    dev.connect(c, tx=soc_tx, rx=soc_rx)
    return world, tx, rx, dev


def test_device_gets_each_character_at_its_completion_time() -> None:
    """Devices hear decoded characters when their stop bit is sampled, not before."""
    world, tx, _rx, dev = rig()
    tx.send(b"xyz")
    seen: list[tuple[int, int]] = []
    for _ in range(3):
        world.run_for(int(S.frame_ns))
        seen.append((len(dev.chars), world.now_ns))
    assert [n for n, _ in seen] == [1, 2, 3]
    assert bytes(c.value for c in dev.chars) == b"xyz"
    for i, c in enumerate(dev.chars):
        assert c.time_ns == i * S.frame_ns + (9.5 + 1 / 32) * S.bit_ns


def test_device_transmits_on_its_rx_role_net_and_drives_it_idle_high() -> None:
    world, _tx, rx, dev = rig()
    assert dev._driven is not None
    assert dev._driven.level is True
    end = dev.transmit(b"hi")
    assert end == 2 * S.frame_ns
    world.run_for(1_000_000)
    got = [x for chunk in rx.take() for x in chunk.chars()]
    assert bytes(c.value for c in got) == b"hi"


def test_device_break_and_settings_change() -> None:
    world, tx, rx, dev = rig()
    dev.send_break(1_000_000)
    world.run_for(2_000_000)
    got = [x for chunk in rx.take() for x in chunk.chars()]
    assert [(c.value, c.flags) for c in got] == [(0, BE | 0x1)]
    dev.set_settings(LineSettings(9600))
    tx.send(b"A")
    world.run_for(2_000_000)
    assert dev.chars
    assert (dev.chars[-1].value, dev.chars[-1].flags) != (ord("A"), 0)
