"""Sensirion SHT3x-DIS humidity and temperature sensor (0x44): the part that stretches SCL while it converts.

From the SHT3x-DIS data sheet (v5, 2018), §4: 16-bit commands; single-shot
measurements with clock stretching (0x2C06/0x2C0D/0x2C10) or without
(0x2400/0x240B/0x2416); periodic mode (0x20xx..0x27xx, ART 0x2B32) read with
Fetch Data 0xE000; Break 0x3093; soft reset 0x30A2; heater 0x306D/0x3066;
status 0xF32D and clear status 0x3041. Every 2-byte word read carries a
CRC-8 (poly 0x31, init 0xFF; CRC(0xBEEF) = 0x92).

The stretch, per §4.3: "When a command with clock stretching has been issued,
the sensor responds to a read header with an ACK and subsequently pulls down
the SCL line ... until the measurement is complete". That is the phase after
the ACK of the address byte of a read: ``StretchPhase.WRITE_POST_ACK`` on byte
0 (the address byte is written by the master; the enum documents that phase
as including the address ACK). Without stretching the read header is NACKed
until the data is there. While a single-shot measurement runs, other I2C
activity (a write header) is not acknowledged [I, stated for the sibling
SHTC1; the SHT3x data sheet shows the same "no ACK" while measuring].

Measurement values are sampled when the measurement completes, computed
lazily; no process runs per measurement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..buses.i2c_target import I2cTarget, StretchPhase
from ..errors import ConfigurationError
from ..world.clock import NS_PER_MS, NS_PER_US

Timing = Literal["max", "typ"]

# tMEAS per repeatability (data sheet Table 4): (typical, maximum) in ns
MEASUREMENT_NS: dict[str, tuple[int, int]] = {
    "high": (12_500 * NS_PER_US, 15 * NS_PER_MS),
    "medium": (4_500 * NS_PER_US, 6 * NS_PER_MS),
    "low": (2_500 * NS_PER_US, 4 * NS_PER_MS),
}
SOFT_RESET_NS = 1_500 * NS_PER_US  # tSR max

SINGLE_SHOT: dict[int, tuple[str, bool]] = {
    0x2C06: ("high", True),
    0x2C0D: ("medium", True),
    0x2C10: ("low", True),
    0x2400: ("high", False),
    0x240B: ("medium", False),
    0x2416: ("low", False),
}
# periodic mode: command → (repeatability, measurements per second)
PERIODIC: dict[int, tuple[str, float]] = {
    0x2032: ("high", 0.5),
    0x2024: ("medium", 0.5),
    0x202F: ("low", 0.5),
    0x2130: ("high", 1),
    0x2126: ("medium", 1),
    0x212D: ("low", 1),
    0x2236: ("high", 2),
    0x2220: ("medium", 2),
    0x222B: ("low", 2),
    0x2334: ("high", 4),
    0x2322: ("medium", 4),
    0x2329: ("low", 4),
    0x2737: ("high", 10),
    0x2721: ("medium", 10),
    0x272A: ("low", 10),
    0x2B32: ("high", 4),  # ART: 4 Hz
}
FETCH_DATA = 0xE000
BREAK = 0x3093
SOFT_RESET = 0x30A2
HEATER_ON = 0x306D
HEATER_OFF = 0x3066
READ_STATUS = 0xF32D
CLEAR_STATUS = 0x3041

# status register bits (data sheet Table 17)
STATUS_ALERT_PENDING = 1 << 15
STATUS_HEATER = 1 << 13
STATUS_RH_ALERT = 1 << 11
STATUS_T_ALERT = 1 << 10
STATUS_RESET_DETECTED = 1 << 4
STATUS_COMMAND_FAILED = 1 << 1
STATUS_WRITE_CRC_FAILED = 1 << 0
STATUS_RESET = STATUS_ALERT_PENDING | STATUS_RESET_DETECTED
STATUS_CLEARABLE = STATUS_ALERT_PENDING | STATUS_RH_ALERT | STATUS_T_ALERT | STATUS_RESET_DETECTED


def crc8_sensirion(data: bytes) -> int:
    """CRC-8, polynomial 0x31, init 0xFF, no reflection, no final XOR (data sheet Table 20)."""
    crc = 0xFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x31) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def word_with_crc(value: int) -> bytes:
    word = value.to_bytes(2, "big")
    return word + bytes([crc8_sensirion(word)])


def temperature_to_ticks(celsius: float) -> int:
    """Inverse of T = -45 + 175 · S_T / (2^16 - 1)."""
    return max(0, min(0xFFFF, round((celsius + 45.0) * 0xFFFF / 175.0)))


def humidity_to_ticks(rh: float) -> int:
    """Inverse of RH = 100 · S_RH / (2^16 - 1)."""
    return max(0, min(0xFFFF, round(rh * 0xFFFF / 100.0)))


def ticks_to_temperature(ticks: int) -> float:
    return -45.0 + 175.0 * ticks / 0xFFFF


def ticks_to_humidity(ticks: int) -> float:
    return 100.0 * ticks / 0xFFFF


@dataclass
class _Pending:
    """A single-shot measurement in progress."""

    end_ns: int
    stretch: bool


class Sht3x(I2cTarget):
    """SHT3x-DIS at 0x44 (0x45 with ADDR high).

    Simulation side: ``temperature_c`` (-45..130) and ``humidity_rh`` (0..100)
    as the sensor will measure them, ``status`` (the 16-bit status register),
    ``heater``, ``periodic`` (measurements per second or None), ``busy``,
    ``measurements`` (completed so far). ``timing`` picks the data sheet's
    maximum (default) or typical measurement durations.
    """

    model = "sht3x"

    def __init__(
        self,
        address: int = 0x44,
        name: str | None = None,
        *,
        temperature_c: float = 25.0,
        humidity_rh: float = 50.0,
        timing: Timing = "max",
        measurement_ns: int | None = None,
    ) -> None:
        if timing not in ("max", "typ"):
            raise ConfigurationError(f"timing is 'max' or 'typ', got {timing!r}")
        if measurement_ns is not None and (
            isinstance(measurement_ns, bool)
            or not isinstance(measurement_ns, int)
            or not 0 < measurement_ns <= MEASUREMENT_NS["high"][1]
        ):
            raise ConfigurationError(
                "measurement_ns is this part's own measurement time in ns, 1.."
                f"{MEASUREMENT_NS['high'][1]} (the data sheet's maximum), got {measurement_ns!r}"
            )
        super().__init__(address, name)
        self.timing: Timing = timing
        self.measurement_ns = measurement_ns
        """This part's own tMEAS, whatever the repeatability (None: the data sheet's ``timing``
        value). Real parts take anything up to the maximum (data sheet Table 4 gives typical and
        maximum), so where a clock-stretched read ends depends on the part."""
        self._temperature_c = self._check_t(temperature_c)
        self._humidity_rh = self._check_rh(humidity_rh)
        self.status = STATUS_RESET
        self._measurements = 0
        self._pending: _Pending | None = None
        self._result: bytes | None = None  # 6 bytes waiting to be read
        self._periodic: tuple[int, int, int] | None = None  # (origin, period, tmeas) ns
        self._periodic_done = 0  # periodic measurements already folded into _result
        self._busy_until_ns = 0
        self._read_source: Literal["measurement", "status"] = "measurement"
        # transfer state
        self._reading = False
        self._cmd: list[int] = []
        self._out = b""
        self._out_pos = 0
        self._stretch_until_ns = 0  # SCL held low after the read header's ACK until then

    # -- simulation side ---------------------------------------------------------------
    @staticmethod
    def _check_t(celsius: float) -> float:
        if not -45.0 <= celsius <= 130.0:
            raise ConfigurationError(f"SHT3x temperature output covers -45..130 °C, got {celsius}")
        return float(celsius)

    @staticmethod
    def _check_rh(rh: float) -> float:
        if not 0.0 <= rh <= 100.0:
            raise ConfigurationError(f"relative humidity is 0..100 %RH, got {rh}")
        return float(rh)

    @property
    def temperature_c(self) -> float:
        return self._temperature_c

    @temperature_c.setter
    def temperature_c(self, celsius: float) -> None:
        value = self._check_t(celsius)
        self._catch_up()
        self._temperature_c = value

    @property
    def humidity_rh(self) -> float:
        return self._humidity_rh

    @humidity_rh.setter
    def humidity_rh(self, rh: float) -> None:
        value = self._check_rh(rh)
        self._catch_up()
        self._humidity_rh = value

    @property
    def measurements(self) -> int:
        """Measurements completed so far."""
        self._catch_up()
        return self._measurements

    @property
    def heater(self) -> bool:
        return bool(self.status & STATUS_HEATER)

    @property
    def periodic(self) -> float | None:
        """Measurements per second in periodic mode, None in single-shot mode."""
        if self._periodic is None:
            return None
        return 1e9 / self._periodic[1]

    @property
    def busy(self) -> bool:
        """A single-shot measurement or a soft reset is in progress."""
        self._catch_up()
        return self._pending is not None or self.now_ns < self._busy_until_ns

    @property
    def measurement_end_ns(self) -> int | None:
        """When the single-shot measurement in progress completes (a stretched read header
        holds SCL until then); None when none is in progress."""
        self._catch_up()
        return self._pending.end_ns if self._pending is not None else None

    # -- measurements -------------------------------------------------------------------
    def _tmeas(self, repeatability: str) -> int:
        if self.measurement_ns is not None:
            return self.measurement_ns
        typ, mx = MEASUREMENT_NS[repeatability]
        return mx if self.timing == "max" else typ

    def _sample(self) -> bytes:
        self._measurements += 1
        return word_with_crc(temperature_to_ticks(self._temperature_c)) + word_with_crc(
            humidity_to_ticks(self._humidity_rh)
        )

    def _catch_up(self, force: bool = False) -> None:
        """Complete what has finished by now (``force``: the stretched single shot, at once)."""
        now = self.now_ns
        if self._pending is not None and (force or now >= self._pending.end_ns):
            self._pending = None
            self._result = self._sample()
        if self._periodic is not None:
            origin, period, tmeas = self._periodic
            done = 0 if now < origin + tmeas else (now - origin - tmeas) // period + 1
            if done > self._periodic_done:
                self._measurements += done - self._periodic_done - 1  # older ones overwritten
                self._periodic_done = done
                self._result = self._sample()

    def _execute(self, command: int) -> None:
        self._catch_up()
        self._read_source = "measurement"
        if command == SOFT_RESET:
            self._soft_reset()
        elif command == READ_STATUS:
            self._read_source = "status"
            return  # reports on the command before it: bit 1 unchanged
        elif command == CLEAR_STATUS:
            self.status &= ~STATUS_CLEARABLE
        elif command == HEATER_ON:
            self.status |= STATUS_HEATER
        elif command == HEATER_OFF:
            self.status &= ~STATUS_HEATER
        elif command == BREAK:
            self._periodic = None
        elif command == FETCH_DATA and self._periodic is not None:
            pass  # the following read header gets the latest result, if any
        elif command in PERIODIC and self._periodic is None:
            repeatability, mps = PERIODIC[command]
            period = round(1e9 / mps)
            self._periodic = (self.now_ns, period, self._tmeas(repeatability))
            self._periodic_done = 0
            self._result = None
        elif command in SINGLE_SHOT and self._periodic is None:
            repeatability, stretch = SINGLE_SHOT[command]
            self._result = None
            self._pending = _Pending(self.now_ns + self._tmeas(repeatability), stretch)
        else:
            # [I] unknown, or not allowed in the current mode: flagged in the status register
            self.status |= STATUS_COMMAND_FAILED
            return
        self.status &= ~STATUS_COMMAND_FAILED

    def _soft_reset(self) -> None:
        self.status = STATUS_RESET
        self._pending = None
        self._result = None
        self._periodic = None
        self._busy_until_ns = self.now_ns + SOFT_RESET_NS

    # -- the byte-level protocol ---------------------------------------------------------
    def start(self, read: bool) -> bool:
        self._catch_up()
        self._reading = read
        self._cmd = []
        self._stretch_until_ns = 0
        if self.now_ns < self._busy_until_ns:
            return False
        if not read:
            return self._pending is None  # busy measuring: the write header is not ACKed
        if self._read_source == "status":
            self._read_source = "measurement"
            self._out, self._out_pos = word_with_crc(self.status), 0
            return True
        if self._pending is not None:
            if not self._pending.stretch:
                return False  # no clock stretching: NACK until the data is there
            self._stretch_until_ns = self._pending.end_ns
            self._catch_up(force=True)  # the data the stretch waits for
        if self._result is None:
            return False  # no measurement data present
        self._out, self._out_pos = self._result, 0
        self._result = None  # read out: the data memory is cleared
        return True

    def stretch(self, phase: StretchPhase, byte_index: int) -> int:
        """Adds the conversion's remaining time after the read header's ACK (same answer if asked twice)."""
        extra = 0
        if phase is StretchPhase.WRITE_POST_ACK and byte_index == 0 and self._reading:
            extra = max(0, self._stretch_until_ns - self.now_ns)
        return super().stretch(phase, byte_index) + extra

    def write_byte(self, value: int) -> bool:
        if self._reading:
            return False
        self._cmd.append(value & 0xFF)
        if len(self._cmd) == 2:
            self._execute((self._cmd[0] << 8) | self._cmd[1])
        elif len(self._cmd) > 2:
            self.status |= STATUS_COMMAND_FAILED  # [I] write data (alert limits) not modelled
        return True

    def read_byte(self) -> int:
        if self._out_pos < len(self._out):
            value = self._out[self._out_pos]
            self._out_pos += 1
            return value
        return 0xFF  # [I] past the end: SDA released

    def master_ack(self, ack: bool) -> None:
        if not ack:
            self._out_pos = len(self._out)  # after a NACK the sensor sends no more

    def stop(self) -> None:
        self._reading = False
        self._cmd = []
        self._stretch_until_ns = 0
