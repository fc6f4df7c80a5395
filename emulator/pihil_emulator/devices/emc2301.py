"""Microchip (SMSC) EMC2301 RPM-based PWM fan controller, with the fan it drives.

CM4 IO board and MirkoPC REV1.1: fixed SMBus address 0x2F (soc-facts §7.1, §7.2).
Register set from the EMC2301 data sheet (SMSC rev. 1.1, Table 5.1): product
ID FDh = 0x37, manufacturer ID FEh = 0x5D, revision FFh = 0x80; Fan Setting
30h (drive = value/255); Fan Configuration 1 32h (EN_ALGO, RANGE, EDGES,
UPDATE); TACH Target 3Ch/3Dh and TACH Reading 3Eh/3Fh as 13-bit counts
(high byte = count[12:5], low byte bits 7:3 = count[4:0]); RPM = 3,932,160 ×
m / COUNT for a 2-pole fan, m from RANGE; software lock EFh. Undefined
registers read 00h and ignore writes.

The fan: rpm proportional to the PWM duty the fan sees (PWM polarity
applied), up to ``max_rpm``; a ``stalled`` fault stops it; an optional
first-order spin-up lag. Everything is computed when read.

Simplifications, said plainly: with EN_ALGO = 1 the RPM control loop is taken
as converged (the drive is the one that gives the TACH target, at least the
minimum drive; a target high byte of FFh turns the fan off); spin-up routine,
ramp-rate control, drive-fail detection, watchdog and ALERT are not modelled.
Stall detection: a running drive with TACH Reading high byte above Valid TACH
Count sets FNSTL/F1STL (read-to-clear).
"""

from __future__ import annotations

import math
from typing import ClassVar

from ..errors import ConfigurationError
from ..soc.registers import Access, Field, Register, RegisterMap, WriteHook
from .register_device import I2cRegisterDevice

RO = Access.RO
F_TACH_HZ = 32_768
MAX_COUNT = 0x1FFF
RANGE_MULTIPLIER = (1, 2, 4, 8)  # RANGE[1:0] → m (minimum 500, 1000, 2000, 4000 rpm)
EDGES = (3, 5, 7, 9)  # EDGES[1:0] → edges sampled (1, 2, 3, 4 pole fans)

EMC2301_MAP = RegisterMap(
    [
        Register(
            "Configuration",
            0x20,
            (
                Field("USE_EXT_CLK", 0),
                Field("DR_EXT_CLK", 1),
                Field("WD_EN", 5),
                Field("DIS_TO", 6, reset=1),
                Field("MASK", 7),
            ),
        ),
        Register(
            "FanStatus",
            0x24,
            (
                Field("FNSTL", 0, access=RO),
                Field("FNSPIN", 1, access=RO),
                Field("DVSTAT", 2, access=RO),
                Field("WATCH", 7, access=RO),
            ),
            doc="read-to-clear",
        ),
        Register("FanStallStatus", 0x25, (Field("F1STL", 0, access=RO),), doc="read-to-clear"),
        Register("FanSpinStatus", 0x26, (Field("F1SPIN", 0, access=RO),), doc="read-to-clear"),
        Register("DriveFailStatus", 0x27, (Field("DRVF1", 0, access=RO),), doc="read-to-clear"),
        Register("FanInterruptEnable", 0x29, (Field("F1ITEN", 0),)),
        Register("PwmPolarity", 0x2A, (Field("PLRITY1", 0, doc="1 = inverted"),)),
        Register("PwmOutput", 0x2B, (Field("PMOT1", 0, doc="1 = push-pull"),)),
        Register("PwmBaseFrequency", 0x2D, (Field("PWM_BASE", 0, 2),)),
        Register("FanSetting", 0x30, doc="drive = value / 255; read-only while EN_ALGO = 1"),
        Register("PwmDivide", 0x31, reset=0x01),
        Register(
            "FanConfiguration1",
            0x32,
            (
                Field("UPDATE", 0, 3, reset=0b011),
                Field("EDGES", 3, 2, reset=0b01),
                Field("RANGE", 5, 2, reset=0b01),
                Field("EN_ALGO", 7),
            ),
        ),
        Register("FanConfiguration2", 0x33, reset=0x28),
        Register("Gain", 0x35, reset=0x2A),
        Register("FanSpinUpConfiguration", 0x36, reset=0x19),
        Register("FanMaxStep", 0x37, (Field("MAX_STEP", 0, 6, reset=0x10),)),
        Register("FanMinimumDrive", 0x38, reset=0x66),
        Register("ValidTachCount", 0x39, reset=0xF5),
        Register("DriveFailBandLow", 0x3A, (Field("LOW", 3, 5),)),
        Register("DriveFailBandHigh", 0x3B),
        Register("TachTargetLow", 0x3C, (Field("LOW", 3, 5, reset=0x1F),)),
        Register("TachTargetHigh", 0x3D, reset=0xFF),
        Register("TachReadingHigh", 0x3E, access=RO, reset=0xFF),
        Register("TachReadingLow", 0x3F, access=RO, reset=0xF8),
        Register("SoftwareLock", 0xEF, (Field("LOCK", 0),)),
        Register("ProductId", 0xFD, access=RO, reset=0x37),
        Register("ManufacturerId", 0xFE, access=RO, reset=0x5D),
        Register("Revision", 0xFF, access=RO, reset=0x80),
    ]
)

#: registers that the LOCK bit makes read-only until a power-on reset ("SWL" in Table 5.1)
SOFTWARE_LOCKED = (
    "Configuration",
    "FanConfiguration2",
    "Gain",
    "FanSpinUpConfiguration",
    "FanMaxStep",
    "FanMinimumDrive",
    "ValidTachCount",
    "DriveFailBandLow",
    "DriveFailBandHigh",
    "SoftwareLock",
)


def rpm_to_count(rpm: float, *, edges: int, multiplier: int, poles: int) -> int:
    """TACH count for a fan at ``rpm`` (data sheet equation [2] solved for COUNT), 13-bit saturated."""
    if rpm <= 0:
        return MAX_COUNT
    count = (edges - 1) * multiplier * F_TACH_HZ * 60 / (poles * rpm)
    return min(MAX_COUNT, max(1, round(count)))


def count_to_rpm(count: int, *, edges: int = 5, multiplier: int = 2, poles: int = 2) -> float:
    """Data sheet equation [2]: RPM = (1/poles)·(n-1)/(COUNT/m)·f_TACH·60."""
    return (edges - 1) * multiplier * F_TACH_HZ * 60 / (poles * count)


class Emc2301(I2cRegisterDevice):
    """EMC2301 at 0x2F with one fan.

    Simulation side: ``max_rpm``, ``poles``, ``stalled`` (fault: the rotor is
    blocked), ``spin_time_constant_ns`` (0 = speed follows the drive at once),
    ``drive`` (the fan driver setting 0..255 in force), ``duty`` (what the fan
    sees, 0..1), ``rpm`` (actual fan speed), ``tach_count`` (13-bit reading),
    ``locked`` (software lock).
    """

    model = "emc2301"
    MAP: ClassVar[RegisterMap] = EMC2301_MAP

    def __init__(
        self,
        address: int = 0x2F,
        name: str | None = None,
        *,
        max_rpm: float = 5000.0,
        poles: int = 2,
        spin_time_constant_ns: int = 0,
    ) -> None:
        if not max_rpm > 0:
            raise ConfigurationError(f"max_rpm must be positive, got {max_rpm}")
        if poles not in (1, 2, 3, 4):
            raise ConfigurationError(f"a fan has 1..4 poles (EDGES settings), got {poles}")
        if spin_time_constant_ns < 0:
            raise ConfigurationError(
                f"spin time constant cannot be negative, got {spin_time_constant_ns} ns"
            )
        super().__init__(address, name)
        self.max_rpm = float(max_rpm)
        self.poles = poles
        self.spin_time_constant_ns = int(spin_time_constant_ns)
        self._stalled = False
        # fan dynamics: speed rpm0 at t0, heading for the current target
        self._rpm0 = 0.0
        self._t0 = 0
        self._stall_latches = {"FanStatus": False, "FanStallStatus": False}
        self._latched_count: int | None = None
        self._hook("FanSetting", read=self._read_fan_setting, write=self._write_fan_setting)
        self._hook("TachReadingHigh", read=self._read_tach_high)
        self._hook("TachReadingLow", read=self._read_tach_low)
        self._hook("FanStatus", read=self._read_fan_status)
        self._hook("FanStallStatus", read=self._read_stall_status)
        for reg in ("FanConfiguration1", "PwmPolarity", "TachTargetLow", "TachTargetHigh"):
            self._hook(reg, write=self._control_writer(reg))
        for reg in SOFTWARE_LOCKED:
            self._hook(reg, write=self._locked_writer(reg))

    # -- writes that change the fan -------------------------------------------------------
    def _control_writer(self, reg: str) -> WriteHook:
        def write(value: int) -> None:
            self._before_change()
            self.poke(reg, self.apply_write(self.MAP.get(reg), self.peek(reg), value))

        return write

    def _locked_writer(self, reg: str) -> WriteHook:
        def write(value: int) -> None:
            if self.locked:
                return  # SWL: read-only until power-on reset
            self._before_change()
            self.poke(reg, self.apply_write(self.MAP.get(reg), self.peek(reg), value))

        return write

    def _write_fan_setting(self, value: int) -> None:
        if self.algorithm_enabled:
            return  # read-only while the RPM-based algorithm runs (data sheet §5.7)
        self._before_change()
        self.poke("FanSetting", value)

    def _before_change(self) -> None:
        """Freeze the fan's present speed as the start of the next transient; latch a stall."""
        self._rpm0 = self.rpm
        self._t0 = self.now_ns
        self._update_stall()

    # -- the fan model -------------------------------------------------------------------
    @property
    def locked(self) -> bool:
        return bool(self.get_field("SoftwareLock", "LOCK"))

    @property
    def algorithm_enabled(self) -> bool:
        return bool(self.get_field("FanConfiguration1", "EN_ALGO"))

    @property
    def _edges(self) -> int:
        return EDGES[self.get_field("FanConfiguration1", "EDGES")]

    @property
    def _multiplier(self) -> int:
        return RANGE_MULTIPLIER[self.get_field("FanConfiguration1", "RANGE")]

    @property
    def stalled(self) -> bool:
        return self._stalled

    @stalled.setter
    def stalled(self, value: bool) -> None:
        self._before_change()
        self._stalled = bool(value)
        if self.spin_time_constant_ns == 0 or value:
            self._rpm0 = self.target_rpm  # a blocked rotor stops at once
        self._update_stall()

    @property
    def tach_target_count(self) -> int:
        return (self.peek("TachTargetHigh") << 5) | (self.peek("TachTargetLow") >> 3)

    @property
    def drive(self) -> int:
        """The fan driver setting in force (what Fan Setting reads)."""
        if not self.algorithm_enabled:
            return self.peek("FanSetting")
        if self.peek("TachTargetHigh") == 0xFF:
            return 0  # target FFh: fan off
        target_rpm = count_to_rpm(
            self.tach_target_count, edges=self._edges, multiplier=self._multiplier, poles=self.poles
        )
        duty = min(1.0, target_rpm / self.max_rpm)
        needed = math.ceil(duty * 255)
        return max(self.peek("FanMinimumDrive"), min(255, needed))

    @property
    def duty(self) -> float:
        """PWM duty the fan sees (0..1), after the polarity setting."""
        d = self.drive / 255
        return 1.0 - d if self.get_field("PwmPolarity", "PLRITY1") else d

    @property
    def target_rpm(self) -> float:
        return 0.0 if self._stalled else self.max_rpm * self.duty

    @property
    def rpm(self) -> float:
        """Actual fan speed now (first-order approach to the target)."""
        target = self.target_rpm
        tau = self.spin_time_constant_ns
        if tau == 0 or self._stalled:
            return target
        elapsed = self.now_ns - self._t0
        return target + (self._rpm0 - target) * math.exp(-elapsed / tau)

    @property
    def tach_count(self) -> int:
        return rpm_to_count(
            self.rpm, edges=self._edges, multiplier=self._multiplier, poles=self.poles
        )

    # -- status and readings -----------------------------------------------------------------
    def _stall_condition(self) -> bool:
        return self.drive > 0 and (self.tach_count >> 5) > self.peek("ValidTachCount")

    def _update_stall(self) -> None:
        if self._stall_condition():
            for reg in self._stall_latches:
                self._stall_latches[reg] = True

    def _read_status(self, reg: str) -> int:
        """FNSTL / F1STL: latched, cleared by the read, set again if the fan is still stalled."""
        self._update_stall()
        value = 1 if self._stall_latches[reg] else 0
        self._stall_latches[reg] = self._stall_condition()
        return value

    def _read_fan_status(self) -> int:
        return self._read_status("FanStatus")

    def _read_stall_status(self) -> int:
        return self._read_status("FanStallStatus")

    def _read_fan_setting(self) -> int:
        return self.drive

    def _read_tach_high(self) -> int:
        count = self.tach_count
        self._latched_count = count  # the low byte read next belongs to this reading
        self._update_stall()
        return count >> 5

    def _read_tach_low(self) -> int:
        count = self._latched_count if self._latched_count is not None else self.tach_count
        self._latched_count = None
        return (count & 0x1F) << 3
