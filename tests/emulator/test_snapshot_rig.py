"""Helpers of the snapshot tests (no tests here): traffic and state fingerprints (issue 13
item 4).

`Op` values are driver calls on the MirkoPC (its I2C devices, the HAT EEPROM, the W25Q32
flash and MCP3008 ADC on SPI0, the TXD-RXD jumpered UART, the J8-11/J8-13 jumper), each
recorded with its result and the simulated time after it: two runs of the same ops are
the same when their transcripts are equal. `fingerprint` is the board's state as plain
values (registers, nets, devices, time, the random source, the event queue), comparable
between two boards.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from pihil_emulator.board import Board
from pihil_emulator.faults import StuckNet
from rpiboard_pihil import RpiBoard
from rpiboard_pihil.enums import Pull
from rpiboard_pihil.errors import I2cNackError


@dataclass(frozen=True)
class Op:
    kind: str
    a: int = 0
    b: int = 0
    data: bytes = b""


def open_board(board: str = "mirkopc", seed: int = 0) -> RpiBoard:
    return RpiBoard("local", options={"simulate": True, "board": board, "seed": seed})


def run_op(board: RpiBoard, op: Op) -> Any:
    i2c1 = board.i2c_buses["i2c1"]
    i2c0 = board.i2c_buses["i2c0"]
    flash, adc = board.spi_buses[0].devices[0], board.spi_buses[0].devices[1]
    if op.kind == "i2c_read":  # lm75b, pcf8523, tpa6130a2, emc2301, nobody (0x33: NACK)
        try:
            return i2c1.write_read(op.a, [op.b], 2)
        except I2cNackError as exc:
            return ("nack", exc.address)
    if op.kind == "eeprom_write":
        eeprom = board.simulation.emulator.devices["hat_eeprom"]
        eeprom.write_protect = False  # the HAT EEPROM's WP is high on the jig (soc-facts §6)
        i2c0.write(0x50, [op.a >> 8, op.a & 0xFF, *op.data])
        board.delay(0.006)  # the CAT24C32's write cycle
        return None
    if op.kind == "eeprom_read":
        return i2c0.write_read(0x50, [op.a >> 8, op.a & 0xFF], op.b)
    if op.kind == "flash_program":
        flash.transfer([0x06])  # WREN
        flash.transfer([0x02, op.a >> 16 & 0xFF, op.a >> 8 & 0xFF, op.a & 0xFF, *op.data])
        board.delay(0.001)
        return flash.transfer([0x05, 0])  # status
    if op.kind == "flash_read":
        return flash.transfer([0x03, op.a >> 16 & 0xFF, op.a >> 8 & 0xFF, op.a & 0xFF] + [0] * op.b)
    if op.kind == "adc":
        return adc.transfer([0x01, 0x80 | op.a << 4, 0x00])
    if op.kind == "uart":
        uart = board.uarts[0]  # TXD-RXD jumpered
        uart.write(op.data)
        return uart.read(len(op.data), 0.05)
    if op.kind == "gpio":
        board.gpios[27].pull = Pull.DOWN
        board.gpios[17].set_output(bool(op.a))
        return board.gpios[27].value
    if op.kind == "delay":
        board.delay(op.a / 1e6)
        return None
    if op.kind == "fault":  # a scheduled event: GPIO20 stuck high later, for a while
        now = board.now_ns
        board.simulation.inject(
            StuckNet(at_ns=now + op.a * 1000, duration_ns=op.b * 1000, pin="J8-38", level=True)
        )
        return None
    if op.kind == "level":
        return board.simulation.emulator.net("J8-38").level  # GPIO20 (I2S: claimed)
    if op.kind == "random":
        return board.simulation.emulator.world.random.random()
    raise AssertionError(op)


def run_ops(board: RpiBoard, ops: Sequence[Op]) -> list[tuple[Any, int]]:
    return [(run_op(board, op), board.now_ns) for op in ops]


def ops() -> st.SearchStrategy[list[Op]]:
    one = st.one_of(
        st.builds(
            Op,
            st.just("i2c_read"),
            st.sampled_from([0x48, 0x68, 0x60, 0x2F, 0x33]),
            st.integers(0, 15),
        ),
        st.builds(
            Op,
            st.just("eeprom_write"),
            st.integers(0, 4000),
            data=st.binary(min_size=1, max_size=8),
        ),
        st.builds(Op, st.just("eeprom_read"), st.integers(0, 4000), st.integers(1, 8)),
        st.builds(
            Op,
            st.just("flash_program"),
            st.integers(0, 0x3FFFF0),
            data=st.binary(min_size=1, max_size=8),
        ),
        st.builds(Op, st.just("flash_read"), st.integers(0, 0x3FFFF0), st.integers(1, 8)),
        st.builds(Op, st.just("adc"), st.integers(0, 7)),
        st.builds(Op, st.just("uart"), data=st.binary(min_size=1, max_size=6)),
        st.builds(Op, st.just("gpio"), st.integers(0, 1)),
        st.builds(Op, st.just("delay"), st.integers(1, 20_000)),
        st.builds(Op, st.just("random")),
        st.builds(Op, st.just("fault"), st.integers(0, 5_000), st.integers(1, 5_000)),
        st.builds(Op, st.just("level")),
    )
    return st.lists(one, max_size=6)


TRAFFIC = [
    Op("gpio", 1),
    Op("i2c_read", 0x48, 0),
    Op("eeprom_write", 0x100, data=b"pihil"),
    Op("flash_program", 0x1000, data=b"\x12\x34\x56"),
    Op("uart", data=b"$GP\x00\xff"),
    Op("adc", 3),
    Op("i2c_read", 0x33, 0),
    Op("delay", 1500),
    Op("random"),
    Op("fault", 200, 300),
    Op("level"),
    Op("delay", 300),
    Op("level"),
]
"""Something of every kind, for the tests that are not Hypothesis tests."""


def _values(obj: object) -> dict[str, Any]:
    """An object's attributes that are plain values (memories as digests)."""
    out: dict[str, Any] = {}
    for key, value in sorted(vars(obj).items()):
        if isinstance(value, bytearray | bytes) and len(value) > 64:
            out[key] = hashlib.sha256(value).hexdigest()
        elif isinstance(value, int | float | str | bytes | bytearray | type(None)):
            out[key] = value
        elif isinstance(value, list | tuple | dict) and all(
            isinstance(v, int | float | str | bytes | bool | type(None))
            for v in (value.values() if isinstance(value, dict) else value)
        ):
            out[key] = repr(value)
    return out


def _device_name(device: object) -> str:
    return str(getattr(device, "name", type(device).__name__))


def fingerprint(board: Board) -> dict[str, Any]:
    """The board's state as values: every register (peeked: no read side effects), every
    net's level, voltage and drives, the wires, every device's plain attributes, the
    time, the random source and the scheduled events."""
    blocks = {
        name: {reg.name: block.peek(reg.name) for reg in block.MAP}
        for name, block in board.soc.blocks.items()
    }
    nets = {
        name: (
            net.level,
            round(net.volts, 9),
            net.floating,
            tuple(sorted((o, d.describe()) for o, d in net.drivers.items())),
        )
        for name, net in board.circuit.nets.items()
    }
    env = board.world.env
    return {
        "time": board.now_ns,
        "random": board.world.random.getstate(),
        "queue": sorted((t, p) for t, p, _, _ in env.pending),
        "blocks": blocks,
        "nets": nets,
        "wires": [w.label for w in board.circuit.wires],
        "devices": {name: _values(dev) for name, dev in board.devices.items()},
        "attachments": [(a.bus, a.kind, _device_name(a.device)) for a in board.attachments],
    }
