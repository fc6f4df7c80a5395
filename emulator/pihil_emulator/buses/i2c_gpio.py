"""The bit-banged ``i2c-gpio`` bus on any two GPIOs: Linux i2c-algo-bit at pin level.

The usual workaround for the BCM2835 clock-stretching bug (soc-facts §1.5:
``dtoverlay=i2c-gpio,bus=3``): the master raises SCL and reads it back until it is
really high, then waits a full high time, so a stretching target is honoured.

The sequences and delays are i2c-algo-bit's (``udelay`` is half an SCL period in
whole microseconds): ``sclhi`` releases SCL, waits for it to read high (giving up
after the adapter timeout, 100 ms for i2c-gpio: -ETIMEDOUT) and waits ``udelay``;
``scllo`` pulls it low and waits ``udelay/2``; a data bit is set ``(udelay+1)/2``
before SCL rises; a read bit is sampled at the end of the high time. Errors are
i2c-algo-bit's: no ACK to the address → ENXIO, to a data byte → EIO, SCL never
rising → ETIMEDOUT.

Each GPIO access (a set of SDA or SCL, a read of either) takes ``gpio_access_ns`` on top
of the delays: the level changes (or is sampled) when the access starts and the next step
follows when it returns. On a Pi that cost is what makes the bus far slower than the
delay says: i2c-algo-bit's arithmetic gives 10⁶/(2·udelay) Hz, 250 kHz for the overlay's
default ``i2c-gpio,delay-us = <2>``, while Raspberry Pi's overlay source marks that value
"~100 kHz" (and its maintainer confirmed the README's "2" = ~100 kHz against that
arithmetic, raspberrypi/firmware#1835). A written bit has four accesses (setsda, setscl,
getscl, setscl) around 4 µs of delays, so 10 µs per bit leaves 1.5 µs per access:
`BCM_GPIO_ACCESS_NS` (docs/fidelity.md: derived from the published rate, not measured per
access).

`I2cGpioBus.recover` is Linux's ``i2c_generic_scl_recovery``: up to nine SCL
pulses until SDA reads high, then a STOP.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any

import simpy

from ..attachments import Attachments
from ..errors import BusError, ConfigurationError
from ..world.clock import NS_PER_MS, NS_PER_US, World
from ..world.net import Drive, Net
from .i2c_master import I2cMessage, check_messages
from .i2c_slave import I2cSlave, hub_for
from .i2c_target import I2cTarget

if TYPE_CHECKING:
    from ..board import Board

I2C_GPIO_TIMEOUT_NS = 100 * NS_PER_MS
"""i2c-gpio's ``bit_data->timeout = HZ / 10`` when the device tree gives none."""
RECOVERY_CLOCKS = 9
"""i2c-core ``RECOVERY_CLK_CNT``."""
RECOVERY_NDELAY_NS = 5_000
"""i2c-core ``RECOVERY_NDELAY``: 5 µs between recovery edges (100 kHz)."""

BCM_GPIO_ACCESS_NS = 1_500
"""One i2c-gpio GPIO access on a Pi, derived from the overlay's delay 2 µs = "~100 kHz"
(i2c-gpio-overlay.dts; raspberrypi/firmware#1835): (10 µs - 4 µs of delays) / 4 accesses."""

SimGen = Generator[simpy.Event, Any, Any]
_OD_LOW = Drive.open_drain_low()


class _Timeout(Exception):
    """SCL did not read high within the adapter timeout (i2c-algo-bit's -ETIMEDOUT)."""


class I2cGpioBus:
    """A bit-banged I2C master on two nets; ``transfer`` as the Linux i2c-gpio adapter."""

    def __init__(
        self,
        world: World,
        sda: Net,
        scl: Net,
        *,
        speed_hz: int = 100_000,
        attachments: Attachments | None = None,
        name: str = "i2c-gpio",
        timeout_ns: int = I2C_GPIO_TIMEOUT_NS,
        gpio_access_ns: int = BCM_GPIO_ACCESS_NS,
    ) -> None:
        if isinstance(speed_hz, bool) or not isinstance(speed_hz, int) or speed_hz <= 0:
            raise ConfigurationError(f"i2c-gpio speed is a positive int in Hz, got {speed_hz!r}")
        if speed_hz > 500_000:
            raise ConfigurationError(
                f"i2c-gpio cannot run at {speed_hz} Hz: its delay is whole microseconds, "
                "so the fastest is 500000 Hz (udelay 1)"
            )
        check_access_ns(gpio_access_ns)
        if sda is scl or sda.node is scl.node:
            raise ConfigurationError(f"i2c-gpio needs two separate lines, got {sda.name} twice")
        self.world = world
        self.sda = sda
        self.scl = scl
        self.name = name
        self.owner = f"i2c-gpio:{name}"
        self.attachments = attachments if attachments is not None else Attachments()
        self.udelay_us = max(1, -(-500_000 // speed_hz))
        """Half a period in whole µs, rounded up so the bus is never faster than asked."""
        self.timeout_ns = timeout_ns
        self.gpio_access_ns = gpio_access_ns
        """What one GPIO access (set or read of SDA/SCL) costs, in ns (`BCM_GPIO_ACCESS_NS`)."""
        self._rise: simpy.Event | None = None
        self._slaves: list[I2cSlave] = []
        self._unwatch = scl.watch(self._scl_changed)
        self.slaves()  # put the targets already attached on the wire

    @property
    def speed_hz(self) -> int:
        """The nominal rate for the delay: 10⁶ / (2·udelay) Hz (i2c-algo-bit's arithmetic)."""
        return 500_000 // self.udelay_us

    @property
    def bit_period_ns(self) -> int:
        """A written bit on the wire: (udelay+1)/2 + udelay + udelay/2 µs of delays and four
        GPIO accesses (setsda, setscl high, getscl, setscl low)."""
        u = self.udelay_us
        return ((u + 1) // 2 + u + u // 2) * NS_PER_US + 4 * self.gpio_access_ns

    @property
    def scl_hz(self) -> float:
        """The SCL rate of a byte's data bits, GPIO access cost included (what a scope shows)."""
        return 1e9 / self.bit_period_ns

    def set_bus_speed(self, hz: int) -> None:
        if isinstance(hz, bool) or not isinstance(hz, int) or not 0 < hz <= 500_000:
            raise ConfigurationError(f"i2c-gpio speed is 1..500000 Hz, got {hz!r}")
        self.udelay_us = max(1, -(-500_000 // hz))

    def slaves(self) -> list[I2cSlave]:
        hub = hub_for(self.world)
        out = []
        for att in self.attachments.find("i2c", sda=self.sda, scl=self.scl):
            if not isinstance(att.device, I2cTarget):
                raise ConfigurationError(f"{att!r} is attached as I2C but is not an I2cTarget")
            out.append(hub.slave_for(att.device, att.nets["sda"], att.nets["scl"]))
        return out

    # -- lines -------------------------------------------------------------------------
    def _scl_changed(self, net: Net, level: bool, t: int) -> None:
        if level and self._rise is not None and not self._rise.triggered:
            self._rise.succeed()

    def _setsda(self, level: bool) -> SimGen:
        self.sda.drive(self.owner, None if level else _OD_LOW)
        yield from self._delay(self.gpio_access_ns)

    def _setscl(self, level: bool) -> SimGen:
        self.scl.drive(self.owner, None if level else _OD_LOW)
        yield from self._delay(self.gpio_access_ns)

    def _getsda(self) -> SimGen:
        level = self.sda.level
        yield from self._delay(self.gpio_access_ns)
        return level

    def _delay(self, ns: int) -> SimGen:
        if ns > 0:
            yield self.world.timeout(ns)

    def _sclhi(self) -> SimGen:
        yield from self._setscl(True)
        if not self.scl.level:  # the first getscl reads low: poll until it reads high
            self._rise = self.world.event()
            timer = self.world.timeout(self.timeout_ns)
            yield self._rise | timer
            if not self._rise.triggered:
                raise _Timeout
        yield from self._delay(self.gpio_access_ns)  # the getscl that reads it high
        yield from self._delay(self.udelay_us * NS_PER_US)

    def _scllo(self) -> SimGen:
        yield from self._setscl(False)
        yield from self._delay(self.udelay_us // 2 * NS_PER_US)

    def _half(self) -> int:
        return (self.udelay_us + 1) // 2 * NS_PER_US

    def _start(self) -> SimGen:
        yield from self._setsda(False)
        yield from self._delay(self.udelay_us * NS_PER_US)
        yield from self._scllo()

    def _repstart(self) -> SimGen:
        yield from self._setsda(True)
        yield from self._delay(self._half())
        yield from self._sclhi()
        yield from self._setsda(False)
        yield from self._delay(self.udelay_us * NS_PER_US)
        yield from self._scllo()

    def _stop(self) -> SimGen:
        yield from self._setsda(False)
        yield from self._delay(self._half())
        yield from self._sclhi()
        yield from self._setsda(True)
        yield from self._delay(self.udelay_us * NS_PER_US)

    def _outb(self, c: int) -> SimGen:
        for i in range(7, -1, -1):
            yield from self._setsda(bool(c >> i & 1))
            yield from self._delay(self._half())
            yield from self._sclhi()
            yield from self._scllo()
        yield from self._setsda(True)
        yield from self._delay(self._half())
        yield from self._sclhi()
        ack = not (yield from self._getsda())
        yield from self._scllo()
        return ack

    def _inb(self) -> SimGen:
        yield from self._setsda(True)
        yield from self._delay(self._half())
        value = 0
        for i in range(8):
            yield from self._sclhi()
            value = value << 1 | int((yield from self._getsda()))
            yield from self._setscl(False)
            yield from self._delay((self.udelay_us // 2 if i == 7 else self.udelay_us) * NS_PER_US)
        return value

    def _acknak(self, ack: bool) -> SimGen:
        if ack:
            yield from self._setsda(False)
        yield from self._delay(self._half())
        yield from self._sclhi()
        yield from self._scllo()

    # -- the transfer ---------------------------------------------------------------------
    def _xfer(self, msgs: list[I2cMessage], out: list[bytes], err: list[BusError]) -> SimGen:
        done = 0
        phase = "address"
        address = msgs[0].address
        try:
            yield from self._start()
            for i, m in enumerate(msgs):
                address = m.address
                phase = "address"
                if i:
                    yield from self._repstart()
                acked = yield from self._outb(m.address << 1 | int(m.read))
                if not acked:
                    err.append(self._error("no ACK", "nack", "ENXIO", address, phase, done))
                    break
                if m.read:
                    phase = "read"
                    data = bytearray()
                    for n in range(m.length):
                        value = yield from self._inb()
                        data.append(self._read_fault(address, n + 1, value))
                        done += 1
                        yield from self._acknak(n + 1 < m.length)
                    out.append(bytes(data))
                else:
                    failed = False
                    for n, value in enumerate(m.data):
                        phase = f"data byte {n + 1}"
                        acked = yield from self._outb(value)
                        if not acked:
                            err.append(self._error("no ACK", "nack", "EIO", address, phase, done))
                            failed = True
                            break
                        done += 1
                    if failed:
                        break
        except _Timeout:
            err.append(
                self._error(
                    "SCL stuck low (clock stretched too long)",
                    "timeout",
                    "ETIMEDOUT",
                    address,
                    phase,
                    done,
                )
            )
        try:
            yield from self._stop()
        except _Timeout:
            if not err:
                err.append(
                    self._error(
                        "SCL stuck low at STOP", "timeout", "ETIMEDOUT", address, "stop", done
                    )
                )
            self.sda.drive(self.owner, None)  # let SDA go; the transfer has failed already

    def _error(
        self, what: str, kind: str, errno: str, address: int, phase: str, done: int
    ) -> BusError:
        return BusError(
            what,
            bus=self.name,
            kind=kind,
            address=address,
            phase=phase,
            transferred=done,
            errno_name=errno,
            time_ns=self.world.now_ns,
        )

    def _read_fault(self, address: int, index: int, value: int) -> int:
        now = self.world.now_ns
        for s in self._slaves:
            for fault in s.faults:
                corrupt_read = getattr(fault, "corrupt_read", None)
                if corrupt_read is not None:
                    value = corrupt_read(s, address, index, value, now)
        return value

    def transfer(self, msgs: Sequence[I2cMessage]) -> list[bytes]:
        """bit_xfer: the messages with repeated STARTs between them and a STOP; the data of
        each read message. Raises `BusError` (ENXIO, EIO, ETIMEDOUT) as i2c-algo-bit fails."""
        msgs = check_messages(msgs)
        self._slaves = self.slaves()
        out: list[bytes] = []
        err: list[BusError] = []
        proc = self.world.process(self._xfer(msgs, out, err))
        self.world.run_until(proc)
        if err:
            raise err[0]
        return out

    def recover(self) -> bool:
        """i2c_generic_scl_recovery: clock SCL (up to nine times) until SDA reads high, then
        a STOP. Returns True when SDA is high at the end (the bus is free)."""
        proc = self.world.process(self._recover())
        result = self.world.run_until(proc)
        return bool(result)

    def _recover(self) -> SimGen:
        yield from self._setsda(True)
        yield from self._setscl(True)
        yield from self._delay(RECOVERY_NDELAY_NS)
        for _ in range(RECOVERY_CLOCKS):
            if (yield from self._getsda()):
                break
            yield from self._setscl(False)
            yield from self._delay(RECOVERY_NDELAY_NS)
            yield from self._setscl(True)
            yield from self._delay(RECOVERY_NDELAY_NS)
        # a STOP: SDA low while SCL is low, SCL up, SDA up
        yield from self._setscl(False)
        yield from self._setsda(False)
        yield from self._delay(RECOVERY_NDELAY_NS)
        yield from self._setscl(True)
        yield from self._delay(RECOVERY_NDELAY_NS)
        yield from self._setsda(True)
        yield from self._delay(RECOVERY_NDELAY_NS)
        sda_high: bool = yield from self._getsda()
        return sda_high

    def close(self) -> None:
        """Let go of both lines for good."""
        self._unwatch()
        self.sda.release(self.owner)
        self.scl.release(self.owner)


def attach_i2c_gpio(
    board: Board,
    name: str,
    sda: str | int,
    scl: str | int,
    speed_hz: int = 100_000,
    *,
    gpio_access_ns: int = BCM_GPIO_ACCESS_NS,
) -> I2cGpioBus:
    """``board.add_i2c_gpio``: an i2c-gpio bus on two GPIOs (pin names or line numbers).

    The pins become GPIO inputs (what the kernel's pinctrl does when i2c-gpio claims
    them), so only the bus and the devices drive them.
    """
    lines = []
    for pin in (sda, scl):
        line = pin if isinstance(pin, int) else board.pins.gpio_line(pin)
        lines.append(line)
        board.gpio.set_function(line, "input")
    return I2cGpioBus(
        board.world,
        board.gpio.net(lines[0]),
        board.gpio.net(lines[1]),
        speed_hz=speed_hz,
        attachments=board.attachments,
        name=name,
        gpio_access_ns=gpio_access_ns,
    )


def check_access_ns(ns: object) -> None:
    """A GPIO access cost is a whole number of ns from 0 (an ideal bus) to 1 ms."""
    if isinstance(ns, bool) or not isinstance(ns, int) or not 0 <= ns <= NS_PER_MS:
        raise ConfigurationError(
            f"i2c-gpio gpio_access_ns is a whole number of ns from 0 to 1000000, got {ns!r}"
        )
