"""The board's serial ports: ``/dev/ttyAMA0`` (PL011), ``/dev/ttyS0`` (mini UART) and the
``/dev/serial0``/``/dev/serial1`` aliases, as the Linux tty layer answers them.

Each UART of the profile (BoardInfo.uarts) is served at its ``linux_device``. Raspberry Pi
OS's udev rule (99-com.rules) links ``serial0`` to the tty of the device tree's ``serial0``
alias, the UART on GPIO14/15 (the profile's ``primary_uart``), and ``serial1`` to the other
of UART0/UART1, when that one has a tty (soc-facts §4.2: "/dev/serial0 = primary,
/dev/serial1 = secondary"). The file answers what pyserial's POSIX backend and other
programs ask: read/write/select (`tty_port`), the tty ioctls below, and through
`termios_patches` the ``termios`` module's functions (C functions that take an fd).

ioctls (include/uapi/asm-generic/ioctls.h): TCGETS/TCSETS(W/F), TCGETS2/TCSETS(W/F)2
(BOTHER rates, as pyserial sets a non-standard rate), TCSBRK (tcdrain, and a 250 ms break
with arg 0), TCSBRKP (tcsendbreak: arg × 100 ms), TIOCSBRK/TIOCCBRK, TCFLSH, TCXONC,
TIOCINQ/TIOCOUTQ, TIOCMGET/TIOCMBIS/TIOCMBIC/TIOCMSET, TIOCEXCL/TIOCNXCL/TIOCGEXCL,
TIOCGICOUNT (the serial core's error counts), TIOCGSERIAL/TIOCSSERIAL, TIOCGWINSZ/
TIOCSWINSZ, FIONBIO. Others: ENOTTY.
"""

from __future__ import annotations

import errno
import os
import struct
import termios
from typing import TYPE_CHECKING

from .devfs import DevFile, oserror
from .i2c_dev import I2cDevFile
from .tty_port import TtyPort
from .tty_termios import KERNEL_TERMIOS, KERNEL_TERMIOS2

if TYPE_CHECKING:
    from collections.abc import Callable

    from .session import Userspace

# include/uapi/asm-generic/ioctls.h (the values of the Pi's arm and arm64 kernels)
TCGETS, TCSETS, TCSETSW, TCSETSF = 0x5401, 0x5402, 0x5403, 0x5404
TCSBRK, TCXONC, TCFLSH, TIOCEXCL, TIOCNXCL = 0x5409, 0x540A, 0x540B, 0x540C, 0x540D
TIOCOUTQ, TIOCGWINSZ, TIOCSWINSZ = 0x5411, 0x5413, 0x5414
TIOCMGET, TIOCMBIS, TIOCMBIC, TIOCMSET = 0x5415, 0x5416, 0x5417, 0x5418
TIOCINQ, TIOCGSERIAL, TIOCSSERIAL, FIONBIO = 0x541B, 0x541E, 0x541F, 0x5421
TCSBRKP, TIOCSBRK, TIOCCBRK, TIOCGICOUNT = 0x5425, 0x5427, 0x5428, 0x545D
TCGETS2, TCSETS2, TCSETSW2, TCSETSF2 = 0x802C542A, 0x402C542B, 0x402C542C, 0x402C542D
TIOCGEXCL = 0x80045440
UINT = struct.Struct("I")
INT = struct.Struct("i")
ICOUNTER = struct.Struct("20i")
"""struct serial_icounter_struct: cts dsr rng dcd rx tx frame overrun parity brk buf_overrun
and nine reserved."""
SERIAL_STRUCT = struct.Struct("@iiIiiiiiHbbiHHPHIL")
"""struct serial_struct (72 bytes on a 64-bit kernel)."""
PORT_16550, PORT_AMBA = 4, 32
ASYNC_LOW_LATENCY = 0x2000

SECONDARY_UART = {"uart0": "uart1", "uart1": "uart0"}
"""The device tree's serial1 alias: the other of the PL011 and the mini UART."""


class TtyOpener:
    """What the devfs calls to open a board tty path (it knows its port)."""

    def __init__(self, port: TtyPort) -> None:
        self.port = port

    def __call__(self, flags: int) -> DevFile:
        return TtyFile(flags, self.port)


class TtyFile(DevFile):
    """One open of a board tty; everything but the open's flags is the port's."""

    def __init__(self, flags: int, port: TtyPort) -> None:
        super().__init__(flags)
        port.open()
        self.port = port

    @property
    def nonblock(self) -> bool:
        return bool(self.flags & os.O_NONBLOCK)

    def read(self, n: int) -> bytes:
        if self.flags & os.O_ACCMODE == os.O_WRONLY:
            raise oserror(errno.EBADF)
        return self.port.read(n, self.nonblock)

    def write(self, data: bytes) -> int:
        if self.flags & os.O_ACCMODE == os.O_RDONLY:
            raise oserror(errno.EBADF)
        return self.port.write(data, self.nonblock)

    def readable_now(self) -> bool:
        return self.port.input_ready(poll=True)

    def subscribe(self, wake: Callable[[], None]) -> Callable[[], None]:
        return self.port._input_subscription(True)(wake)

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        if self.port.flock_holder is self:
            self.port.flock_holder = None
        self.port.close()

    # -- ioctl ------------------------------------------------------------------------------
    def ioctl(self, request: int, arg: int | memoryview) -> int:
        port = self.port
        if request == TCGETS:
            I2cDevFile._out(arg, port.termios.pack())
        elif request == TCGETS2:
            I2cDevFile._out(arg, port.termios.pack2())
        elif request in (TCSETS, TCSETSW, TCSETSF):
            raw = I2cDevFile._in(arg, KERNEL_TERMIOS.size)
            new = port.termios.unpacked(raw, with_speeds=False)
            port.set_termios(new, flush=request == TCSETSF, wait=request != TCSETS)
        elif request in (TCSETS2, TCSETSW2, TCSETSF2):
            new = port.termios.unpacked(I2cDevFile._in(arg, KERNEL_TERMIOS2.size), with_speeds=True)
            port.set_termios(new, flush=request == TCSETSF2, wait=request != TCSETS2)
        elif request == TCSBRK:
            port.wait_until_sent()
            if _value(arg) == 0:
                port.send_break(250)
        elif request == TCSBRKP:
            value = _value(arg)
            port.send_break(value * 100 if value else 250)
        elif request == TIOCSBRK:
            port.wait_until_sent()
            port.break_ctl(True)
        elif request == TIOCCBRK:
            port.break_ctl(False)
        elif request == TCFLSH:
            self._flush(_value(arg))
        elif request == TCXONC:
            port.flow(_value(arg))
        elif request == TIOCINQ:
            I2cDevFile._out(arg, INT.pack(port.in_waiting()))
        elif request == TIOCOUTQ:
            with port.us.lock:
                pending = max(0, port.block.tx.queued() - port.block.fifo_depth)
            I2cDevFile._out(arg, INT.pack(pending))
        elif request == TIOCMGET:
            I2cDevFile._out(arg, UINT.pack(port.get_mctrl()))
        elif request in (TIOCMBIS, TIOCMBIC, TIOCMSET):
            (bits,) = UINT.unpack(I2cDevFile._in(arg, 4))
            if request == TIOCMBIS:
                port.set_mctrl(bits, 0)
            elif request == TIOCMBIC:
                port.set_mctrl(0, bits)
            else:
                port.set_mctrl(bits, ~bits)
        elif request == TIOCEXCL:
            port.exclusive = True
        elif request == TIOCNXCL:
            port.exclusive = False
        elif request == TIOCGEXCL:
            I2cDevFile._out(arg, INT.pack(int(port.exclusive)))
        elif request == TIOCGICOUNT:
            I2cDevFile._out(arg, self._icount())
        elif request == TIOCGSERIAL:
            I2cDevFile._out(arg, self._serial_struct())
        elif request == TIOCSSERIAL:
            raw = I2cDevFile._in(arg, SERIAL_STRUCT.size)
            port.serial_flags = SERIAL_STRUCT.unpack(raw)[4]
        elif request == TIOCGWINSZ:
            I2cDevFile._out(arg, port.winsize)
        elif request == TIOCSWINSZ:
            port.winsize = I2cDevFile._in(arg, 8)
        elif request == FIONBIO:
            (on,) = INT.unpack(I2cDevFile._in(arg, 4))
            self.flags = self.flags | os.O_NONBLOCK if on else self.flags & ~os.O_NONBLOCK
        else:
            raise oserror(errno.ENOTTY)
        return 0

    def _flush(self, queue: int) -> None:
        """tty_perform_flush(): TCIFLUSH, TCOFLUSH, TCIOFLUSH, else EINVAL."""
        if queue not in (termios.TCIFLUSH, termios.TCOFLUSH, termios.TCIOFLUSH):
            raise oserror(errno.EINVAL)
        if queue in (termios.TCIFLUSH, termios.TCIOFLUSH):
            self.port.flush_input()
        if queue in (termios.TCOFLUSH, termios.TCIOFLUSH):
            self.port.flush_output()

    def _icount(self) -> bytes:
        """TIOCGICOUNT: the counts the interrupt handler keeps (uart_get_icount)."""
        counts = self.port.error_counts()
        values = [0, 0, 0, 0, self.port.received(), self.port.tx_count]
        values += [
            counts["framing"],
            counts["overrun"],
            counts["parity"],
            counts["break"],
            counts.get("buf_overrun", 0),
        ]
        return ICOUNTER.pack(*values, *([0] * 9))

    def _serial_struct(self) -> bytes:
        """TIOCGSERIAL as uart_get_info fills it (baud_base = uartclk / 16)."""
        port = self.port
        if port.mini:
            kind, fifo, base = PORT_16550, 8, 2 * int(port.block.core_clock_hz) // 16
        else:
            kind, fifo, base = PORT_AMBA, 32, int(port.block.uartclk_hz) // 16
        flags = port.serial_flags
        return SERIAL_STRUCT.pack(kind, port.number, 0, 0, flags, fifo, 0, base, 50, 0, 0, 0, 3000, 0, 0, 0, 0, 0)  # fmt: skip


def _value(arg: int | memoryview) -> int:
    """An ioctl's value argument; a buffer passed instead is its (non-zero) address."""
    return arg if isinstance(arg, int) else 1 << 40


def tty_paths(userspace: Userspace) -> dict[str, str]:
    """Every tty path of the board (the ``linux_device`` of each UART, and the serialN
    aliases) to the UART's name."""
    paths = {u.linux_device: u.name for u in userspace.info.uarts}
    names = {u.name for u in userspace.info.uarts}
    primary = getattr(userspace.board.profile, "primary_uart", None)
    if isinstance(primary, str) and primary in names:
        paths["/dev/serial0"] = primary
        secondary = SECONDARY_UART.get(primary)
        if secondary is not None and secondary in names:
            paths["/dev/serial1"] = secondary
    return paths


def ports_of(userspace: Userspace) -> dict[str, TtyPort]:
    """The userspace's tty ports by UART name (``uart0``...)."""
    ports: dict[str, TtyPort] = {}
    for opener in userspace.devfs.paths.values():
        if isinstance(opener, TtyOpener):
            ports.setdefault(opener.port.info.name, opener.port)
    return ports


def resolve(userspace: Userspace, name: str) -> TtyPort:
    """A port by UART name (``uart0``), alias (``serial0``) or path (``/dev/ttyAMA0``);
    ValueError naming the legal ones otherwise."""
    paths = tty_paths(userspace)
    ports = ports_of(userspace)
    key = name if name in ports else paths.get(name, paths.get(f"/dev/{name}"))
    if key is None or key not in ports:
        legal = sorted(ports) + sorted(p.removeprefix("/dev/") for p in paths) + sorted(paths)
        raise ValueError(
            f"{name!r} is not a UART of the {userspace.info.name} board; valid names: "
            + ", ".join(dict.fromkeys(legal))
        )
    return ports[key]
