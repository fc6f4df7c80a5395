"""NXP LM75B digital temperature sensor and thermal watchdog (MirkoPC U802 at 0x48; soc-facts §7.2).

From the LM75B product data sheet (Rev. 6.1): a pointer register selects Temp
(00, read-only), Conf (01), Thyst (10) and Tos (11). Temp is 11-bit two's
complement (0.125 °C) in the top bits of two bytes; Tos/Thyst are 9-bit
(0.5 °C). In normal mode a conversion runs every 100 ms and Temp changes only
when one completes; shutdown stops conversions (the I2C interface stays up).
The OS output compares the 9 MSBs of each result with Tos/Thyst through the
fault queue, in comparator or interrupt mode, with selectable polarity.

Everything is computed lazily from simulated time when someone looks: no
process runs per conversion.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..buses.i2c_target import I2cTarget
from ..errors import ConfigurationError
from ..soc.registers import Field, Register, RegisterMap
from ..world.clock import NS_PER_MS

# The register file as data. Temp/Tos/Thyst are 16 bits on the wire (MSByte first).
LM75B_MAP = RegisterMap(
    [
        Register("Temp", 0b00, (Field("TEMP", 5, 11),), doc="read-only, 11-bit two's complement"),
        Register(
            "Conf",
            0b01,
            (
                Field("SHUTDOWN", 0),
                Field("OS_COMP_INT", 1, doc="0 comparator, 1 interrupt"),
                Field("OS_POL", 2, doc="0 OS active LOW, 1 active HIGH"),
                Field("OS_F_QUE", 3, 2, doc="fault queue 1, 2, 4, 6"),
                Field("RESERVED", 5, 3),
            ),
        ),
        Register("Thyst", 0b10, (Field("THYST", 7, 9, reset=75 * 2),), doc="default 75 °C"),
        Register("Tos", 0b11, (Field("TOS", 7, 9, reset=80 * 2),), doc="default 80 °C"),
    ]
)

FAULT_QUEUE = (1, 2, 4, 6)
DEFAULT_PERIOD_NS = 100 * NS_PER_MS
DEFAULT_CONVERSION_NS = 10 * NS_PER_MS
TEMP_MIN_C = -128.0
TEMP_MAX_C = 127.875


def _signed(value: int, bits: int) -> int:
    return value - (1 << bits) if value & (1 << (bits - 1)) else value


def encode_temp11(celsius: float) -> int:
    """°C → the 16-bit Temp register (11-bit two's complement in bits 15..5)."""
    steps = round(celsius * 8)
    return (steps & 0x7FF) << 5


def decode_temp11(raw: int) -> float:
    return _signed(raw >> 5, 11) / 8


def encode_limit9(celsius: float) -> int:
    """°C → a 16-bit Tos/Thyst register (9-bit two's complement in bits 15..7)."""
    steps = round(celsius * 2)
    if not -256 <= steps <= 255:
        raise ConfigurationError(f"a 9-bit limit holds -128.0..127.5 °C, got {celsius}")
    return (steps & 0x1FF) << 7


def decode_limit9(raw: int) -> float:
    return _signed(raw >> 7, 9) / 2


@dataclass
class _OsState:
    active: bool = False
    count: int = 0  # consecutive conversions meeting the current trigger condition
    look_for_high: bool = True  # interrupt mode: next event is T > Tos (else T < Thyst)

    def key(self) -> tuple[bool, int, bool]:
        return (self.active, self.count, self.look_for_high)


class Lm75b(I2cTarget):
    """LM75B at 0x48.

    Simulation side: ``temperature_c`` (the die temperature; Temp follows at
    the next conversion), ``temp_c`` (what Temp holds now), ``os_active``
    (the OS function, before polarity), ``os_pin_high`` (the pin level with
    OS_POL), ``shutdown``, ``conversions`` (completed so far).
    """

    model = "lm75b"
    MAP = LM75B_MAP

    def __init__(
        self,
        address: int = 0x48,
        name: str | None = None,
        *,
        temperature_c: float = 25.0,
        conversion_period_ns: int = DEFAULT_PERIOD_NS,
        conversion_time_ns: int = DEFAULT_CONVERSION_NS,
    ) -> None:
        if not 0 < conversion_time_ns <= conversion_period_ns:
            raise ConfigurationError(
                "conversion time must be positive and at most the conversion period, got "
                f"{conversion_time_ns} ns in {conversion_period_ns} ns"
            )
        super().__init__(address, name)
        self.conversion_period_ns = int(conversion_period_ns)
        self.conversion_time_ns = int(conversion_time_ns)
        self._temperature_c = self._check_temp(temperature_c)
        self.pointer = 0  # power-up: Temp
        self.conf = 0x00
        self.thyst = LM75B_MAP.get("Thyst").reset_value
        self.tos = LM75B_MAP.get("Tos").reset_value
        # [I] t = 0 is when the simulation starts, not when the part powered up: Temp
        # already holds a conversion of the initial temperature, as on a board that booted
        self.temp = encode_temp11(self._temperature_c)
        self._origin_ns: int | None = 0  # start of conversion cycle 0; None in shutdown
        self._done = 0  # conversions processed since the origin
        self._conversions = 0
        self._os = _OsState()
        # transfer state
        self._expect_pointer = False
        self._byte = 0

    # -- simulation side ---------------------------------------------------------------
    @staticmethod
    def _check_temp(celsius: float) -> float:
        if not TEMP_MIN_C <= celsius <= TEMP_MAX_C:
            raise ConfigurationError(
                f"the LM75B Temp register holds {TEMP_MIN_C}..{TEMP_MAX_C} °C, got {celsius}"
            )
        return float(celsius)

    @property
    def temperature_c(self) -> float:
        return self._temperature_c

    @temperature_c.setter
    def temperature_c(self, celsius: float) -> None:
        value = self._check_temp(celsius)
        self._catch_up()  # conversions so far saw the old temperature
        self._temperature_c = value

    @property
    def temp_c(self) -> float:
        """The Temp register now, in °C."""
        self._catch_up()
        return decode_temp11(self.temp)

    @property
    def conversions(self) -> int:
        """Conversions completed so far."""
        self._catch_up()
        return self._conversions

    @property
    def shutdown(self) -> bool:
        return bool(self.conf & 0x01)

    @property
    def os_active(self) -> bool:
        self._catch_up()
        return self._os.active

    @property
    def os_pin_high(self) -> bool:
        """OS pin level: active LOW by default (OS_POL = 0), open drain released high otherwise."""
        active = self.os_active
        return active if self.conf & 0x04 else not active

    # -- lazy conversions ---------------------------------------------------------------
    def _completed_by(self, t_ns: int) -> int:
        if self._origin_ns is None:
            return self._done
        first_end = self._origin_ns + self.conversion_time_ns
        if t_ns < first_end:
            return 0
        return (t_ns - first_end) // self.conversion_period_ns + 1

    def _catch_up(self) -> None:
        """Apply every conversion completed by now, with the temperature in force since."""
        now = self.now_ns
        target = self._completed_by(now)
        if target <= self._done:
            return
        self.temp = encode_temp11(self._temperature_c)
        self._conversions += target - self._done
        for _ in range(target - self._done):
            before = self._os.key()
            self._os_step()
            if self._os.key() == before:
                break  # a fixed point: further identical conversions change nothing
        self._done = target

    def _os_step(self) -> None:
        t9 = _signed(self.temp >> 7, 9)
        tos9 = _signed(self.tos >> 7, 9)
        thyst9 = _signed(self.thyst >> 7, 9)
        queue = FAULT_QUEUE[(self.conf >> 3) & 0x03]
        os = self._os
        if self.conf & 0x02:  # interrupt mode: set by an event, cleared by a read
            if os.active:
                return
            hit = t9 > tos9 if os.look_for_high else t9 < thyst9
            os.count = os.count + 1 if hit else 0
            if os.count >= queue:
                os.active = True
                os.look_for_high = not os.look_for_high
                os.count = 0
        else:  # comparator mode: follows the temperature with hysteresis
            hit = t9 < thyst9 if os.active else t9 > tos9
            os.count = os.count + 1 if hit else 0
            if os.count >= queue:
                os.active = not os.active
                os.count = 0

    def _write_conf(self, value: int) -> None:
        self._catch_up()
        was_shutdown = self.shutdown
        old_mode = self.conf & 0x02
        self.conf = value & 0xFF
        if (self.conf & 0x02) != old_mode:
            self._os = _OsState()  # [I] a mode change restarts the OS logic
        if self.shutdown and not was_shutdown:
            self._origin_ns = None  # conversions stop; Temp keeps its last value
            if self.conf & 0x02:
                self._os.active = False  # interrupt mode: shutdown resets OS
        elif was_shutdown and not self.shutdown:
            self._origin_ns = self.now_ns  # a new conversion starts at once
            self._done = 0

    # -- the byte-level protocol ---------------------------------------------------------
    def _register_bytes(self) -> bytes:
        if self.pointer == 0b01:
            return bytes([self.conf])
        value = {0b00: self.temp, 0b10: self.thyst, 0b11: self.tos}[self.pointer]
        return value.to_bytes(2, "big")

    def start(self, read: bool) -> bool:
        self._expect_pointer = not read
        self._byte = 0
        if read:
            self._catch_up()
            if self.conf & 0x02:
                self._os.active = False  # interrupt mode: reading a register resets OS
        return True

    def write_byte(self, value: int) -> bool:
        if self._expect_pointer:
            self._expect_pointer = False
            self.pointer = value & 0x03  # P7..P2 must be 0 (data sheet); only P1..P0 decode
            return True
        index, self._byte = self._byte, self._byte + 1
        if self.pointer == 0b01:
            if index == 0:
                self._write_conf(value)
        elif self.pointer in (0b10, 0b11) and index < 2:
            self._catch_up()
            current = self.thyst if self.pointer == 0b10 else self.tos
            msb, lsb = current >> 8, current & 0xFF
            if index == 0:
                msb = value
            else:
                lsb = value & 0x80  # 9-bit limit: only bit 7 of the LSByte is kept
            new = (msb << 8) | lsb
            if self.pointer == 0b10:
                self.thyst = new
            else:
                self.tos = new
        return True  # writes to Temp (read-only) are acknowledged and ignored

    def read_byte(self) -> int:
        data = self._register_bytes()
        value = data[self._byte % len(data)]  # [I] reading on repeats the register
        self._byte += 1
        return value

    def stop(self) -> None:
        self._expect_pointer = False
        self._byte = 0
