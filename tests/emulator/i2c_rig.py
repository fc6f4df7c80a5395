"""Test rig for the I2C bus tests: a SoC on raw nets with pull-ups and a register target.

`PointerTarget` is a plain "register pointer then data" I2C device (256 bytes) that
can stretch SCL at any phase through the `I2cTarget` stretch profile; it records
every call it receives with its bus timestamp, so tests can compare what two runs
did to the device.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pihil_emulator.attachments import Attachment
from pihil_emulator.buses.i2c_target import I2cTarget, Stretch
from pihil_emulator.soc.bsc import BscBlock
from pihil_emulator.soc.soc import Soc
from pihil_emulator.soc.variants import BCM2711, BCM2835, SocVariant
from pihil_emulator.world.clock import World
from pihil_emulator.world.net import Circuit, Drive, Net

BOARD_PULL_UP_OHMS = 1800.0
"""The Pi's 1K8 pull-ups on GPIO2/3 (DESIGN "Nets and electrical rules")."""


class PointerTarget(I2cTarget):
    """A 256-byte register file: the first byte written sets the pointer, then auto-increment."""

    model = "pointer-target"

    def __init__(self, address: int = 0x48, name: str | None = None, *, fill: int = 0) -> None:
        super().__init__(address, name)
        self.mem = bytearray((fill + i) & 0xFF for i in range(256))
        self.pointer = 0
        self._expect_pointer = False
        self.log: list[tuple[str, int, int]] = []  # (call, argument, time_ns)
        self.nack_data_after: int | None = None  # NACK written data bytes after this many
        self._written = 0

    def start(self, read: bool) -> bool:
        self.log.append(("start", int(read), self.now_ns))
        self._expect_pointer = not read
        self._written = 0
        return True

    def write_byte(self, value: int) -> bool:
        self.log.append(("write", value, self.now_ns))
        if self.nack_data_after is not None and self._written >= self.nack_data_after:
            return False
        self._written += 1
        if self._expect_pointer:
            self._expect_pointer = False
            self.pointer = value
        else:
            self.mem[self.pointer] = value
            self.pointer = (self.pointer + 1) & 0xFF
        return True

    def read_byte(self) -> int:
        value = self.mem[self.pointer]
        self.log.append(("read", value, self.now_ns))
        self.pointer = (self.pointer + 1) & 0xFF
        return value

    def master_ack(self, ack: bool) -> None:
        self.log.append(("ack", int(ack), self.now_ns))

    def stop(self) -> None:
        self.log.append(("stop", 0, self.now_ns))


@dataclass
class Rig:
    """A SoC with bsc1 routed to GPIO2/3 (ALT0) and 1K8 pull-ups, targets attached there."""

    world: World
    circuit: Circuit
    soc: Soc
    bsc: BscBlock
    sda: Net
    scl: Net
    targets: list[I2cTarget] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)

    def attach(self, target: I2cTarget) -> I2cTarget:
        self.targets.append(target)
        self.attachments.append(
            self.soc.attachments.attach(target, "i2c1", "i2c", {"sda": self.sda, "scl": self.scl})
        )
        return target


def make_rig(
    variant: SocVariant | str = "BCM2835",
    *,
    seed: int = 0,
    pull_ups: bool = True,
    **overrides: object,
) -> Rig:
    if isinstance(variant, str):
        variant = {"BCM2835": BCM2835, "BCM2711": BCM2711}[variant]
    if overrides:
        variant = variant.with_overrides(**overrides)
    world = World(seed)
    circuit = Circuit(world)
    soc = Soc(world, circuit, variant)
    soc.gpio.set_function(2, "ALT0")
    soc.gpio.set_function(3, "ALT0")
    sda, scl = soc.gpio.net(2), soc.gpio.net(3)
    if pull_ups:
        sda.drive("board R1 (SDA1)", Drive.pull_up(BOARD_PULL_UP_OHMS))
        scl.drive("board R2 (SCL1)", Drive.pull_up(BOARD_PULL_UP_OHMS))
    bsc = soc.blocks["bsc1"]
    assert isinstance(bsc, BscBlock)
    return Rig(world, circuit, soc, bsc, sda, scl)


def stretching(target: I2cTarget, *stretches: Stretch) -> I2cTarget:
    target.stretches = list(stretches)
    return target
