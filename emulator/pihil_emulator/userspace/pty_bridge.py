"""``Userspace.pty(name)``: a real pseudo-terminal wired to a board UART, for programs
outside Python (``cat``, minicom, gpsd, a C test program) on its slave end.

What the bridge does:

- **Bytes.** The UART's received bytes go to the pty master (so the program reads them
  from the slave, through the pty's own line discipline: its termios, set by the program,
  decide canonical mode, echo, ICRNL, as the board's tty would); a character received with
  a framing/parity error or a break becomes ``\\0`` or is dropped per the slave's
  INPCK/IGNPAR/IGNBRK/BRKINT (`tty_ldisc.flagged_as_bytes`). What the program writes to
  the slave (after the pty's OPOST) goes out on the UART's TX, as fast as the UART's
  transmit buffer takes it (a full buffer blocks the program's writes). A baud rate or
  frame format the program sets on the slave (``tcsetattr``, ``stty``, ``minicom -b``) is
  applied to the UART like a ``tcsetattr`` on the board tty.
- **Time.** The program runs on the wall clock; the board on simulated time. While a pty is
  open the board is *paced*: simulated time never runs ahead of the wall clock (× ``pace``)
  by more than a tick. A SimPy process of the bridge runs every millisecond of simulated
  time: it moves the bytes, then, if simulated time is ahead, waits on the wall clock (in a
  ``select`` on the master, so the program's output is taken as soon as it comes).
  Whoever runs the world (a ``time.sleep`` of the test, a pyserial read) thus runs it at
  wall speed. When nobody runs it (the test blocks in ``subprocess.run``,
  ``proc.communicate`` or ``proc.wait``, calls the clock does not know), a bridge thread
  outside the clock advances the world itself up to the wall clock, under the session
  lock, as time passes on a real board while a process waits in a system call.

Runs are not deterministic (the program's timing is the wall clock's); keep tests on a pty
to what a slow machine cannot change (a whole line arrives, a reply comes back).
Not modelled: a break written by the program (a pty has no break), modem lines, PARMRK marks.
"""

from __future__ import annotations

import _thread
import contextlib
import errno
import fcntl
import os
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from ..world.clock import NS_PER_S
from .clock import ORIGINAL_PERF_COUNTER
from .devfs import ORIGINAL_CLOSE, ORIGINAL_FCNTL, ORIGINAL_READ, ORIGINAL_SELECT, ORIGINAL_WRITE
from .termios_patches import ORIGINAL_TCGETATTR, ORIGINAL_TCSETATTR, ORIGINAL_TTYNAME
from .tty_dev import ports_of, resolve
from .tty_ldisc import flagged_as_bytes
from .tty_termios import CBAUD, Ktermios, baud_of_bits, py_attributes

if TYPE_CHECKING:
    from .session import Userspace
    from .tty_port import TtyPort

TICK_NS = 1_000_000
"""How often (simulated) the bridge moves bytes and checks the pace."""
TICK_S = TICK_NS / NS_PER_S


class PtyBridge:
    """One pty wired to one board UART (see the module docstring)."""

    def __init__(self, userspace: Userspace, port: TtyPort, *, pace: float = 1.0) -> None:
        if not pace > 0:
            raise ValueError(f"pace is simulated seconds per wall second, > 0; got {pace!r}")
        self.us = userspace
        self.port = port
        self.pace = float(pace)
        self.master, self.slave = os.openpty()
        self.path = ORIGINAL_TTYNAME(self.slave)
        flags = ORIGINAL_FCNTL(self.master, fcntl.F_GETFL)
        ORIGINAL_FCNTL(self.master, fcntl.F_SETFL, flags | os.O_NONBLOCK)
        ORIGINAL_TCSETATTR(self.slave, 0, py_attributes(port.termios))
        self._slave_cflag = ORIGINAL_TCGETATTR(self.slave)[2]
        self._to_slave = bytearray()
        self.closed = False
        self.error: BaseException | None = None
        with userspace.lock:
            port.open()
            self.sim0 = userspace.clock.now_ns
            self.wall0 = ORIGINAL_PERF_COUNTER()
            self._process = userspace.world.process(self._pacer())
        # a wall-clock thread, not one of the clock's: started and joined with the low-level
        # primitives, as threading.Thread.start waits on an Event (which the clock runs)
        self._running = _thread.allocate_lock()
        self._running.acquire()
        _thread.start_new_thread(self._run_then_release, ())

    # -- pacing ---------------------------------------------------------------------------
    def _wall_target_ns(self) -> int:
        """Where the wall clock says the board should be (the userspace's own pace, when it
        was entered paced: then its clock already keeps jumps to the wall)."""
        clock = self.us.clock
        if clock.pace is not None:
            return clock.start_ns + int(clock.wall_elapsed_s() * clock.pace * NS_PER_S)
        return self.sim0 + int((ORIGINAL_PERF_COUNTER() - self.wall0) * self.pace * NS_PER_S)

    def _pacer(self) -> Generator[simpy.Event, None, None]:
        world = self.us.world
        while not self.closed:
            self._pump()
            ahead_s = (world.now_ns - self._wall_target_ns()) / NS_PER_S / self.pace
            while ahead_s > 0 and not self.closed and self.us.clock.pace is None:
                ORIGINAL_SELECT([self.master], [], [], min(ahead_s, 0.05))
                self._pump()
                ahead_s = (world.now_ns - self._wall_target_ns()) / NS_PER_S / self.pace
            yield world.timeout(TICK_NS)

    def _run_then_release(self) -> None:
        try:
            self._run()
        finally:
            self._running.release()

    def _run(self) -> None:
        """Advance the world to the wall clock whenever nobody else runs it."""
        world = self.us.world
        never = world.event()
        while not self.closed:
            ORIGINAL_SELECT([self.master], [], [], TICK_S)
            if not self.us.lock.acquire(timeout=TICK_S):
                continue  # someone runs the world (paced) or touches the board
            try:
                if self.closed:
                    return
                self._pump()
                lag = self._wall_target_ns() - world.now_ns
                if lag > 0:
                    with contextlib.suppress(TimeoutError):
                        world.run_until(never, limit_ns=lag)
            except BaseException as exc:  # a fault while time ran: reported on close
                self.error = exc
                self.closed = True
                return
            finally:
                self.us.lock.release()

    # -- moving bytes -----------------------------------------------------------------------
    def _pump(self) -> None:
        with self.us.lock:
            self._follow_slave_termios()
            self._to_uart()
            self._to_program()

    def _follow_slave_termios(self) -> None:
        """A rate or frame the program set on the slave goes to the UART."""
        _i, _o, cflag, _l, _ispeed, ospeed, _cc = ORIGINAL_TCGETATTR(self.slave)
        if cflag == self._slave_cflag:
            return
        self._slave_cflag = cflag
        new = self.port.termios.copy()
        new.cflag = cflag
        new.ospeed = new.ispeed = baud_of_bits(ospeed & CBAUD, new.ospeed)
        self.port.set_termios(new)

    def _to_uart(self) -> None:
        room = self.port._room()
        if room <= 0:
            return
        try:
            data = ORIGINAL_READ(self.master, room)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EIO):
                return
            raise
        if data:
            self.port.block.write_bytes(data)
            self.port.tx_count += len(data)

    def _to_program(self) -> None:
        if not self._to_slave:
            data, flags = self.port.take_raw()
            if data:
                slave = Ktermios(*ORIGINAL_TCGETATTR(self.slave)[:4])
                self._to_slave += flagged_as_bytes(data, flags, slave)
        if self._to_slave:
            try:
                n = ORIGINAL_WRITE(self.master, bytes(self._to_slave))
            except BlockingIOError:
                return
            del self._to_slave[:n]

    # -- closing ----------------------------------------------------------------------------
    def close(self) -> None:
        """Stop the bridge, close the pty, release the UART; raise what failed while it ran."""
        if self.master < 0:
            return
        self.closed = True
        if self._running.acquire(timeout=5.0):
            self._running.release()
        with self.us.lock:
            self.port.close()
        for fd in (self.master, self.slave):
            ORIGINAL_CLOSE(fd)
        self.master = self.slave = -1
        if self in self.port.bridges:
            self.port.bridges.remove(self)
        if self.error is not None:
            raise self.error


def open_pty(userspace: Userspace, name: str, *, pace: float = 1.0) -> str:
    """A pty wired to UART ``name`` (``uart0``, ``serial0``, ``/dev/ttyAMA0``); returns the
    slave's path. Closed when the userspace is left (or by `close_pty`)."""
    if not userspace.entered:
        raise RuntimeError("Userspace.pty() works inside the userspace's with block")
    port = resolve(userspace, name)
    bridge = PtyBridge(userspace, port, pace=pace)
    port.bridges.append(bridge)
    return bridge.path


def bridges_of(userspace: Userspace) -> list[PtyBridge]:
    """The ptys open in ``userspace``."""
    return [b for port in ports_of(userspace).values() for b in port.bridges]


def close_pty(userspace: Userspace, path: str) -> None:
    for bridge in bridges_of(userspace):
        if bridge.path == path:
            bridge.close()


def close_all(userspace: Userspace, *_: Any) -> None:
    """Leaving the userspace: every pty it opened is closed."""
    first: BaseException | None = None
    for bridge in bridges_of(userspace):
        try:
            bridge.close()
        except BaseException as exc:
            first = first or exc
    if first is not None:
        raise first
