"""A minimal I2C master for device tests: drives an `I2cTarget` through the byte-level calls.

It follows the call order of `pihil_emulator.buses.i2c_target` (start → bytes →
stop; repeated start without stop), asks the device for its stretch at each
phase and, when given a `World`, advances simulated time by the stretch and by
``byte_ns`` per byte on the wire, as a stretch-honouring master would.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pihil_emulator.buses.i2c_target import I2cTarget, StretchPhase
from pihil_emulator.world.clock import World


class Nacked(Exception):
    """The device did not acknowledge: ``phase`` is "address" or "data", ``index`` the byte."""

    def __init__(self, phase: str, index: int) -> None:
        self.phase = phase
        self.index = index
        super().__init__(f"NACK at {phase} byte {index}")


@dataclass
class Master:
    world: World | None = None
    byte_ns: int = 0
    stretches: list[tuple[StretchPhase, int, int]] = field(default_factory=list)

    def _advance(self, ns: int) -> None:
        if self.world is not None and ns > 0:
            self.world.run_for(ns)

    def _stretch(self, dev: I2cTarget, phase: StretchPhase, index: int) -> None:
        ns = dev.stretch(phase, index)
        if ns:
            self.stretches.append((phase, index, ns))
            self._advance(ns)

    def address(self, dev: I2cTarget, read: bool) -> None:
        self._advance(self.byte_ns)
        ack = dev.start(read)
        self._stretch(dev, StretchPhase.WRITE_PRE_ACK, 0)
        if not ack:
            raise Nacked("address", 0)
        self._stretch(dev, StretchPhase.WRITE_POST_ACK, 0)

    def send(self, dev: I2cTarget, data: bytes) -> None:
        for i, b in enumerate(data, start=1):
            self._advance(self.byte_ns)
            ack = dev.write_byte(b)
            self._stretch(dev, StretchPhase.WRITE_PRE_ACK, i)
            if not ack:
                raise Nacked("data", i)
            self._stretch(dev, StretchPhase.WRITE_POST_ACK, i)

    def receive(self, dev: I2cTarget, n: int) -> bytes:
        out = bytearray()
        for i in range(1, n + 1):
            self._advance(self.byte_ns)
            out.append(dev.read_byte())
            self._stretch(dev, StretchPhase.READ_PRE_ACK, i)
            dev.master_ack(i < n)
            self._stretch(dev, StretchPhase.READ_POST_ACK, i)
        return bytes(out)

    # -- whole transfers (a NACK ends the transfer with a STOP, as a master does) --
    def write(self, dev: I2cTarget, data: bytes) -> None:
        try:
            self.address(dev, read=False)
            self.send(dev, data)
        finally:
            dev.stop()

    def read(self, dev: I2cTarget, n: int) -> bytes:
        try:
            self.address(dev, read=True)
            return self.receive(dev, n)
        finally:
            dev.stop()

    def write_read(self, dev: I2cTarget, data: bytes, n: int) -> bytes:
        """Write ``data``, repeated START, read ``n`` bytes, STOP."""
        try:
            self.address(dev, read=False)
            self.send(dev, data)
            self.address(dev, read=True)
            return self.receive(dev, n)
        finally:
            dev.stop()

    def acks(self, dev: I2cTarget, read: bool) -> bool:
        """Address-only probe (as i2cdetect/ACK polling does): True if ACKed."""
        try:
            self.address(dev, read=read)
        except Nacked:
            return False
        finally:
            dev.stop()
        return True
