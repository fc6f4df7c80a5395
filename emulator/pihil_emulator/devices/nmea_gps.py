"""A GPS receiver on a UART that sends NMEA 0183 RMC and GGA sentences once a second.

The usual serial GPS module (u-blox NEO-6M and the like) at its factory
setting of 9600 8N1: at the top of every simulated second it sends
``$GPRMC`` then ``$GPGGA``, each with its ``*hh`` checksum (the XOR of the
characters between ``$`` and ``*``, two upper-case hex digits) and CR LF.
Time comes from the simulated clock (``utc_at_zero`` + simulated time);
position, altitude, speed, course, fix, satellites and HDOP are settable
from the simulation. One timer event per simulated second, nothing else:
an hour of idle simulated time is 3600 wakes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import simpy

from ..buses.uart_line import LineSettings
from ..buses.uart_target import UartTarget
from ..errors import ConfigurationError
from ..world.clock import NS_PER_S
from .params import Params, line_settings_from

DEFAULT_SETTINGS = LineSettings(9600)
"""NEO-6M class modules ship at 9600 8N1."""


def nmea_checksum(body: str) -> str:
    """The two hex digits after ``*``: XOR of every character between ``$`` and ``*``."""
    x = 0
    for ch in body.encode("ascii"):
        x ^= ch
    return f"{x:02X}"


def nmea_sentence(body: str) -> bytes:
    """``$<body>*hh\\r\\n``."""
    return f"${body}*{nmea_checksum(body)}\r\n".encode("ascii")


def _lat(value: float) -> tuple[str, str]:
    a = abs(value)
    deg = int(a)
    minutes = (a - deg) * 60
    text = f"{deg:02d}{minutes:08.5f}"
    if text[2:4] == "60":  # rounding carried into a whole degree
        text = f"{deg + 1:02d}{0:08.5f}"
    return text, "N" if value >= 0 else "S"


def _lon(value: float) -> tuple[str, str]:
    a = abs(value)
    deg = int(a)
    minutes = (a - deg) * 60
    text = f"{deg:03d}{minutes:08.5f}"
    if text[3:5] == "60":
        text = f"{deg + 1:03d}{0:08.5f}"
    return text, "E" if value >= 0 else "W"


@dataclass
class GpsFix:
    """What the receiver reports. ``quality`` 0 means no fix (RMC status V, empty position)."""

    latitude: float = 52.2297
    longitude: float = 21.0122
    altitude_m: float = 100.0
    geoid_separation_m: float = 34.5
    speed_knots: float = 0.0
    course_deg: float = 0.0
    quality: int = 1
    satellites: int = 8
    hdop: float = 0.9

    def check(self) -> None:
        if not -90 <= self.latitude <= 90:
            raise ConfigurationError(f"latitude must be -90..90 degrees; got {self.latitude}")
        if not -180 <= self.longitude <= 180:
            raise ConfigurationError(f"longitude must be -180..180 degrees; got {self.longitude}")
        if self.quality not in range(9):
            raise ConfigurationError(f"GGA fix quality is 0..8; got {self.quality}")
        if not 0 <= self.satellites <= 99:
            raise ConfigurationError(f"satellites must be 0..99; got {self.satellites}")
        if self.speed_knots < 0 or not 0 <= self.course_deg < 360:
            raise ConfigurationError(
                f"speed must be >= 0 and course 0..<360; got {self.speed_knots}, {self.course_deg}"
            )


class NmeaGps(UartTarget):
    """A UART GPS: RMC and GGA once per simulated second (profile model ``nmea-gps``)."""

    model = "nmea-gps"

    def __init__(
        self,
        name: str | None = None,
        *,
        settings: LineSettings = DEFAULT_SETTINGS,
        utc_at_zero: dt.datetime | None = None,
        talker: str = "GP",
    ) -> None:
        super().__init__(settings, name)
        if utc_at_zero is None:
            utc_at_zero = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        if utc_at_zero.tzinfo is None:
            raise ConfigurationError("utc_at_zero must be timezone-aware (UTC)")
        if len(talker) != 2 or not talker.isalpha():
            raise ConfigurationError(
                f"an NMEA talker ID is two letters (GP, GN...); got {talker!r}"
            )
        self.utc_at_zero = utc_at_zero.astimezone(dt.UTC)
        self.talker = talker.upper()
        self.fix = GpsFix()
        self.sent_seconds = 0
        self.enabled = True
        """False: the receiver stays silent (e.g. powered down)."""
        self._next_ns: int | None = None
        """When the next second's sentences are due (None until bound to a world)."""

    # -- simulation-side controls -------------------------------------------------------------
    def set_position(
        self, latitude: float, longitude: float, altitude_m: float | None = None
    ) -> None:
        """Move the receiver (reported from the next second)."""
        fix = GpsFix(**{**self.fix.__dict__, "latitude": latitude, "longitude": longitude})
        if altitude_m is not None:
            fix.altitude_m = altitude_m
        fix.check()
        self.fix = fix

    def set_fix(
        self, quality: int, satellites: int | None = None, hdop: float | None = None
    ) -> None:
        """Fix quality (0 = none, 1 = GPS, 2 = DGPS...), satellites in use, HDOP."""
        fix = GpsFix(**self.fix.__dict__)
        fix.quality = quality
        if satellites is not None:
            fix.satellites = satellites
        if hdop is not None:
            fix.hdop = hdop
        fix.check()
        self.fix = fix

    def set_motion(self, speed_knots: float, course_deg: float) -> None:
        fix = GpsFix(**self.fix.__dict__)
        fix.speed_knots, fix.course_deg = speed_knots, course_deg
        fix.check()
        self.fix = fix

    def utc_now(self) -> dt.datetime:
        """UTC from the simulated clock."""
        return self.utc_at_zero + dt.timedelta(microseconds=self.now_ns // 1000)

    # -- sentences ----------------------------------------------------------------------------
    def sentences(self, when: dt.datetime) -> list[bytes]:
        """RMC and GGA for ``when`` with the current fix."""
        f = self.fix
        hhmmss = when.strftime("%H%M%S") + f".{when.microsecond // 10_000:02d}"
        valid = f.quality > 0
        lat, ns = _lat(f.latitude) if valid else ("", "")
        lon, ew = _lon(f.longitude) if valid else ("", "")
        rmc = ",".join(
            [
                f"{self.talker}RMC",
                hhmmss,
                "A" if valid else "V",
                lat,
                ns,
                lon,
                ew,
                f"{f.speed_knots:.3f}" if valid else "",
                f"{f.course_deg:.2f}" if valid else "",
                when.strftime("%d%m%y"),
                "",
                "",
                "A" if valid else "N",
            ]
        )
        gga = ",".join(
            [
                f"{self.talker}GGA",
                hhmmss,
                lat,
                ns,
                lon,
                ew,
                str(f.quality),
                f"{f.satellites:02d}",
                f"{f.hdop:.2f}" if valid else "99.99",
                f"{f.altitude_m:.1f}" if valid else "",
                "M" if valid else "",
                f"{f.geoid_separation_m:.1f}" if valid else "",
                "M" if valid else "",
                "",
                "",
            ]
        )
        return [nmea_sentence(rmc), nmea_sentence(gga)]

    # -- the once-a-second timer ------------------------------------------------------------
    # A chain of timer events, not a SimPy process: its whole state is the next due second
    # (``_next_ns``), so a board with a GPS can be snapshotted (pihil_emulator.snapshot).
    def on_bound(self) -> None:
        if self._next_ns is None:
            world = self.world
            self._next_ns = -(-world.now_ns // NS_PER_S) * NS_PER_S  # the next top of a second
            self._arm()

    def _arm(self) -> None:
        assert self._next_ns is not None
        timer = self.world.timeout(self._next_ns - self.world.now_ns)
        timer.callbacks.append(self._tick)

    def _tick(self, _event: simpy.Event) -> None:
        if self.enabled:
            self.transmit(b"".join(self.sentences(self.utc_now())))
            self.sent_seconds += 1
        assert self._next_ns is not None
        self._next_ns += NS_PER_S
        self._arm()


def nmea_gps_factory(address: int | None, name: str, params: Mapping[str, object]) -> NmeaGps:
    """Registry factory (profile model ``nmea-gps``): line settings, ``utc`` (ISO 8601 at
    simulated time 0), ``talker``, ``latitude``/``longitude``/``altitude_m``, ``quality``,
    ``satellites``."""
    p = Params("nmea-gps", params)
    settings = line_settings_from(p, DEFAULT_SETTINGS)
    utc_text = p.get_str("utc")
    talker = p.get_str("talker", "GP") or "GP"
    lat = p.get_float("latitude", GpsFix.latitude)
    lon = p.get_float("longitude", GpsFix.longitude)
    alt = p.get_float("altitude_m", GpsFix.altitude_m)
    quality = p.get_int("quality", GpsFix.quality)
    sats = p.get_int("satellites", GpsFix.satellites)
    p.done()
    utc = None
    if utc_text is not None:
        try:
            utc = dt.datetime.fromisoformat(utc_text.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigurationError(
                f"device model 'nmea-gps': utc {utc_text!r} is not ISO 8601 "
                "(e.g. 2024-05-01T12:00:00+00:00)"
            ) from None
        if utc.tzinfo is None:
            utc = utc.replace(tzinfo=dt.UTC)
    gps = NmeaGps(name, settings=settings, utc_at_zero=utc, talker=talker)
    gps.set_position(lat, lon, alt)
    gps.set_fix(quality, sats)
    return gps
