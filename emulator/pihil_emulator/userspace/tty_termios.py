"""A tty's termios as the Linux kernel keeps it (``struct ktermios``), and what glibc and
CPython's ``termios`` module make of it.

- `Ktermios`: flags, line, the kernel's 19 control characters and the two speeds.
- `py_attributes` / `from_py_attributes`: ``termios.tcgetattr``/``tcsetattr`` lists as
  CPython builds and checks them (Modules/termios.c) over glibc's ``tcgetattr``,
  ``cfsetispeed``/``cfsetospeed`` (sysdeps/unix/sysv/linux/speed.c: a speed that is no
  ``B`` constant is EINVAL).
- The kernel's baud rate helpers (drivers/tty/tty_baudrate.c): `baud_rate`,
  `input_baud_rate`, `encode_baud_rate`; and the serial core's `uart_get_baud_rate`
  (drivers/tty/serial/serial_core.c): a rate outside what the port can make falls back to
  the old rate, as Linux answers it (tcsetattr succeeds, tcgetattr shows the old rate).
- ``struct termios`` / ``struct termios2`` as the TCGETS/TCSETS(2) ioctls carry them.
"""

from __future__ import annotations

import errno
import operator
import struct
import termios
from dataclasses import dataclass, field, replace
from typing import Any

KERNEL_NCCS = 19
"""``NCCS`` of the kernel's ``struct termios`` (glibc's is 32; the rest read as 0)."""
GLIBC_NCCS = 32

CBAUD = 0o010017
CBAUDEX = 0o010000
BOTHER = 0o010000
IBSHIFT = 16
CMSPAR = 0o10000000000
CRTSCTS = 0o20000000000
CIBAUD = CBAUD << IBSHIFT

BAUD_TABLE = (
    0, 50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400,
    57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000,
    2000000, 2500000, 3000000, 3500000, 4000000,
)  # fmt: skip
"""drivers/tty/tty_baudrate.c ``baud_table``: index 0..15 are B0..B38400, 16.. B57600.."""
BAUD_BITS = tuple(range(16)) + tuple(CBAUDEX | i for i in range(1, 16))
"""The ``B`` constant of each entry of `BAUD_TABLE` (``B57600`` = 0o010001...)."""

INIT_C_CC = b"\003\034\177\025\004\000\001\000\021\023\032\000\022\017\027\026\000\000\000"
"""include/linux/tty.h INIT_C_CC: ^C ^\\ DEL ^U ^D, VTIME 0, VMIN 1, ^Q ^S ^Z, ^R ^O ^W ^V."""

KERNEL_TERMIOS = struct.Struct("=IIIIB19s")
"""``struct termios`` of the TCGETS/TCSETS ioctls (36 bytes)."""
KERNEL_TERMIOS2 = struct.Struct("=IIIIB19sII")
"""``struct termios2`` of TCGETS2/TCSETS2 (44 bytes): the speeds follow."""


class TermiosError(Exception):
    """Raised inside the model; turned into ``termios.error`` or OSError by the caller."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.errno = code


def baud_of_bits(bits: int, custom: int) -> int:
    """The rate a ``B`` code (``cflag & CBAUD``) stands for; BOTHER gives ``custom``."""
    if bits == BOTHER:
        return custom
    if bits & CBAUDEX:
        index = (bits & ~CBAUDEX) + 15
        return BAUD_TABLE[index] if 16 <= index < len(BAUD_TABLE) else 0
    return BAUD_TABLE[bits & 0xF]


@dataclass
class Ktermios:
    """``struct ktermios``: what the tty core keeps per tty."""

    iflag: int
    oflag: int
    cflag: int
    lflag: int
    line: int = 0
    cc: bytearray = field(default_factory=lambda: bytearray(INIT_C_CC))
    ispeed: int = 9600
    ospeed: int = 9600

    @classmethod
    def serial_default(cls) -> Ktermios:
        """uart_register_driver(): ``tty_std_termios`` with ``B9600 | CS8 | CREAD | HUPCL |
        CLOCAL`` and 9600 both ways (the termios of a port no console set up)."""
        return cls(
            iflag=termios.ICRNL | termios.IXON,
            oflag=termios.OPOST | termios.ONLCR,
            cflag=termios.B9600 | termios.CS8 | termios.CREAD | termios.HUPCL | termios.CLOCAL,
            lflag=termios.ISIG
            | termios.ICANON
            | termios.ECHO
            | termios.ECHOE
            | termios.ECHOK
            | termios.ECHOCTL
            | termios.ECHOKE
            | termios.IEXTEN,
        )

    def copy(self) -> Ktermios:
        return replace(self, cc=bytearray(self.cc))

    # -- the kernel's struct layouts --------------------------------------------------------
    def pack(self) -> bytes:
        return KERNEL_TERMIOS.pack(
            self.iflag, self.oflag, self.cflag, self.lflag, self.line, bytes(self.cc)
        )

    def pack2(self) -> bytes:
        return KERNEL_TERMIOS2.pack(
            self.iflag,
            self.oflag,
            self.cflag,
            self.lflag,
            self.line,
            bytes(self.cc),
            self.ispeed,
            self.ospeed,
        )

    def unpacked(self, raw: bytes, *, with_speeds: bool) -> Ktermios:
        """A copy with the fields of a user ``struct termios`` (or ``termios2``)."""
        if with_speeds:
            i, o, c, lf, line, cc, ispeed, ospeed = KERNEL_TERMIOS2.unpack(raw)
            return Ktermios(i, o, c, lf, line, bytearray(cc), ispeed, ospeed)
        i, o, c, lf, line, cc = KERNEL_TERMIOS.unpack(raw)
        new = Ktermios(i, o, c, lf, line, bytearray(cc), self.ispeed, self.ospeed)
        # set_termios() for the old-style ioctls: the speeds follow the B bits (BOTHER keeps
        # the speed the tty had)
        new.ispeed = input_baud_rate(new)
        new.ospeed = baud_rate(new)
        return new


# -- drivers/tty/tty_baudrate.c ------------------------------------------------------------
def baud_rate(t: Ktermios) -> int:
    """tty_termios_baud_rate(): the output speed."""
    return baud_of_bits(t.cflag & CBAUD, t.ospeed)


def input_baud_rate(t: Ktermios) -> int:
    """tty_termios_input_baud_rate(): CIBAUD B0 means "as the output"."""
    bits = (t.cflag >> IBSHIFT) & CBAUD
    if bits == 0:
        return baud_rate(t)
    return baud_of_bits(bits, t.ispeed)


def encode_baud_rate(t: Ktermios, ibaud: int, obaud: int) -> None:
    """tty_termios_encode_baud_rate(): a ``B`` code when one is within 2 % (exact for a
    BOTHER request), BOTHER and the exact speed otherwise."""
    ifound = ofound = -1
    iclose, oclose = ibaud // 50, obaud // 50
    if obaud == 0:
        ibaud = 0
    t.ispeed, t.ospeed = ibaud, obaud
    ibinput = ((t.cflag >> IBSHIFT) & CBAUD) != 0
    if (t.cflag & CBAUD) == BOTHER:
        oclose = 0
        if not ibinput:
            iclose = 0
    if ((t.cflag >> IBSHIFT) & CBAUD) == BOTHER:
        iclose = 0
    t.cflag &= ~CBAUD & 0xFFFFFFFF
    t.cflag &= ~CIBAUD & 0xFFFFFFFF
    for i, rate in enumerate(BAUD_TABLE):
        if obaud - oclose <= rate <= obaud + oclose:
            t.cflag |= BAUD_BITS[i]
            ofound = i
        if ibaud - iclose <= rate <= ibaud + iclose:
            if not (ofound == i and not ibinput):
                t.cflag |= BAUD_BITS[i] << IBSHIFT
            ifound = i
    if ofound == -1:
        t.cflag |= BOTHER
    if ifound == -1 and (ibaud != obaud or ibinput):
        t.cflag |= BOTHER << IBSHIFT


def uart_get_baud_rate(t: Ktermios, old: Ktermios | None, low: int, high: int) -> int:
    """serial_core.c uart_get_baud_rate(): the rate the driver programs.

    B0 (hang up) runs the port at 9600. A rate outside ``low..high`` is replaced by the old
    termios' rate (written back into ``t``), or clipped to the nearest the port can make.
    """
    hung_up = False
    rate = 0
    for _ in range(2):
        rate = baud_rate(t)
        if rate == 0:
            hung_up = True
            rate = 9600
        if low <= rate <= high:
            return rate
        t.cflag &= ~CBAUD & 0xFFFFFFFF
        if old is not None:
            rate = baud_rate(old)
            if not hung_up:
                encode_baud_rate(t, rate, rate)
            old = None
            continue
        if not hung_up:
            clip = low + 1 if rate <= low else high - 1
            encode_baud_rate(t, clip, clip)
    return rate


# -- glibc and CPython ---------------------------------------------------------------------
def _valid_speed(speed: int) -> bool:
    """glibc cfsetospeed()/cfsetispeed(): ``B`` constants only (BOTHER passes the mask)."""
    return not (speed & ~CBAUD and not (termios.B57600 <= speed <= termios.B4000000))


def py_attributes(t: Ktermios) -> list[Any]:
    """``termios.tcgetattr()``: glibc's speeds are the output ``B`` bits; VMIN and VTIME are
    integers in non-canonical mode only (CPython)."""
    cc: list[Any] = [bytes((c,)) for c in t.cc[:KERNEL_NCCS]]
    cc += [b"\x00"] * (GLIBC_NCCS - KERNEL_NCCS)
    if not t.lflag & termios.ICANON:
        cc[termios.VMIN] = t.cc[termios.VMIN]
        cc[termios.VTIME] = t.cc[termios.VTIME]
    speed = t.cflag & CBAUD
    return [t.iflag, t.oflag, t.cflag, t.lflag, speed, speed, cc]


def _c_long(value: Any) -> int:
    number = operator.index(value)
    if not -(2**63) <= number < 2**63:
        raise OverflowError("Python int too large to convert to C long")
    return number


def check_when(when: Any) -> int:
    """glibc tcsetattr(): TCSANOW/TCSADRAIN/TCSAFLUSH, else EINVAL."""
    value = _c_long(when)
    if value not in (termios.TCSANOW, termios.TCSADRAIN, termios.TCSAFLUSH):
        raise TermiosError(errno.EINVAL)
    return value


def from_py_attributes(current: Ktermios, attributes: Any) -> Ktermios:
    """The new ktermios for ``termios.tcsetattr(fd, when, attributes)`` (before the driver).

    CPython's checks and messages; glibc's speed checks (EINVAL); the kernel's TCSETS,
    which carries no speeds, so BOTHER keeps the speed the tty had.
    """
    if not isinstance(attributes, list) or len(attributes) != 7:
        raise TypeError("tcsetattr, arg 3: must be 7 element list")
    iflag, oflag, cflag, lflag, ispeed, ospeed = (_c_long(v) for v in attributes[:6])
    cc = attributes[6]
    if not isinstance(cc, list) or len(cc) != GLIBC_NCCS:
        raise TypeError(f"tcsetattr: attributes[6] must be {GLIBC_NCCS} element list")
    chars = bytearray()
    for item in cc:
        if isinstance(item, bytes) and len(item) == 1:
            chars.append(item[0])
        elif isinstance(item, int):
            chars.append(_c_long(item) & 0xFF)
        else:
            raise TypeError("tcsetattr: elements of attributes must be characters or integers")
    new = Ktermios(
        iflag & 0xFFFFFFFF,
        oflag & 0xFFFFFFFF,
        cflag & 0xFFFFFFFF,
        lflag & 0xFFFFFFFF,
        current.line,
        chars[:KERNEL_NCCS],
        current.ispeed,
        current.ospeed,
    )
    for speed, is_input in ((ispeed & 0xFFFFFFFF, True), (ospeed & 0xFFFFFFFF, False)):
        if not _valid_speed(speed):
            raise TermiosError(errno.EINVAL)
        if speed or not is_input:  # cfsetispeed(0) only marks "input as output"
            new.cflag = (new.cflag & ~CBAUD & 0xFFFFFFFF) | speed
    new.ispeed = input_baud_rate(new)
    new.ospeed = baud_rate(new)
    return new
