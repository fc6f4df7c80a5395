"""The board agent's commands: argument checks and one handler per header, onto a `Backend`.

`Agent.execute` runs one parsed `Command` (`protocol`): every number is checked against
the board (`BoardInfo`) and the driver's ranges (the same limits as ``gpio.py``,
``i2c.py``, ``spi.py``, ``uart.py``) before the backend sees it; a driver exception
becomes a device error code (`protocol.ERROR_CODES`), anything else ``-200``. The
command table is docs/agent.md.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Sequence

from ..backends.base import I2C_MAX_MESSAGE, Backend, I2cMessage, UartFormat
from ..enums import Direction, Drive, Edge, Function, Parity, Pull
from ..errors import ConfigurationError, PihilError
from .args import as_text, block, flag, integer, member, nargs, one_of
from .protocol import (
    DATA_OUT_OF_RANGE,
    EXECUTION_ERROR,
    MAX_BLOCK,
    MAX_DELAY_NS,
    MAX_QUEUE,
    MISSING_PARAMETER,
    QUEUE_OVERFLOW,
    TOO_MUCH_DATA,
    UNDEFINED_HEADER,
    Command,
    ProtocolError,
    encode_block,
    error_code,
    error_details,
    format_error,
    quote,
    registrar,
)
from .sim_commands import SIM_HANDLERS, SimHandler, SimState

# -- dispatch -------------------------------------------------------------------------------

BOOT_ID = "/proc/sys/kernel/random/boot_id"
"""Linux's random boot id: the same until the kernel boots again (random(4))."""


def boot_id(backend: Backend) -> str:
    """This board's boot: the kernel's boot id on a real board, one per agent otherwise."""
    if not backend.simulated:
        try:
            with open(BOOT_ID, encoding="ascii") as f:
                return f.read().strip()
        except OSError:
            pass
    return f"agent-{uuid.uuid4()}"


Handler = Callable[["Agent", Command], bytes | None]
HANDLERS: dict[str, Handler] = {}


def _sim_handler(fn: SimHandler) -> Handler:
    return lambda a, c: fn(a.sim, c)


handles = registrar(HANDLERS)


class Agent:
    """The protocol state of one served board: its backend and the SCPI error queue."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.info = backend.info
        self.errors: list[str] = []
        self.sim = SimState(backend)
        """The SIM commands' wires and faults (`sim_commands`)."""
        self.boot_id = boot_id(backend)
        """What ``SYST:BOOT?`` answers: the kernel's boot id on a real board (a new one after
        every reboot), a fresh one per agent for an emulated board."""

    def push_error(self, code: int, message: str, details: dict[str, object] | None = None) -> None:
        if len(self.errors) >= MAX_QUEUE:
            self.errors[-1] = format_error(QUEUE_OVERFLOW, "Queue overflow")
            return
        self.errors.append(format_error(code, message, details))

    def execute(self, cmd: Command) -> bytes | None:
        """Run one command; the response line (with its newline) for a query, else None."""
        try:
            handler = HANDLERS.get(cmd.header)
            if handler is None:
                raise ProtocolError(
                    UNDEFINED_HEADER,
                    f"unknown command {cmd.header[:40]!r}; see docs/agent.md (e.g. *IDN?, "
                    "SYST:ERR?, GPIO:LEV? <line>)",
                )
            out = handler(self, cmd)
        except ProtocolError as exc:
            return self.fail(cmd.query, exc.code, exc.message)
        except PihilError as exc:
            return self.fail(cmd.query, error_code(exc), str(exc), error_details(exc))
        except Exception as exc:  # a backend bug must not take the agent down
            return self.fail(cmd.query, EXECUTION_ERROR, f"{type(exc).__name__}: {exc}")
        if cmd.query:
            return (out or b"") + b"\n"
        return None

    def fail(
        self, query: bool, code: int, message: str, details: dict[str, object] | None = None
    ) -> bytes | None:
        """A failed query answers ``!<code>,"<text>"``; a failed command queues its error."""
        if query:
            return b"!" + format_error(code, message, details).encode() + b"\n"
        self.push_error(code, message, details)
        return None

    # checked arguments
    def line(self, arg: str | bytes) -> int:
        return one_of(integer(arg, "line", 0, 999), self.info.gpios, "GPIO line")

    def i2c(self, arg: str | bytes) -> int:
        return one_of(
            integer(arg, "I2C bus", 0, 999), [b.number for b in self.info.i2c_buses], "I2C bus"
        )

    def spi(self, bus: str | bytes, cs: str | bytes) -> tuple[int, int]:
        b = one_of(
            integer(bus, "SPI bus", 0, 999), [s.number for s in self.info.spi_buses], "SPI bus"
        )
        sb = next(s for s in self.info.spi_buses if s.number == b)
        return b, one_of(integer(cs, "chip select", 0, 999), sb.chip_selects, "chip select")

    def uart(self, arg: str | bytes) -> int:
        return one_of(integer(arg, "UART", 0, 999), [u.number for u in self.info.uarts], "UART")


def _ok(value: object) -> bytes:
    if isinstance(value, bool):
        return b"1" if value else b"0"
    if isinstance(value, enum.Enum):
        return value.name.encode()
    return str(value).encode()


# system


@handles("*IDN?")
def _idn(a: Agent, c: Command) -> bytes:
    nargs(c, 0, "no arguments")
    from ..utility import DRIVER_VERSION

    ident = a.backend.identify()
    fields = (ident.manufacturer, ident.model, a.info.name, f"pihil-agent {DRIVER_VERSION}")
    return ",".join(f.replace(",", " ") for f in fields).encode()


@handles("*OPC?")
def _opc(a: Agent, c: Command) -> bytes:
    nargs(c, 0, "no arguments")
    return b"1"


@handles("*RST")
def _rst(a: Agent, c: Command) -> None:
    nargs(c, 0, "no arguments")
    a.backend.reset()


@handles("*CLS")
def _cls(a: Agent, c: Command) -> None:
    nargs(c, 0, "no arguments")
    a.errors.clear()


@handles("SYST:ERR?", "SYSTEM:ERROR?", "SYST:ERR:NEXT?")
def _err(a: Agent, c: Command) -> bytes:
    nargs(c, 0, "no arguments")
    return (a.errors.pop(0) if a.errors else '0,"No error"').encode()


@handles("SYST:BOARD?")
def _board(a: Agent, c: Command) -> bytes:
    nargs(c, 0, "no arguments")
    return a.info.name.encode()


@handles("SYST:BOOT?")
def _boot(a: Agent, c: Command) -> bytes:
    nargs(c, 0, "no arguments")
    return a.boot_id.encode()


@handles("SYST:IDEN?")
def _iden(a: Agent, c: Command) -> bytes:
    nargs(c, 0, "no arguments")
    i = a.backend.identify()
    return ",".join(quote(t) for t in (i.manufacturer, i.model, i.reported)).encode()


@handles("SYST:SIM?")
def _sim(a: Agent, c: Command) -> bytes:
    nargs(c, 0, "no arguments")
    return _ok(a.backend.simulated)


@handles("SYST:TIME?")
def _time(a: Agent, c: Command) -> bytes:
    nargs(c, 0, "no arguments")
    return _ok(a.backend.now_ns())


@handles("SYST:DERR?")
def _derr(a: Agent, c: Command) -> bytes:
    nargs(c, 0, "no arguments")
    errs = a.backend.device_errors()
    return ",".join([str(len(errs))] + [f"{e.code},{quote(e.message)}" for e in errs]).encode()


@handles("DELAY")
def _delay(a: Agent, c: Command) -> None:
    (ns,) = nargs(c, 1, "<ns>")
    a.backend.delay_ns(integer(ns, "delay (ns)", 0, MAX_DELAY_NS))


# GPIO


Target = Callable[["Agent", Sequence[str | bytes]], tuple[int, ...]]
"""What a setting belongs to, from its checked arguments: a GPIO line, an I2C bus, an SPI
bus's chip select (the backend method's leading arguments)."""
TARGETS: dict[str, tuple[str, Target]] = {
    "line": ("<line>", lambda a, w: (a.line(w[0]),)),
    "i2c": ("<bus>", lambda a, w: (a.i2c(w[0]),)),
    "spi": ("<bus>,<cs>", lambda a, w: a.spi(w[0], w[1])),
}


def _setting(
    target: str, usage: str, parse: Callable[[str | bytes], object], get: str, put: str
) -> Handler:
    """The query and command of one setting (``GPIO:PULL? <line>``, ``GPIO:PULL <line>,UP``):
    the backend's method ``get`` reads it, ``put`` sets it to ``parse(value)``."""
    names, where = TARGETS[target]
    count = names.count(",") + 1

    def handler(a: Agent, c: Command) -> bytes | None:
        if c.query:
            return _ok(getattr(a.backend, get)(*where(a, nargs(c, count, names))))
        args = nargs(c, count + 1, usage)  # the target's arguments, then the value
        getattr(a.backend, put)(*where(a, args), parse(args[count]))
        return None

    return handler


SETTINGS: tuple[tuple[str, str, str, Callable[[str | bytes], object], str, str], ...] = (
    # header, target, usage, value parser, backend getter, backend setter
    (
        "GPIO:FUNC",
        "line",
        "<line>,<INPUT|OUTPUT|ALT0..ALT5>",
        lambda v: member(v, Function, "function"),
        "gpio_get_function",
        "gpio_set_function",
    ),
    ("GPIO:LEV", "line", "<line>,<0|1>", lambda v: flag(v, "value"), "gpio_read", "gpio_write"),
    (
        "GPIO:PULL",
        "line",
        "<line>,<NONE|UP|DOWN>",
        lambda v: member(v, Pull, "pull"),
        "gpio_get_pull",
        "gpio_set_pull",
    ),
    (
        "GPIO:DRIV",
        "line",
        "<line>,<PUSH_PULL|OPEN_DRAIN>",
        lambda v: member(v, Drive, "drive"),
        "gpio_get_drive",
        "gpio_set_drive",
    ),
    (
        "I2C:FREQ",
        "i2c",
        "<bus>,<hz>",
        lambda v: integer(v, "I2C frequency (Hz)", 1, 1_000_000),
        "i2c_get_frequency",
        "i2c_set_frequency",
    ),
    (
        "SPI:MODE",
        "spi",
        "<bus>,<cs>,<mode 0..3>",
        lambda v: integer(v, "SPI mode", 0, 3),
        "spi_get_mode",
        "spi_set_mode",
    ),
    (
        "SPI:SPEED",
        "spi",
        "<bus>,<cs>,<hz>",
        lambda v: integer(v, "SPI speed (Hz)", 1, 125_000_000),
        "spi_get_speed",
        "spi_set_speed",
    ),
)
"""The settings that are one value each, read and set the same way."""
for _header, _target, _usage, _parse, _get, _put in SETTINGS:
    handles(_header, _header + "?")(_setting(_target, _usage, _parse, _get, _put))


@handles("GPIO:DIR", "GPIO:DIR?")
def _dir(a: Agent, c: Command) -> bytes | None:
    if c.query:
        (line,) = nargs(c, 1, "<line>")
        return _ok(a.backend.gpio_get_direction(a.line(line)))
    line, d, v = nargs(c, 3, "<line>,<INPUT|OUTPUT>,<0|1>")
    n = a.line(line)
    a.backend.gpio_set_direction(n, member(d, Direction, "direction"), flag(v, "value"))
    return None


@handles("GPIO:EDGE", "GPIO:EDGE?")
def _edge(a: Agent, c: Command) -> bytes | None:
    if c.query:
        (line,) = nargs(c, 1, "<line>")
        edge, debounce = a.backend.gpio_get_edge_detection(a.line(line))
        return _ok(edge) + b"," + _ok(debounce)
    line, e, d = nargs(c, 3, "<line>,<NONE|RISING|FALLING|BOTH>,<debounce ns>")
    n = a.line(line)
    edge = member(e, Edge, "edge")
    debounce = integer(d, "debounce (ns)", 0, 4_294_967_295_000)
    if edge is not Edge.NONE and a.backend.gpio_get_direction(n) is not Direction.INPUT:
        raise ConfigurationError(
            f"GPIO{n} is an output; edge detection needs direction = Direction.INPUT"
        )
    a.backend.gpio_set_edge_detection(n, edge, debounce)
    return None


@handles("GPIO:WAIT?")
def _wait(a: Agent, c: Command) -> bytes:
    line, t = nargs(c, 2, "<line>,<timeout ns>")
    n = a.line(line)
    timeout = integer(t, "timeout (ns)", 0, MAX_DELAY_NS)
    if a.backend.gpio_get_edge_detection(n)[0] is Edge.NONE:
        raise ConfigurationError(
            f"GPIO{n} has no edge detection; set edge_detection (Edge.RISING, Edge.FALLING "
            "or Edge.BOTH) before waiting for edges"
        )
    events = a.backend.gpio_wait_edges(n, timeout)
    parts = [str(len(events))]
    for ev in events:
        parts += [ev.kind.name, str(ev.timestamp_ns), str(ev.gpio), str(ev.seqno)]
    return ",".join(parts).encode()


# I2C


@handles("I2C:XFER?")
def _i2c_xfer(a: Agent, c: Command) -> bytes:
    usage = "<bus>,then per message W,<addr>,<block> or R,<addr>,<len>"
    if len(c.args) < 4:
        raise ProtocolError(MISSING_PARAMETER, f"{c.header} takes {usage}")
    bus = a.i2c(c.args[0])
    rest = c.args[1:]
    if len(rest) % 3:
        raise ProtocolError(MISSING_PARAMETER, f"{c.header} takes {usage}")
    messages: list[I2cMessage] = []
    for i in range(0, len(rest), 3):
        kind = as_text(rest[i], "message kind").upper()
        addr = integer(rest[i + 1], "I2C address", 0, 0x7F)
        if kind == "W":
            data = block(rest[i + 2], "I2C write data", I2C_MAX_MESSAGE)
            messages.append(I2cMessage(addr, False, data, len(data)))
        elif kind == "R":
            messages.append(
                I2cMessage(addr, True, b"", integer(rest[i + 2], "read length", 1, I2C_MAX_MESSAGE))
            )
        else:
            raise ProtocolError(DATA_OUT_OF_RANGE, f"message kind is W or R; got {kind[:10]!r}")
    if len(messages) > 42:  # I2C_RDWR_IOCTL_MAX_MSGS
        raise ProtocolError(TOO_MUCH_DATA, "one I2C transfer takes at most 42 messages")
    return encode_block(b"".join(a.backend.i2c_transfer(bus, messages)))


# SPI


@handles("SPI:XFER?")
def _spi_xfer(a: Agent, c: Command) -> bytes:
    bus, cs, data = nargs(c, 3, "<bus>,<cs>,<block>")
    b, s = a.spi(bus, cs)
    return encode_block(a.backend.spi_transfer(b, s, block(data, "SPI data", 65536)))


# UART


@handles("UART:FORM", "UART:FORM?")
def _uart_form(a: Agent, c: Command) -> bytes | None:
    if c.query:
        (u,) = nargs(c, 1, "<uart>")
        f = a.backend.uart_get_format(a.uart(u))
        return f"{f.baud_rate},{f.data_bits},{f.parity.value},{f.stop_bits}".encode()
    u, baud, bits, parity, stop = nargs(c, 5, "<uart>,<baud>,<5..8>,<N|E|O|M|S>,<1|2>")
    n = a.uart(u)
    fmt = UartFormat(
        integer(baud, "baud rate", 1, 31_250_000),
        integer(bits, "data bits", 5, 8),
        member(parity, Parity, "parity"),
        integer(stop, "stop bits", 1, 2),
    )
    a.backend.uart_set_format(n, fmt)
    return None


@handles("UART:WRIT")
def _uart_write(a: Agent, c: Command) -> None:
    u, data = nargs(c, 2, "<uart>,<block>")
    n = a.uart(u)
    a.backend.uart_write(n, block(data, "UART data", MAX_BLOCK))


@handles("UART:READ?")
def _uart_read(a: Agent, c: Command) -> bytes:
    u, count, t = nargs(c, 3, "<uart>,<count>,<timeout ns>")
    n = a.uart(u)
    k = integer(count, "count", 0, MAX_BLOCK)
    return encode_block(a.backend.uart_read(n, k, integer(t, "timeout (ns)", 0, MAX_DELAY_NS)))


@handles("UART:WAIT?")
def _uart_waiting(a: Agent, c: Command) -> bytes:
    (u,) = nargs(c, 1, "<uart>")
    return _ok(a.backend.uart_in_waiting(a.uart(u)))


@handles("UART:BRK")
def _uart_break(a: Agent, c: Command) -> None:
    u, ns = nargs(c, 2, "<uart>,<ns>")
    n = a.uart(u)
    a.backend.uart_send_break(n, integer(ns, "break (ns)", 1, 10_000_000_000))


@handles("UART:FLUSH")
def _uart_flush(a: Agent, c: Command) -> None:
    (u,) = nargs(c, 1, "<uart>")
    a.backend.uart_flush(a.uart(u))


@handles("UART:DISC")
def _uart_discard(a: Agent, c: Command) -> None:
    (u,) = nargs(c, 1, "<uart>")
    a.backend.uart_discard_input(a.uart(u))


# SIM: board.simulation of an emulated board (sim_commands)

HANDLERS.update({header: _sim_handler(fn) for header, fn in SIM_HANDLERS.items()})
