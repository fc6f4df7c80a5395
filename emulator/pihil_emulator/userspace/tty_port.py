"""One UART's tty as the Linux serial core keeps it: termios, modem lines, the line
discipline, and the driver that programs the SoC block (amba-pl011 or 8250_bcm2835aux).

Every open of ``/dev/ttyAMA0`` (and of its ``/dev/serial0`` alias) shares one `TtyPort`,
as every open of a Linux tty shares its ``tty_struct``. Reads and writes follow n_tty:
VMIN/VTIME, O_NONBLOCK, canonical lines; every wait is a wait of the userspace's clock in
simulated time, woken at the instant the driver gets the character that ends it (the
PL011's RX FIFO trigger or receive timeout, buses/uart_rx_delivery.py).

The driver part (``set_termios``): the rate as ``uart_get_baud_rate`` gives it (a rate
the port cannot make keeps the old one), CSIZE/PARENB/PARODD/CMSPAR/CSTOPB into the block
through the kernel's ``uart_set_format``; the mini UART, as 8250's ``UART_CAP_MINI``
does, clears CSTOPB/PARENB/PARODD/CMSPAR and turns CS5/CS6 into CS7 (soc-facts §4.2:
"7-bit or 8-bit operation; 1 start and 1 stop bit; No parities"). CRTSCTS sets the
PL011's CR.CTSEN/RTSEN as ``pl011_set_termios`` does.
"""

from __future__ import annotations

import dataclasses
import errno
import math
import termios
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..buses.uart_line import Alarm
from ..buses.uart_tty import TTY_FLIP_LIMIT
from ..soc.mini_uart import linux_baud_reg
from ..soc.pl011 import pl011_divisors
from .devfs import oserror
from .tty_ldisc import LineDiscipline, output_char
from .tty_termios import CMSPAR, CRTSCTS, Ktermios, baud_rate, uart_get_baud_rate

if TYPE_CHECKING:
    from .session import Userspace

UART_XMIT_SIZE = 4096
"""The serial core's transmit buffer (a page); it holds one byte less."""
CLOSING_WAIT_NS = 30_000_000_000
"""tty_port's closing_wait: the last close waits up to 30 s for the output to drain."""

TIOCM_LE, TIOCM_DTR, TIOCM_RTS = 0x001, 0x002, 0x004
TIOCM_CTS, TIOCM_CAR, TIOCM_RNG, TIOCM_DSR = 0x020, 0x040, 0x080, 0x100
TIOCM_OUT1, TIOCM_OUT2, TIOCM_LOOP = 0x2000, 0x4000, 0x8000
SETTABLE_MCTRL = TIOCM_RTS | TIOCM_DTR | TIOCM_OUT1 | TIOCM_OUT2 | TIOCM_LOOP
"""uart_tiocmset(): the modem bits user space may change."""

_CR_DTR, _CR_RTS, _CR_RTSEN, _CR_CTSEN = 1 << 10, 1 << 11, 1 << 14, 1 << 15

Subscribe = Callable[[Callable[[], None]], Callable[[], None]]


class TtyPort:
    """The tty of one UART of the board (``info`` is the driver's `UartInfo`)."""

    def __init__(self, userspace: Userspace, info: Any) -> None:
        self.us = userspace
        self.info = info
        self.number: int = info.number
        self.mini = info.kind == "mini"
        self.termios = Ktermios.serial_default()
        self.ldisc = LineDiscipline(self._stop_output, self._flush_output)
        self.opens = 0
        self.exclusive = False
        self.mctrl = 0
        self.flock_holder: object | None = None
        self.winsize = b"\0" * 8
        self.serial_flags = 0
        self.tx_count = 0
        self.bridges: list[Any] = []
        """The ptys wired to this port (`pty_bridge`)."""
        controller = userspace.board.profile.buses[info.name].controller
        self.block: Any = userspace.board.soc.block(controller)

    # -- opening and closing ------------------------------------------------------------------
    def open(self) -> None:
        """tty_open(): EBUSY once TIOCEXCL is set; the first open starts the port up."""
        with self.us.lock:
            if self.opens and self.exclusive:
                raise oserror(errno.EBUSY, self.info.linux_device)
            self.opens += 1
            if self.opens > 1:
                return
            self.ldisc.flush()
            self._program(self.termios, None, force=True)
            self.block.discard_input()  # pl011_enable_interrupts() drains the RX FIFO
            if baud_rate(self.termios):
                self.mctrl |= TIOCM_DTR | TIOCM_RTS  # tty_port_raise_dtr_rts()
            self._apply_mctrl()

    def close(self) -> None:
        """The last close waits for the output (closing_wait), flushes it, drops DTR/RTS
        with HUPCL and shuts the port (its break cleared)."""
        with self.us.lock:
            self.opens -= 1
            if self.opens > 0:
                return
            self.wait_until_sent(CLOSING_WAIT_NS)
            self.block.tx.discard_pending()
            if self.termios.cflag & termios.HUPCL:
                self.mctrl &= ~(TIOCM_DTR | TIOCM_RTS)
            self.break_ctl(False)
            self._apply_mctrl()
            self.exclusive = False
            self.flock_holder = None

    # -- the driver: programming the block -------------------------------------------------------
    def set_termios(self, new: Ktermios, *, flush: bool = False, wait: bool = False) -> None:
        """tty_ioctl set_termios(): TCSETSF flushes input, TCSETSW drains output first."""
        with self.us.lock:
            self._ingest()  # what arrived so far went through the old settings
            if flush:
                self.flush_input()
            if wait:
                self.wait_until_sent()
            old = self.termios
            self._program(new, old)
            self.ldisc.set_termios(old, new)
            if baud_rate(old) and not baud_rate(new):
                self.mctrl &= ~(TIOCM_DTR | TIOCM_RTS)  # B0: hang up
            elif not baud_rate(old) and baud_rate(new):
                self.mctrl |= TIOCM_DTR | TIOCM_RTS
            self.termios = new
            self._apply_mctrl()

    def _program(self, t: Ktermios, old: Ktermios | None, *, force: bool = False) -> None:
        """The driver's set_termios: rate and frame into the block (``t`` may be changed as
        the driver changes it); ``force`` at startup."""
        block = self.block
        if self.mini:
            t.cflag &= ~(termios.CSTOPB | termios.PARENB | termios.PARODD | CMSPAR)
            if t.cflag & termios.CSIZE in (termios.CS5, termios.CS6):
                t.cflag = (t.cflag & ~termios.CSIZE) | termios.CS7
            uartclk = 2 * int(block.core_clock_hz)  # 8250_bcm2835aux: "multiply ... by 2"
            low, high = uartclk // 16 // 0xFFFF, (uartclk + uartclk // 100) // 16
        else:
            low, high = 0, int(block.uartclk_hz) // 16
        rate = uart_get_baud_rate(t, old, low, high)
        size = t.cflag & termios.CSIZE
        bits = {termios.CS5: 5, termios.CS6: 6, termios.CS7: 7}.get(size, 8)
        parity = "none"
        if t.cflag & termios.PARENB:
            odd = bool(t.cflag & termios.PARODD)
            stick = bool(t.cflag & CMSPAR)
            parity = ("mark" if odd else "space") if stick else ("odd" if odd else "even")
        stop = 2 if t.cflag & termios.CSTOPB else 1
        kernel = self.us.kernel
        fmt = kernel.uart_get_format(self.number)
        now = (fmt.baud_rate, fmt.data_bits, fmt.parity.name.lower(), fmt.stop_bits)
        if (not force and now == (rate, bits, parity, stop)) or not self._divisor_fits(rate):
            return  # uart_set_termios(): nothing the hardware uses changed
        kernel.uart_set_format(
            self.number,
            dataclasses.replace(
                fmt,
                baud_rate=rate,
                data_bits=bits,
                parity=type(fmt.parity)[parity.upper()],
                stop_bits=stop,
            ),
        )

    def _divisor_fits(self, rate: int) -> bool:
        """Whether the block's divisor register holds the rate's divisor. [I] Linux would
        write it truncated; such rates (below ~46 baud on the PL011) keep the old setting."""
        if self.mini:
            return bool(linux_baud_reg(int(self.block.core_clock_hz), rate) <= 0xFFFF)
        ibrd, _ = pl011_divisors(int(self.block.uartclk_hz), rate)
        return 1 <= ibrd <= 0xFFFF

    def _apply_mctrl(self) -> None:
        """set_mctrl: the PL011's CR DTR/RTS (with CRTSCTS: CTSEN, and RTSEN while RTS is
        set), or the mini UART's MCR RTS bit."""
        block = self.block
        if self.mini:
            block.write("AUX_MU_MCR_REG", 0x2 if self.mctrl & TIOCM_RTS else 0)
            return
        cr = block.read("CR") & ~(_CR_DTR | _CR_RTS | _CR_RTSEN | _CR_CTSEN)
        if self.mctrl & TIOCM_DTR:
            cr |= _CR_DTR
        if self.mctrl & TIOCM_RTS:
            cr |= _CR_RTS
        if self.termios.cflag & CRTSCTS:
            cr |= _CR_CTSEN | (_CR_RTSEN if self.mctrl & TIOCM_RTS else 0)
        if cr != block.read("CR"):
            block.write("CR", cr)

    def get_mctrl(self) -> int:
        """TIOCMGET: the output bits set, and the inputs as the driver reads them (PL011 FR
        CTS/DSR/DCD/RI; the mini UART's MSR in the 16550 layout, whose bit 5, the inverse of
        UART1_CTS, 8250 reads as DSR)."""
        with self.us.lock:
            result = self.mctrl
            if self.mini:
                msr = self.block.read("AUX_MU_MSR_REG")
                bits = ((0x10, TIOCM_CTS), (0x20, TIOCM_DSR), (0x40, TIOCM_RNG), (0x80, TIOCM_CAR))
            else:
                msr = self.block.read("FR")
                bits = ((1 << 0, TIOCM_CTS), (1 << 1, TIOCM_DSR), (1 << 2, TIOCM_CAR), (1 << 8, TIOCM_RNG))  # fmt: skip
            for bit, flag in bits:
                if msr & bit:
                    result |= flag
            return result

    def set_mctrl(self, set_bits: int, clear_bits: int) -> None:
        with self.us.lock:
            self.mctrl = (self.mctrl & ~(clear_bits & SETTABLE_MCTRL)) | (set_bits & SETTABLE_MCTRL)
            self._apply_mctrl()

    def break_ctl(self, on: bool) -> None:
        """pl011_break_ctl (LCRH.BRK) / 8250 break_ctl (the mini UART's LCR bit 6)."""
        with self.us.lock:
            reg, bit = ("AUX_MU_LCR_REG", 0x40) if self.mini else ("LCRH", 0x01)
            value = self.block.read(reg)
            new = value | bit if on else value & ~bit
            if new != value:
                self.block.write(reg, new)

    # -- waiting in simulated time ---------------------------------------------------------------
    def _wait(self, deadline_ns: int | None, ready: Callable[[], bool], sub: Subscribe) -> bool:
        clock = self.us.clock
        if not clock.registered():
            return ready()  # a thread outside the userspace looks once
        return clock.block(deadline_ns, ready, sub)

    def _input_subscription(self, poll: bool) -> Subscribe:
        """Wake the waiter when the driver next gets characters (the PL011's RX trigger or
        receive timeout, the mini UART's each character: the port's `UartTty.next_delivery_ns`),
        looking again then if that did not make input available."""
        rx = self.block.rx

        def subscribe(wake: Callable[[], None]) -> Callable[[], None]:
            live = [True]

            def news() -> None:
                tty = self.block.tty
                when = rx.time_of(0) if tty is None else tty.next_delivery_ns()
                if when is not None and live[0]:
                    alarm.at(when)

            def ring() -> None:
                if not live[0]:
                    return
                if self.input_ready(poll):
                    wake()
                else:
                    news()

            alarm = Alarm(self.us.world, ring)
            undo = rx.subscribe(news)
            news()

            def unsubscribe() -> None:
                live[0] = False
                undo()

            return unsubscribe

        return subscribe

    def _drain_subscription(self, wake: Callable[[], None]) -> Callable[[], None]:
        event = self.block.tx.drained()

        def fire(_event: object) -> None:
            wake()

        event.callbacks.append(fire)
        return lambda: event.callbacks.remove(fire) if fire in (event.callbacks or ()) else None

    def wait_until_sent(self, timeout_ns: int | None = None) -> bool:
        """tty_wait_until_sent(): until the last stop bit has left (tcdrain)."""
        with self.us.lock:
            tx = self.block.tx
            deadline = None if timeout_ns is None else self.us.clock.now_ns + timeout_ns
            return self._wait(deadline, lambda: not tx.busy(), self._drain_subscription)

    # -- input ---------------------------------------------------------------------------
    def take_raw(self) -> tuple[bytes, bytes]:
        """The characters received so far and their flags, taken from the driver's buffer."""
        tty = self.block.tty
        if tty is None:
            return b"", b""
        tty.in_waiting()
        room = self.ldisc.room(self.termios)
        data, flags = bytes(tty.buffer[:room]), bytes(tty.flags[:room])
        del tty.buffer[:room]
        del tty.flags[:room]
        # flush_to_ldisc() runs as characters arrive: until the next read, what the driver
        # holds is the flip buffer plus the room left in this line discipline
        tty.capacity = TTY_FLIP_LIMIT + max(0, room - len(data))
        return data, flags

    def _ingest(self) -> None:
        """Characters the interrupt handler has received so far, through the line discipline.

        As flush_to_ldisc does, until the driver's buffer is empty or n_tty takes no more (a
        full canonical buffer with no line takes one character at a time, `room`)."""
        while True:
            data, flags = self.take_raw()
            if not data:
                return
            self.ldisc.receive(data, flags, self.termios)
            tty = self.block.tty
            if tty is None or not tty.buffer:
                return

    def input_ready(self, poll: bool = True) -> bool:
        with self.us.lock:
            self._ingest()
            return self.ldisc.available(self.termios, poll)

    def in_waiting(self) -> int:
        with self.us.lock:
            self._ingest()
            return self.ldisc.inq(self.termios)

    def read(self, n: int, nonblock: bool) -> bytes:
        """n_tty_read(): canonical lines, or VMIN/VTIME (tenths of a simulated second)."""
        with self.us.lock:
            t = self.termios
            canon = bool(t.lflag & termios.ICANON)
            minimum, inter_byte, timeout = 0, 0, None
            if not canon:
                vmin, vtime = t.cc[termios.VMIN], t.cc[termios.VTIME]
                if vmin:
                    minimum, inter_byte = vmin, vtime * 100_000_000
                else:
                    minimum, timeout = 1, vtime * 100_000_000
            out = bytearray()
            while len(out) < n:
                if not self.input_ready(poll=False):
                    if timeout == 0:
                        break
                    if nonblock:
                        if not out:
                            raise oserror(errno.EAGAIN)
                        break
                    start = self.us.clock.now_ns
                    deadline = None if timeout is None else start + timeout
                    got = self._wait(
                        deadline, lambda: self.input_ready(False), self._input_subscription(False)
                    )
                    if timeout is not None:
                        timeout = max(0, timeout - (self.us.clock.now_ns - start))
                    if not got and (timeout == 0 or not self.us.clock.registered()):
                        break
                    continue
                chunk, _ = self.ldisc.take(n - len(out), t)
                out += chunk
                if canon or len(out) >= minimum:
                    break
                if inter_byte:
                    timeout = inter_byte
            return bytes(out)

    def flush_input(self) -> None:
        with self.us.lock:
            self.block.discard_input()
            self.ldisc.flush()

    # -- output ---------------------------------------------------------------------------
    def _room(self) -> int:
        """Free space of the transmit buffer (the FIFO's characters are not in it)."""
        pending = max(0, int(self.block.tx.queued()) - int(self.block.fifo_depth))
        return max(0, UART_XMIT_SIZE - 1 - pending)

    def write(self, data: bytes, nonblock: bool) -> int:
        """n_tty_write(): OPOST, then into the transmit buffer; blocks while it is full (a
        non-blocking write takes what fits, EAGAIN when nothing does)."""
        with self.us.lock:
            done = 0
            while True:
                room, out = self._room(), bytearray()
                while done < len(data):
                    piece = output_char(data[done], self.termios)
                    if len(out) + len(piece) > room:
                        break
                    out += piece
                    done += 1
                if out:
                    self.block.write_bytes(bytes(out))
                    self.tx_count += len(out)
                if done == len(data):
                    return done
                if nonblock and done:
                    return done
                self._wait_for_room()
                if nonblock:
                    # a program polling a full buffer spends the time a character takes
                    raise oserror(errno.EAGAIN)

    def _wait_for_room(self) -> None:
        tx = self.block.tx
        if tx.holds:
            self._wait(None, lambda: self._room() > 0, self._drain_subscription)
            return
        step = math.ceil(tx.settings.frame_ns) + 1
        self._wait(self.us.clock.now_ns + step, lambda: self._room() > 0, lambda _w: lambda: None)

    def flush_output(self) -> None:
        """TCOFLUSH: what has not started is dropped. [I] The model's TX FIFO goes too; Linux
        empties only the transmit buffer."""
        with self.us.lock:
            self.block.tx.discard_pending()

    def _flush_output(self) -> None:
        self.block.tx.discard_pending()

    def _stop_output(self, stop: bool) -> None:
        """IXON's VSTOP/VSTART (and tcflow TCOOFF/TCOON): stop_tty()/start_tty()."""
        if stop:
            self.block.tx.hold("stopped")
        else:
            self.block.tx.release("stopped")

    def flow(self, action: int) -> None:
        """TCXONC: TCOOFF/TCOON stop and restart output, TCIOFF/TCION send VSTOP/VSTART."""
        with self.us.lock:
            if action == termios.TCOOFF:
                self._stop_output(True)
            elif action == termios.TCOON:
                self._stop_output(False)
            elif action in (termios.TCIOFF, termios.TCION):
                index = termios.VSTOP if action == termios.TCIOFF else termios.VSTART
                char = self.termios.cc[index]
                if char:
                    self.block.write_bytes(bytes((char,)))
            else:
                raise oserror(errno.EINVAL)

    def send_break(self, duration_ms: int) -> None:
        """send_break(): drain, break on, hold ``duration_ms`` of simulated time, off."""
        with self.us.lock:
            self.wait_until_sent()
            self.break_ctl(True)
            try:
                if self.us.clock.registered():
                    self.us.clock.sleep_ns(duration_ms * 1_000_000)
            finally:
                self.break_ctl(False)

    def error_counts(self) -> dict[str, int]:
        with self.us.lock:
            return dict(self.block.error_counts())

    def received(self) -> int:
        with self.us.lock:
            tty = self.block.tty
            return 0 if tty is None else int(tty.received)
