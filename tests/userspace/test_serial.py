"""pyserial and termios on the board's serial ports: /dev/ttyAMA0 (PL011), /dev/ttyS0 (mini
UART) and /dev/serial0, as the Linux tty layer answers them (soc-facts §4.2), on simulated
time. pyserial's POSIX backend runs unchanged: its os.open/termios/ioctl/select calls reach
the emulated UART block, so a wrong baud rate gives garbage and framing errors as on the board.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import os
import struct
import termios
import threading
import time
from collections.abc import Iterator

import pynmea2  # type: ignore[import-untyped]
import pytest
import serial

from pihil_emulator.buses.uart_faults import UartNoise
from pihil_emulator.buses.uart_line import LineSettings
from pihil_emulator.devices.console import Console
from pihil_emulator.devices.nmea_gps import NmeaGps
from pihil_emulator.userspace.tty_dev import ICOUNTER, TIOCGICOUNT
from rpiboard_pihil import RpiBoard

NS = 1_000_000_000


@pytest.fixture
def mirkopc() -> Iterator[RpiBoard]:
    """The MirkoPC with its test jig: UART0 TXD-RXD loopback wire on J8-08/J8-10."""
    board = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
    yield board
    board.close()


def _unplug_loopback(board: RpiBoard) -> None:
    emulator = board.simulation.emulator
    for wire in list(emulator.circuit.wires):
        if {wire.a.name, wire.b.name} == {"GPIO14", "GPIO15"}:
            board.simulation.disconnect(wire)


@pytest.fixture
def gps_board(mirkopc: RpiBoard) -> NmeaGps:
    """The MirkoPC with the loopback removed and a 9600-baud NMEA GPS on UART0."""
    _unplug_loopback(mirkopc)
    gps = NmeaGps("gps")
    mirkopc.simulation.attach(gps, bus="uart0")
    return gps


@pytest.fixture
def rpi4b() -> Iterator[RpiBoard]:
    board = RpiBoard("local", options={"simulate": True, "board": "rpi-4b"})
    yield board
    board.close()


# -- pyserial on the PL011 ---------------------------------------------------------------------
def test_gps_sentences_read_with_pyserial_and_pynmea2(
    mirkopc: RpiBoard, gps_board: NmeaGps
) -> None:
    """A plain pyserial + pynmea2 reader on /dev/serial0 (soc-facts §4.2: serial0 is the
    primary UART, the PL011 with dtoverlay=disable-bt on the MirkoPC) gets valid sentences,
    one RMC+GGA pair per simulated second."""
    with mirkopc.simulation.userspace():
        with serial.Serial("/dev/serial0", 9600, timeout=1) as port:
            assert port.name == "/dev/serial0"
            messages: list[pynmea2.NMEASentence] = []
            t0 = time.monotonic()
            while len(messages) < 4:
                line = port.readline().decode("ascii")
                messages.append(pynmea2.parse(line.strip(), check=True))
            elapsed = time.monotonic() - t0
        assert [m.sentence_type for m in messages] == ["RMC", "GGA", "RMC", "GGA"]
        assert messages[0].latitude == pytest.approx(gps_board.fix.latitude, abs=1e-5)
        assert int(messages[1].num_sats) == gps_board.fix.satellites
        assert 1.0 < elapsed < 2.0  # the second pair comes one simulated second later
    errors = mirkopc.simulation.emulator.soc.blocks["uart0"].error_counts()
    assert errors == {"framing": 0, "parity": 0, "overrun": 0, "break": 0, "buf_overrun": 0}


def test_ttyama0_loopback_write_read_in_waiting_and_reset(mirkopc: RpiBoard) -> None:
    """/dev/ttyAMA0 is the PL011 (soc-facts §4.2); the jig's loopback wire returns what is
    written, each byte arriving 10 bit times (8N1) after it starts."""
    with mirkopc.simulation.userspace() as space:
        with serial.Serial("/dev/ttyAMA0", 9600, timeout=1) as port:
            t0 = time.monotonic()
            assert port.write(b"hello\n") == 6
            assert port.read(6) == b"hello\n"
            # the PL011's receive timeout hands the 6 bytes over 32 bit periods after the last
            # stop bit (amba-pl011 pl011_int; they stay below the RX trigger of 16)
            assert time.monotonic() - t0 == pytest.approx((6 * 10 - 0.5 + 32) / 9600, rel=0.01)
            port.write(b"0123456789")
            time.sleep(0.005)  # 4.8 characters' time at 9600 8N1
            assert port.in_waiting == 0  # 4 received, still in the FIFO below its trigger
            time.sleep(0.01)  # past the 10th stop bit + 32 bit periods (13.7 ms)
            assert port.in_waiting == 10
            port.reset_input_buffer()
            assert port.in_waiting == 0
            assert port.read(1) == b""
        assert space.wall_s < 5


def test_timeout_is_simulated_time(mirkopc: RpiBoard) -> None:
    """pyserial's timeout (select on the fd) runs on the board's clock: 2.5 simulated seconds
    pass at once; nothing sleeps on the wall clock."""
    with mirkopc.simulation.userspace() as space:
        with serial.Serial("/dev/serial0", 115200, timeout=2.5) as port:
            start_ns = mirkopc.simulation.now_ns
            t0 = time.monotonic()
            assert port.read(10) == b""
            assert time.monotonic() - t0 == pytest.approx(2.5, abs=1e-6)
            assert mirkopc.simulation.now_ns - start_ns == pytest.approx(2.5 * NS, abs=1e4)
        assert space.wall_s < 2.0


def test_out_waiting_excludes_the_fifo_and_flush_drains(mirkopc: RpiBoard) -> None:
    """TIOCOUTQ counts the serial core's transmit buffer, not the PL011's 32-deep TX FIFO
    (soc-facts §4.2); tcdrain (flush) returns when the last stop bit has left."""
    with mirkopc.simulation.userspace(), serial.Serial("/dev/ttyAMA0", 9600, timeout=1) as port:
        port.write(bytes(100))
        assert port.out_waiting == 100 - 1 - 32  # one started, 32 in the FIFO
        t0 = time.monotonic()
        port.flush()
        assert time.monotonic() - t0 == pytest.approx(100 * 10 / 9600, rel=0.02)
        assert port.out_waiting == 0


def test_reader_thread_while_main_sleeps(mirkopc: RpiBoard, gps_board: NmeaGps) -> None:
    """A threading.Thread reading lines while the main thread sleeps: both on the board's
    clock, the thread gets every sentence sent by then."""
    with mirkopc.simulation.userspace():
        lines: list[str] = []
        stop = threading.Event()
        port = serial.Serial("/dev/serial0", 9600, timeout=0.2)

        def reader() -> None:
            while not stop.is_set():
                line = port.readline()
                if line:
                    lines.append(line.decode("ascii").strip())

        thread = threading.Thread(target=reader)
        thread.start()
        time.sleep(2.5)
        stop.set()
        thread.join(timeout=5)
        port.close()
        assert not thread.is_alive()
    assert gps_board.sent_seconds >= 3
    kinds = [pynmea2.parse(line, check=True).sentence_type for line in lines]
    assert kinds == ["RMC", "GGA"] * (len(kinds) // 2)
    assert len(kinds) // 2 in (gps_board.sent_seconds, gps_board.sent_seconds - 1)


def test_wrong_baud_gives_garbage_and_framing_errors(mirkopc: RpiBoard, gps_board: NmeaGps) -> None:
    """At 19200 the 9600-baud GPS is garbage with framing errors, as on a real board; the
    counts reach TIOCGICOUNT as the serial core keeps them."""
    with mirkopc.simulation.userspace():
        with serial.Serial("/dev/serial0", 19200, timeout=1.5) as port:
            data = port.read(60)
            raw = bytearray(ICOUNTER.size)

            fcntl.ioctl(port.fd, TIOCGICOUNT, raw)
        counts = ICOUNTER.unpack(raw)
    assert len(data) == 60
    assert b"$GP" not in data
    frame = counts[6]
    assert frame > 0
    errors = mirkopc.simulation.emulator.soc.blocks["uart0"].error_counts()
    assert errors["framing"] >= frame


def test_send_break_reaches_the_line(mirkopc: RpiBoard) -> None:
    """send_break(0.25) is tcsendbreak(fd, 1): glibc's TCSBRKP with (1 + 99) // 100 = 1, a
    100 ms break. Through the loopback the PL011 sees one break (soc-facts §4.2: "only one 0
    character is loaded into the FIFO"); without BRKINT/IGNBRK/PARMRK the kernel passes
    the 0x00 as data; with PARMRK it marks it as \\377 \\0 \\0 (n_tty_receive_break)."""
    with mirkopc.simulation.userspace():
        block = mirkopc.simulation.emulator.soc.blocks["uart0"]
        with serial.Serial("/dev/ttyAMA0", 9600, timeout=0.5) as port:
            t0 = time.monotonic()
            port.send_break(0.25)
            assert time.monotonic() - t0 == pytest.approx(0.100, abs=1e-6)
            assert port.read(5) == b"\x00"
            assert block.error_counts()["break"] == 1
            attrs = termios.tcgetattr(port.fd)
            attrs[0] |= termios.PARMRK
            termios.tcsetattr(port.fd, termios.TCSANOW, attrs)
            termios.tcsendbreak(port.fd, 0)  # 0: TCSBRK 0, 250 ms
            assert port.read(5) == b"\xff\x00\x00"
            assert block.error_counts()["break"] == 2


def test_break_seen_by_the_far_end(mirkopc: RpiBoard) -> None:
    """The other end of the line (a console at 9600) decodes the break: a 0x00 with BE."""
    _unplug_loopback(mirkopc)
    console = Console(LineSettings(9600))
    console.echo = False
    mirkopc.simulation.attach(console, bus="uart0")
    with mirkopc.simulation.userspace(), serial.Serial("/dev/serial0", 9600) as port:
        port.write(b"A")
        port.send_break(0.25)
        time.sleep(0.01)  # the far end decodes the break frame as the line goes high
    assert [c.value for c in console.log] == [0x41, 0x00]
    assert console.log[1].flags & 0x4  # BE


def test_noise_corrupts_bytes(mirkopc: RpiBoard, gps_board: NmeaGps) -> None:
    """UART noise on RXD (buses/uart_faults.py) during the first second of GPS output
    corrupts the received bytes; pynmea2 rejects damaged sentences; the next second is clean."""
    mirkopc.simulation.inject(
        UartNoise(at_ns=0, duration_ns=500_000_000, line="GPIO15", glitches_per_ms=2, seed=7)
    )
    with (
        mirkopc.simulation.userspace(),
        serial.Serial("/dev/serial0", 9600, timeout=1.5) as port,
    ):
        data = port.read(100_000)  # what came in 1.5 simulated seconds
    start = gps_board.utc_at_zero
    second0 = b"".join(gps_board.sentences(start))
    second1 = b"".join(gps_board.sentences(start + dt.timedelta(seconds=1)))
    assert data.endswith(second1)
    noisy = data[: -len(second1)]
    assert noisy != second0
    rejected = 0
    for line in noisy.split(b"\r\n"):
        try:
            pynmea2.parse(line.decode("latin-1"), check=True)
        except (pynmea2.ParseError, pynmea2.ChecksumError, ValueError):
            rejected += 1
    assert rejected >= 1


# -- termios: what Linux answers --------------------------------------------------------------
def test_tcsetattr_invalid_speed_is_einval_like_a_real_tty(mirkopc: RpiBoard) -> None:
    """glibc's cfsetospeed refuses a speed that is no B constant with EINVAL (a real pty
    here answers the same); a B rate the PL011 cannot make (B4000000 > UARTCLK/16 = 3 MBd,
    soc-facts §4.2) is accepted and the old rate kept, as serial_core's uart_get_baud_rate
    does."""
    master, slave = os.openpty()
    try:
        real = termios.tcgetattr(slave)
        real[4] = real[5] = 9600  # the number, not termios.B9600
        with pytest.raises(termios.error) as expected:
            termios.tcsetattr(slave, termios.TCSANOW, real)
    finally:
        os.close(master)
        os.close(slave)
    with mirkopc.simulation.userspace():
        fd = os.open("/dev/ttyAMA0", os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        try:
            attrs = termios.tcgetattr(fd)
            assert attrs[4] == attrs[5] == termios.B9600  # the serial core's initial 9600
            attrs[4] = attrs[5] = 9600
            with pytest.raises(termios.error) as got:
                termios.tcsetattr(fd, termios.TCSANOW, attrs)
            assert got.value.args == expected.value.args
            assert got.value.args[0] == errno.EINVAL
            with pytest.raises(termios.error) as bad_when:
                termios.tcsetattr(fd, 7, termios.tcgetattr(fd))
            assert bad_when.value.args[0] == errno.EINVAL
            attrs = termios.tcgetattr(fd)
            attrs[4] = attrs[5] = termios.B4000000
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
            assert termios.tcgetattr(fd)[4] == termios.B9600
            assert mirkopc.uarts[0].baud_rate == 9600
            attrs[4] = attrs[5] = termios.B115200
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
            assert termios.tcgetattr(fd)[5] == termios.B115200
            assert mirkopc.uarts[0].baud_rate == 115200
            with pytest.raises(TypeError, match="7 element list"):
                termios.tcsetattr(fd, termios.TCSANOW, attrs[:6])
            with pytest.raises(termios.error) as flush:
                termios.tcflush(fd, 9)
            assert flush.value.args[0] == errno.EINVAL
        finally:
            os.close(fd)


def test_custom_baud_through_tcsets2(mirkopc: RpiBoard) -> None:
    """pyserial sets a non-standard rate with TCSETS2/BOTHER; the PL011 runs at it (the
    divisor from 48 MHz, soc-facts §4.2)."""
    with (
        mirkopc.simulation.userspace(),
        serial.Serial("/dev/ttyAMA0", 250_000, timeout=1) as port,
    ):
        assert mirkopc.uarts[0].baud_rate == 250_000
        assert termios.tcgetattr(port.fd)[4] == 0o010000  # BOTHER
        port.write(b"xyz")
        assert port.read(3) == b"xyz"


def test_vmin_vtime_on_a_blocking_fd(mirkopc: RpiBoard) -> None:
    """n_tty_read on a blocking fd: VMIN=0 VTIME=5 returns empty after 0.5 simulated s;
    VMIN=4 VTIME=0 waits for four bytes."""
    with mirkopc.simulation.userspace():
        fd = os.open("/dev/ttyAMA0", os.O_RDWR | os.O_NOCTTY)
        try:
            attrs = termios.tcgetattr(fd)
            attrs[3] &= ~(termios.ICANON | termios.ECHO | termios.ISIG)
            attrs[6][termios.VMIN], attrs[6][termios.VTIME] = 0, 5
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
            t0 = time.monotonic()
            assert os.read(fd, 10) == b""
            assert time.monotonic() - t0 == pytest.approx(0.5, abs=1e-6)
            attrs[6][termios.VMIN], attrs[6][termios.VTIME] = 4, 0
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
            os.write(fd, b"abcdef")
            # the PL011's receive timeout delivers all six at once; n_tty copies what is there
            assert os.read(fd, 10) == b"abcdef"
            assert time.monotonic() - t0 == pytest.approx(0.5 + (60 - 0.5 + 32) / 9600, rel=1e-3)
            os.set_blocking(fd, False)
            with pytest.raises(BlockingIOError):
                os.read(fd, 10)
        finally:
            os.close(fd)


def test_canonical_mode_and_icrnl_by_default(mirkopc: RpiBoard) -> None:
    """A tty opened without configuring it is canonical with ICRNL and ONLCR (the serial
    core's initial termios): a write of "hi\\n" goes out as "hi\\r\\n", which reads back
    as the line "hi\\n" then "\\n"."""
    with mirkopc.simulation.userspace(), open("/dev/ttyAMA0", "r+b", buffering=0) as tty:
        assert os.isatty(tty.fileno())
        tty.write(b"hi\n")
        assert tty.read(100) == b"hi\n"
        assert tty.read(100) == b"\n"


def test_modem_lines_and_exclusive_open(mirkopc: RpiBoard) -> None:
    """RTS/DTR reach the PL011's CR (pl011_set_mctrl); TIOCEXCL makes a second open EBUSY;
    pyserial's exclusive=True flock refuses a second holder."""
    with mirkopc.simulation.userspace():
        block = mirkopc.simulation.emulator.soc.blocks["uart0"]
        with serial.Serial("/dev/ttyAMA0", 9600) as port:
            assert block.read("CR") & (1 << 11)  # RTS asserted on open
            port.rts = False
            assert not block.read("CR") & (1 << 11)
            port.dtr = False
            assert not block.read("CR") & (1 << 10)

            fcntl.ioctl(port.fd, termios.TIOCEXCL)
            with pytest.raises(serial.SerialException) as busy:
                serial.Serial("/dev/serial0", 9600)
            assert busy.value.errno == errno.EBUSY
        with (
            serial.Serial("/dev/ttyAMA0", 9600, exclusive=True),
            pytest.raises(serial.SerialException, match="exclusively lock"),
        ):
            serial.Serial("/dev/ttyAMA0", 9600, exclusive=True)


def test_unknown_tty_is_enoent(mirkopc: RpiBoard) -> None:
    """The MirkoPC has no mini UART tty and no serial1 (only UART0 is enabled)."""
    with mirkopc.simulation.userspace():
        for path in ("/dev/ttyS0", "/dev/serial1", "/dev/ttyAMA1"):
            with pytest.raises(serial.SerialException) as missing:
                serial.Serial(path, 9600)
            assert missing.value.errno == errno.ENOENT


# -- the mini UART ---------------------------------------------------------------------------
def test_mini_uart_on_rpi4b_serial0_drops_parity_like_8250(rpi4b: RpiBoard) -> None:
    """On the Pi 4, serial0 is the mini UART /dev/ttyS0 (soc-facts §4.2). It has no parity
    and one stop bit; 8250's UART_CAP_MINI clears PARENB/PARODD/CMSPAR/CSTOPB in
    set_termios (and CS5/CS6 become CS7): pyserial's parity='E' is accepted and the line
    stays 8N1, so an 8N1 console reads the bytes cleanly."""
    console = Console(LineSettings(115200))
    console.echo = False
    rpi4b.simulation.attach(console, bus="uart1")
    with (
        rpi4b.simulation.userspace(),
        serial.Serial(
            "/dev/serial0", 115200, parity=serial.PARITY_EVEN, stopbits=2, timeout=1
        ) as port,
    ):
        _iflag, _o, cflag, *_ = termios.tcgetattr(port.fd)
        assert not cflag & (termios.PARENB | termios.CSTOPB)
        assert cflag & termios.CSIZE == termios.CS8
        port.write(b"ok")
        port.flush()
        port.bytesize = serial.FIVEBITS
        assert termios.tcgetattr(port.fd)[2] & termios.CSIZE == termios.CS7
    assert bytes(console.received) == b"ok"
    assert all(c.flags == 0 for c in console.log)
    assert rpi4b.uarts[1].baud_rate == 115200


def test_mini_uart_ttys0_loopback(rpi4b: RpiBoard) -> None:
    """/dev/ttyS0 with a jumper TXD-RXD: the 8-deep mini UART round-trips pyserial bytes."""
    rpi4b.simulation.connect("J8-08", "J8-10")
    with rpi4b.simulation.userspace(), serial.Serial("/dev/ttyS0", 9600, timeout=1) as port:
        port.write(b"mini uart\n")
        assert port.readline() == b"mini uart\n"
        with pytest.raises(serial.SerialException):
            serial.Serial("/dev/ttyAMA0", 9600)  # the PL011 serves Bluetooth here


# -- pyserial URLs ---------------------------------------------------------------------------
def test_serial_for_url_pihil(mirkopc: RpiBoard) -> None:
    """serial_for_url("pihil://uart0") (and serial0, /dev/ttyAMA0) opens the board tty
    through pyserial's protocol_handler_packages; an unknown UART is a SerialException
    naming the valid ones; after the userspace the scheme is unknown again."""
    with mirkopc.simulation.userspace():
        for url in ("pihil://uart0", "pihil://serial0", "pihil:///dev/ttyAMA0"):
            with serial.serial_for_url(url, baudrate=115200, timeout=1) as port:
                assert isinstance(port, serial.serialposix.Serial)
                port.write(b"url")
                assert port.read(3) == b"url"
        with pytest.raises(serial.SerialException, match="valid names: uart0"):
            serial.serial_for_url("pihil://uart7")
    with pytest.raises(ValueError, match="protocol 'pihil' not known"):
        serial.serial_for_url("pihil://uart0")


def test_pyserial_in_waiting_struct(mirkopc: RpiBoard) -> None:
    """TIOCINQ fills the caller's buffer as an unsigned int (pyserial unpacks 'I')."""
    with mirkopc.simulation.userspace(), serial.Serial("/dev/ttyAMA0", 115200) as port:
        port.write(b"12345")
        time.sleep(0.001)

        raw = fcntl.ioctl(port.fd, termios.TIOCINQ, struct.pack("I", 0))
        assert struct.unpack("I", raw)[0] == 5
