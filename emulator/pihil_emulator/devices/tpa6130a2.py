"""TI TPA6130A2 stereo headphone amplifier (MirkoPC REV1.1 U701 at 0x60 on I2C1; soc-facts §7.2).

Register map from the TPA6130A2 data sheet (SLOS488) and the Linux driver
(sound/soc/codecs/tpa6130a2.[ch], whose regmap defaults are Control = SWS and
Volume = both channels muted): 1 Control (HP_EN_L, HP_EN_R, mode, thermal
flag, software shutdown), 2 Volume and mute, 3 Output impedance (Hi-Z per
channel), 4 version (reads 0x02; MirkoPC's ``tpa6130a2_init.py`` checks it,
then writes reg1 = 0xC0, reg2 = 0x35, reg3 = 0x00).

Read-only bits (the thermal flag, the version register) ignore writes, as the
silicon does: the master gets its ACK and nothing changes. The model does not
raise there, because the same test suite runs against a real board, where such
a write is silently dropped; tests that care read ``ignored_writes``.
"""

from __future__ import annotations

from typing import ClassVar

from ..soc.registers import Access, Field, Register, RegisterMap
from .register_device import I2cRegisterDevice

VERSION = 0x02

TPA6130A2_MAP = RegisterMap(
    [
        Register(
            "Control",
            0x01,
            (
                Field("SWS", 0, reset=1, doc="software shutdown"),
                Field("THERMAL", 1, access=Access.RO, doc="thermal shutdown flag"),
                Field("MODE", 4, 2, doc="00 stereo, 01 dual mono, 10 bridge-tied load"),
                Field("HP_EN_R", 6),
                Field("HP_EN_L", 7),
            ),
        ),
        Register(
            "Volume",
            0x02,
            (
                Field("VOLUME", 0, 6),
                Field("MUTE_R", 6, reset=1),
                Field("MUTE_L", 7, reset=1),
            ),
        ),
        Register("OutputImpedance", 0x03, (Field("HIZ_R", 0), Field("HIZ_L", 1))),
        Register("Version", 0x04, (Field("VERSION", 0, 4, access=Access.RO, reset=VERSION),)),
    ]
)

_THERMAL = 1 << 1


class Tpa6130a2(I2cRegisterDevice):
    """TPA6130A2 at 0x60.

    Simulation side: ``thermal_shutdown`` (a fault: sets the Control THERMAL
    flag), ``left_enabled`` / ``right_enabled``, ``software_shutdown``,
    ``volume`` (0..63), ``muted_left`` / ``muted_right``, ``hi_z_left`` /
    ``hi_z_right``, ``playing`` (a channel is enabled, not shut down, not
    muted, not Hi-Z), ``ignored_writes`` ((time_ns, register, value) of writes
    that read-only bits dropped).
    """

    model = "tpa6130a2"
    MAP: ClassVar[RegisterMap] = TPA6130A2_MAP

    def __init__(self, address: int = 0x60, name: str | None = None) -> None:
        super().__init__(address, name)
        self.thermal_shutdown = False
        self.ignored_writes: list[tuple[int, str, int]] = []
        self._hook("Control", read=self._read_control, write=self._write_control)
        self._hook("Version", write=self._write_version)

    def _read_control(self) -> int:
        return self.peek("Control") | (_THERMAL if self.thermal_shutdown else 0)

    def _write_control(self, value: int) -> None:
        if value & _THERMAL:
            self.ignored_writes.append((self.now_ns, "Control.THERMAL", value))
        self.poke("Control", self.apply_write(self.MAP.get("Control"), self.peek("Control"), value))

    def _write_version(self, value: int) -> None:
        self.ignored_writes.append((self.now_ns, "Version", value))

    # -- simulation side ---------------------------------------------------------------
    @property
    def left_enabled(self) -> bool:
        return bool(self.get_field("Control", "HP_EN_L"))

    @property
    def right_enabled(self) -> bool:
        return bool(self.get_field("Control", "HP_EN_R"))

    @property
    def software_shutdown(self) -> bool:
        return bool(self.get_field("Control", "SWS"))

    @property
    def mode(self) -> int:
        return self.get_field("Control", "MODE")

    @property
    def volume(self) -> int:
        return self.get_field("Volume", "VOLUME")

    @property
    def muted_left(self) -> bool:
        return bool(self.get_field("Volume", "MUTE_L"))

    @property
    def muted_right(self) -> bool:
        return bool(self.get_field("Volume", "MUTE_R"))

    @property
    def hi_z_left(self) -> bool:
        return bool(self.get_field("OutputImpedance", "HIZ_L"))

    @property
    def hi_z_right(self) -> bool:
        return bool(self.get_field("OutputImpedance", "HIZ_R"))

    @property
    def playing(self) -> bool:
        """Some channel drives the headphones: enabled, not shut down, not muted, not Hi-Z."""
        if self.software_shutdown or self.thermal_shutdown:
            return False
        left = self.left_enabled and not self.muted_left and not self.hi_z_left
        right = self.right_enabled and not self.muted_right and not self.hi_z_right
        return left or right
