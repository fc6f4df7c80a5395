"""The tty's line discipline (drivers/tty/n_tty.c) and the PL011 driver's status masks.

Received characters arrive with the receiver's flags (`FE`/`PE`/`BE`/`OE`). As
``pl011_fifo_to_tty`` + ``pl011_setup_status_masks`` (drivers/tty/serial/amba-pl011.c) do,
a flag reaches the line discipline only when the termios asks for it: FE/PE with INPCK,
BE with IGNBRK, BRKINT or PARMRK; IGNPAR/IGNBRK drop the character there. n_tty then
gives a flagged character as ``\\0`` (``\\377 \\0 c`` with PARMRK; a break ``\\377 \\0
\\0``), or drops it (IGNPAR, IGNBRK); BRKINT flushes the queues (no controlling terminal,
so no signal). Without INPCK the byte as received comes through: garbage, as on the board.
The mini UART flags nothing (soc-facts §4.2), so its errors are never seen.

Then ISTRIP, IGNCR/ICRNL/INLCR, IXON (VSTART/VSTOP stop and restart output), ISIG
(VINTR/VQUIT/VSUSP flush and are dropped) and, with ICANON, lines: VERASE, VKILL, VEOF,
VEOL/VEOL2 and newline. Output: OPOST with ONLCR, OCRNL, OLCUC.

The read buffer holds 4095 characters (``N_TTY_BUF_SIZE`` less the slot n_tty keeps
free); what does not fit stays in the driver's flip buffer (`uart_tty`). In canonical
mode a full buffer with no complete line takes each new character in place of the last
one, so a newline still ends the line (n_tty's "overflow" case).

Not modelled: echo (ECHO and friends), IUCLC, IXOFF, tab expansion.
"""

from __future__ import annotations

import termios
from collections import deque
from collections.abc import Callable

from ..buses.uart_rx import BE, FE, OE, PE
from ..buses.uart_tty import N_TTY_HOLDS
from .tty_termios import Ktermios

PARMRK_MARK = b"\377\0"


def driver_status(data: bytes, flags: bytes, t: Ktermios) -> list[tuple[int, int]]:
    """pl011_fifo_to_tty(): each character with the status the line discipline sees (BE
    masks FE/PE; FE/PE only with INPCK, BE only with IGNBRK/BRKINT/PARMRK), the ignored
    ones (IGNPAR, IGNBRK; all of them without CREAD) left out."""
    iflag = t.iflag
    if not t.cflag & termios.CREAD:
        return []
    read_mask = OE
    if iflag & termios.INPCK:
        read_mask |= FE | PE
    if iflag & (termios.IGNBRK | termios.BRKINT | termios.PARMRK):
        read_mask |= BE
    ignore = 0
    if iflag & termios.IGNPAR:
        ignore |= FE | PE
    if iflag & termios.IGNBRK:
        ignore |= BE
    out = []
    for value, flag in zip(data, flags, strict=True):
        if flag & BE:
            flag &= ~(FE | PE)
        status = flag & read_mask
        if status & ignore & ~OE:
            continue  # uart_insert_char(): an ignored status drops the character
        out.append((value, status))
    return out


def flagged_as_bytes(data: bytes, flags: bytes, t: Ktermios) -> bytes:
    """What a flagged character becomes before a pty's own line discipline sees it: ``\\0``
    (IGNBRK/IGNPAR already dropped it; BRKINT drops a break). [I] PARMRK marks are not
    made: the pty's n_tty would double their ``\\377``."""
    out = bytearray()
    for value, status in driver_status(data, flags, t):
        if status & BE:
            if not t.iflag & termios.BRKINT:
                out.append(0)
        elif status & (PE | FE):
            out.append(0)
        else:
            out.append(value)
    return bytes(out)


class LineDiscipline:
    """n_tty's read side: what ``read`` returns, what ``select`` and TIOCINQ see."""

    def __init__(
        self, stop_output: Callable[[bool], None], flush_output: Callable[[], None]
    ) -> None:
        self.raw = bytearray()
        """Non-canonical mode: the bytes ready to read."""
        self.lines: deque[bytes] = deque()
        """Canonical mode: completed lines (an EOF alone is an empty line)."""
        self.partial = bytearray()
        self._stop_output = stop_output
        self._flush_output = flush_output

    # -- receiving ------------------------------------------------------------------------
    def receive(self, data: bytes, flags: bytes, t: Ktermios) -> None:
        """Characters from the driver, each with its receive flags, under termios ``t``."""
        for value, status in driver_status(data, flags, t):
            if status & BE:
                self._break(t)
            elif status & (PE | FE):
                self._parity_error(value, t)
            else:
                self._char(value, t)

    def _break(self, t: Ktermios) -> None:
        """n_tty_receive_break()."""
        if t.iflag & termios.IGNBRK:
            return
        if t.iflag & termios.BRKINT:
            self._interrupt(t)
            return
        self._put(PARMRK_MARK + b"\0" if t.iflag & termios.PARMRK else b"\0", t)

    def _parity_error(self, value: int, t: Ktermios) -> None:
        """n_tty_receive_parity_error() (framing errors take the same path)."""
        if t.iflag & termios.IGNPAR:
            return
        if t.iflag & termios.PARMRK:
            self._put(PARMRK_MARK + bytes((value,)), t)
        else:
            self._put(b"\0", t)

    def _interrupt(self, t: Ktermios) -> None:
        """isig(): with no controlling terminal no signal is sent; unless NOFLSH, flush."""
        if not t.lflag & termios.NOFLSH:
            self.flush()
            self._flush_output()

    def _char(self, c: int, t: Ktermios) -> None:
        iflag, lflag, cc = t.iflag, t.lflag, t.cc
        if iflag & termios.ISTRIP:
            c &= 0x7F
        if iflag & termios.IXON:
            if c == cc[termios.VSTOP] and c:
                self._stop_output(True)
                return
            if c == cc[termios.VSTART] and c:
                self._stop_output(False)
                return
            if iflag & termios.IXANY:
                self._stop_output(False)
        if (
            lflag & termios.ISIG
            and c
            and c
            in (
                cc[termios.VINTR],
                cc[termios.VQUIT],
                cc[termios.VSUSP],
            )
        ):
            self._interrupt(t)
            return
        if c == 0x0D:
            if iflag & termios.IGNCR:
                return
            if iflag & termios.ICRNL:
                c = 0x0A
        elif c == 0x0A and iflag & termios.INLCR:
            c = 0x0D
        if c == 0xFF and iflag & termios.PARMRK and not iflag & termios.ISTRIP:
            self._put(b"\377\377", t)  # a real 0xFF is doubled so it reads unlike a mark
            return
        self._put(bytes((c,)), t)

    def _put(self, data: bytes, t: Ktermios) -> None:
        if not t.lflag & termios.ICANON:
            self.raw += data
            return
        cc = t.cc
        for c in data:
            if c and c == cc[termios.VERASE]:
                if self.partial:
                    self.partial.pop()
            elif c and c == cc[termios.VKILL]:
                self.partial.clear()
            elif c and c == cc[termios.VEOF]:
                self.lines.append(bytes(self.partial))  # EOF is not stored
                self.partial.clear()
            elif c == 0x0A or (c and c in (cc[termios.VEOL], cc[termios.VEOL2])):
                if self.held() >= N_TTY_HOLDS and self.partial:
                    self.partial.pop()  # overflow: the line end takes the last slot
                self.partial.append(c)
                self.lines.append(bytes(self.partial))
                self.partial.clear()
            else:
                if self.held() >= N_TTY_HOLDS and self.partial:
                    self.partial.pop()  # overflow: the newest character takes the last slot
                self.partial.append(c)

    def held(self) -> int:
        return len(self.raw) + sum(len(line) for line in self.lines) + len(self.partial)

    def room(self, t: Ktermios) -> int:
        """Characters n_tty takes from the driver now (n_tty_receive_buf_common): the free
        part of its buffer; with none, in canonical mode with no complete line, one at a
        time (each replaces the last, see `_put`)."""
        free = N_TTY_HOLDS - self.held()
        if free > 0:
            return free
        return 1 if t.lflag & termios.ICANON and not self.lines else 0

    # -- reading --------------------------------------------------------------------------
    def available(self, t: Ktermios, poll: bool) -> bool:
        """input_available_p(): a line (ICANON), or VMIN bytes for a select with VTIME 0."""
        if t.lflag & termios.ICANON:
            return bool(self.lines)
        vmin, vtime = t.cc[termios.VMIN], t.cc[termios.VTIME]
        amount = vmin if poll and not vtime and vmin else 1
        return len(self.raw) >= amount

    def inq(self, t: Ktermios) -> int:
        """TIOCINQ: complete lines only in canonical mode (inq_canon)."""
        if t.lflag & termios.ICANON:
            return sum(len(line) for line in self.lines)
        return len(self.raw)

    def take(self, n: int, t: Ktermios) -> tuple[bytes, bool]:
        """Up to ``n`` bytes; the flag says a canonical read is complete (a line ended)."""
        if t.lflag & termios.ICANON:
            if not self.lines:
                return b"", False
            line = self.lines[0]
            if len(line) > n:
                self.lines[0] = line[n:]
                return line[:n], True
            self.lines.popleft()
            return line, True
        out = bytes(self.raw[:n])
        del self.raw[:n]
        return out, False

    def flush(self) -> None:
        self.raw.clear()
        self.lines.clear()
        self.partial.clear()

    def set_termios(self, old: Ktermios, new: Ktermios) -> None:
        """n_tty_set_termios(): leaving ICANON makes the pending text readable at once;
        entering it makes the raw bytes the start of a line."""
        was, now = bool(old.lflag & termios.ICANON), bool(new.lflag & termios.ICANON)
        if was and not now:
            self.raw = bytearray(b"".join(self.lines)) + self.partial
            self.lines.clear()
            self.partial.clear()
        elif now and not was:
            self.partial = self.raw + self.partial
            self.raw = bytearray()


def output_char(c: int, t: Ktermios) -> bytes:
    """n_tty do_output_char() for one byte under OPOST: ONLCR (\\n -> \\r\\n), OCRNL
    (\\r -> \\n), OLCUC (lower case to upper)."""
    oflag = t.oflag
    if not oflag & termios.OPOST:
        return bytes((c,))
    if c == 0x0A and oflag & termios.ONLCR:
        return b"\r\n"
    if c == 0x0D and oflag & termios.OCRNL:
        return b"\n"
    if oflag & termios.OLCUC and 0x61 <= c <= 0x7A:
        return bytes((c - 0x20,))
    return bytes((c,))
