"""The Linux backend's code paths: gpiod/smbus2/spidev against doubles, the UART through a real pty."""

from __future__ import annotations

import errno
import os
import select
import termios
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import FakeLinux, cm4_carrier_infos, pi4_like_info
from gpiod.line import Bias, Value
from gpiod.line import Direction as GDirection
from gpiod.line import Drive as GDrive
from gpiod.line import Edge as GEdge

from rpiboard_pihil.backends.base import I2cMessage, UartFormat
from rpiboard_pihil.backends.linux import CONSUMER, LinuxBackend
from rpiboard_pihil.enums import (
    DeviceErrorCode,
    Direction,
    Drive,
    Edge,
    EdgeKind,
    Function,
    Parity,
    Pull,
)
from rpiboard_pihil.errors import (
    BusError,
    BusTimeoutError,
    ConfigurationError,
    I2cClockStretchTimeoutError,
    I2cNackError,
    IdQueryError,
    NotSupportedError,
    OptionError,
    ResourceBusyError,
    ResourceNotFoundError,
)

# -- opening ---------------------------------------------------------------------------------


@pytest.mark.skipif(Path("/dev/gpiochip0").exists(), reason="this machine has a GPIO chip")
def test_open_on_this_machine_fails_at_once_naming_the_node_and_simulation() -> None:
    """Issue 5: on a machine without the devices, "local" fails naming the missing node."""
    with pytest.raises(ResourceNotFoundError) as info:
        LinuxBackend.open({"rpi-4b": pi4_like_info()}, board=None, devices={}, id_query=True)
    assert info.value.path == "/dev/gpiochip0"
    assert "/dev/gpiochip0 does not exist" in str(info.value)
    assert "'simulate': True" in str(info.value)


def test_open_identifies_the_board_from_the_device_tree_model(fake_linux: FakeLinux) -> None:
    backend = fake_linux.open()
    ident = backend.identify()
    assert (ident.model, ident.reported) == (
        "Raspberry Pi 4 Model B",
        "Raspberry Pi 4 Model B Rev 1.4",
    )
    assert ident.manufacturer == "Raspberry Pi Ltd"


def test_open_without_model_file_names_it(fake_linux: FakeLinux) -> None:
    (fake_linux.root / "proc/device-tree/model").unlink()
    with pytest.raises(ResourceNotFoundError) as info:
        fake_linux.open()
    assert info.value.path == "/proc/device-tree/model"


def test_open_rejects_a_gpio_chip_that_is_not_the_bcm_pinctrl(fake_linux: FakeLinux) -> None:
    path = str(fake_linux.root / "dev/gpiochip0")
    fake_linux.gpiod.chips[path] = ("pinctrl-rp1", 54)
    with pytest.raises(ResourceNotFoundError, match=r"pinctrl-rp1"):
        fake_linux.open()


def test_a_gpio_chip_the_user_may_not_open(
    fake_linux: FakeLinux, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(path: str) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", path)

    monkeypatch.setattr(fake_linux.gpiod, "Chip", refuse)
    with pytest.raises(
        ResourceBusyError, match=r"permission denied.*gpio, i2c, spi or dialout"
    ) as info:
        fake_linux.open()
    assert isinstance(info.value.__cause__, PermissionError)


def test_unsupported_kernel_model_names_what_was_found(fake_linux: FakeLinux) -> None:
    """Issue 5: on a real board the kernel's model must be supported, or the error names it."""
    (fake_linux.root / "proc/device-tree/model").write_bytes(b"Raspberry Pi 5 Model B Rev 1.0\x00")
    with pytest.raises(IdQueryError) as info:
        fake_linux.open()
    assert info.value.found == "Raspberry Pi 5 Model B Rev 1.0"
    assert "Raspberry Pi 4 Model B" in str(info.value)


def test_a_cm4_needs_the_carrier_board_named(fake_linux: FakeLinux) -> None:
    (fake_linux.root / "proc/device-tree/model").write_bytes(
        b"Raspberry Pi Compute Module 4 Rev 1.0\x00"
    )
    kw = {"devices": {}, "root": fake_linux.root, "libraries": fake_linux.libs}
    with pytest.raises(OptionError, match=r"'cm4-io', 'mirkopc'"):
        LinuxBackend.open(cm4_carrier_infos(), board=None, id_query=True, **kw)  # type: ignore[arg-type]
    backend = LinuxBackend.open(cm4_carrier_infos(), board="mirkopc", id_query=True, **kw)  # type: ignore[arg-type]
    assert backend.identify().model == "MirkoPC REV1.1"
    with pytest.raises(IdQueryError, match=r"not 'rpi-4b'"):
        LinuxBackend.open(cm4_carrier_infos(), board="rpi-4b", id_query=True, **kw)  # type: ignore[arg-type]
    forced = LinuxBackend.open(cm4_carrier_infos(), board="rpi-4b", id_query=False, **kw)  # type: ignore[arg-type]
    assert forced.info.name == "rpi-4b"


def test_devices_option_names_must_exist(fake_linux: FakeLinux) -> None:
    with pytest.raises(OptionError, match=r"valid names: i2c1, uart0, uart1, spi0.ce0, spi0.ce1"):
        LinuxBackend.open(
            {"rpi-4b": pi4_like_info()},
            board=None,
            devices={"uart7": "/dev/ttyUSB0"},
            id_query=True,
            root=fake_linux.root,
            libraries=fake_linux.libs,
        )


# -- GPIO --------------------------------------------------------------------------------------


def test_first_use_requests_the_line_as_is(fake_linux: FakeLinux) -> None:
    """A read must not disturb the line: the first request leaves every setting AS_IS."""
    fake_linux.gpiod.fake_line(17).direction = GDirection.OUTPUT
    fake_linux.gpiod.fake_line(17).output = Value.ACTIVE
    backend = fake_linux.open()
    assert backend.gpio_read(17) is True
    name, call = fake_linux.gpiod.calls[0]
    assert name == "request_lines"
    assert call["consumer"] == CONSUMER
    settings = call["config"][17]
    assert settings.direction == GDirection.AS_IS
    assert settings.bias == Bias.AS_IS
    assert fake_linux.gpiod.fake_line(17).direction == GDirection.OUTPUT
    assert backend.gpio_get_direction(17) is Direction.OUTPUT


def test_output_direction_value_and_readback(fake_linux: FakeLinux) -> None:
    backend = fake_linux.open()
    backend.gpio_set_direction(27, Direction.OUTPUT, True)
    s = fake_linux.gpiod.requests[0].reconfigurations[-1][27]
    assert (s.direction, s.output_value) == (GDirection.OUTPUT, Value.ACTIVE)
    assert backend.gpio_read(27) is True
    backend.gpio_write(27, False)
    assert ("set_value", (27, Value.INACTIVE)) in fake_linux.gpiod.calls
    assert backend.gpio_read(27) is False
    assert backend.gpio_get_direction(27) is Direction.OUTPUT


def test_pull_is_sent_with_an_explicit_direction(fake_linux: FakeLinux) -> None:
    """gpiolib-cdev refuses a bias without a direction (EINVAL); the double enforces it."""
    backend = fake_linux.open()
    with pytest.raises(NotSupportedError, match=r"set gpio.pull first"):
        backend.gpio_get_pull(17)
    backend.gpio_set_pull(17, Pull.UP)
    s = fake_linux.gpiod.requests[0].reconfigurations[-1][17]
    assert (s.direction, s.bias) == (GDirection.INPUT, Bias.PULL_UP)
    assert backend.gpio_get_pull(17) is Pull.UP
    assert backend.gpio_read(17) is True  # nothing drives it: the pull-up wins
    backend.gpio_set_pull(17, Pull.NONE)
    assert fake_linux.gpiod.requests[0].reconfigurations[-1][17].bias == Bias.DISABLED


def test_pull_on_an_output_keeps_its_level(fake_linux: FakeLinux) -> None:
    backend = fake_linux.open()
    backend.gpio_set_direction(27, Direction.OUTPUT, True)
    backend.gpio_set_pull(27, Pull.DOWN)
    s = fake_linux.gpiod.requests[0].reconfigurations[-1][27]
    assert (s.direction, s.output_value, s.bias) == (
        GDirection.OUTPUT,
        Value.ACTIVE,
        Bias.PULL_DOWN,
    )


def test_open_drain_is_sent_only_for_outputs(fake_linux: FakeLinux) -> None:
    """The kernel refuses a drive flag on an input; open drain releases the line for a 1."""
    backend = fake_linux.open()
    backend.gpio_set_pull(17, Pull.UP)
    backend.gpio_set_drive(17, Drive.OPEN_DRAIN)
    assert fake_linux.gpiod.requests[0].reconfigurations[-1][17].drive == GDrive.PUSH_PULL
    assert backend.gpio_get_drive(17) is Drive.OPEN_DRAIN
    backend.gpio_set_direction(17, Direction.OUTPUT, False)
    s = fake_linux.gpiod.requests[0].reconfigurations[-1][17]
    assert (s.direction, s.drive) == (GDirection.OUTPUT, GDrive.OPEN_DRAIN)
    assert backend.gpio_read(17) is False
    backend.gpio_write(17, True)
    assert backend.gpio_read(17) is True  # released: the pull-up pulls it high
    fake_linux.gpiod.drive_external(17, False)
    assert backend.gpio_read(17) is False  # someone else pulls the wired-AND low


def test_edge_events_with_debounce_and_timestamps(fake_linux: FakeLinux) -> None:
    backend = fake_linux.open()
    backend.gpio_set_direction(17, Direction.INPUT, False)
    backend.gpio_set_edge_detection(17, Edge.BOTH, 5_000_000)
    s = fake_linux.gpiod.requests[0].reconfigurations[-1][17]
    assert (s.edge_detection, s.debounce_period) == (GEdge.BOTH, timedelta(milliseconds=5))
    assert backend.gpio_get_edge_detection(17) == (Edge.BOTH, 5_000_000)
    assert backend.gpio_wait_edges(17, 0) == []
    fake_linux.gpiod.drive_external(17, True, after_ns=2_000)
    t_rise = fake_linux.gpiod.clock_ns
    fake_linux.gpiod.drive_external(17, False, after_ns=3_000)
    events = backend.gpio_wait_edges(17, 50_000_000)
    assert [e.kind for e in events] == [EdgeKind.RISING, EdgeKind.FALLING]
    assert [e.timestamp_ns for e in events] == [t_rise, t_rise + 3_000]
    assert [e.seqno for e in events] == [1, 2]
    assert all(e.gpio == 17 for e in events)
    waits = [c[1] for c in fake_linux.gpiod.calls if c[0] == "wait_edge_events"]
    assert timedelta(milliseconds=50) in waits
    assert backend.device_errors() == []


def test_lost_edge_events_become_a_device_error(fake_linux: FakeLinux) -> None:
    backend = fake_linux.open()
    backend.gpio_set_direction(17, Direction.INPUT, False)
    backend.gpio_set_edge_detection(17, Edge.RISING, 0)
    for _ in range(3):
        fake_linux.gpiod.drive_external(17, True)
        fake_linux.gpiod.drive_external(17, False)
    fake_linux.gpiod.drop_events(17, 2)
    events = backend.gpio_wait_edges(17, 0)
    assert [e.seqno for e in events] == [3]
    errors = backend.device_errors()
    assert [e.code for e in errors] == [DeviceErrorCode.EDGE_EVENT_OVERFLOW]
    assert "2 edge event(s) lost" in errors[0].message


def test_debounce_must_be_whole_microseconds(fake_linux: FakeLinux) -> None:
    backend = fake_linux.open()
    with pytest.raises(ConfigurationError, match=r"whole microseconds"):
        backend.gpio_set_edge_detection(17, Edge.RISING, 1500)


def test_alternate_function_select_names_the_config_line(fake_linux: FakeLinux) -> None:
    """Issue 5: what user space cannot do raises NotSupportedError naming the config.txt line."""
    backend = fake_linux.open()
    with pytest.raises(NotSupportedError, match=r"`gpio=14=a0` in config.txt"):
        backend.gpio_set_function(14, Function.ALT0)
    backend.gpio_set_function(14, Function.OUTPUT)
    assert backend.gpio_get_function(14) is Function.OUTPUT
    backend.gpio_set_function(14, Function.INPUT)
    assert backend.gpio_get_function(14) is Function.INPUT


def test_a_line_held_by_a_kernel_driver(fake_linux: FakeLinux) -> None:
    fake_linux.gpiod.fake_line(2).consumer = "i2c1"
    backend = fake_linux.open()
    with pytest.raises(ResourceBusyError, match=r"'i2c1'"):
        backend.gpio_read(2)
    with pytest.raises(NotSupportedError, match=r"pinctrl get 2"):
        backend.gpio_get_function(2)


def test_kernel_errors_are_translated_and_chained(fake_linux: FakeLinux) -> None:
    backend = fake_linux.open()
    backend.gpio_read(17)
    request = fake_linux.gpiod.requests[0]

    def refuse(config: object) -> None:
        raise OSError(errno.EINVAL, "Invalid argument")

    request.reconfigure_lines = refuse  # type: ignore[method-assign,assignment]
    with pytest.raises(NotSupportedError) as info:
        backend.gpio_set_pull(17, Pull.DOWN)
    assert isinstance(info.value.__cause__, OSError)
    with pytest.raises(NotSupportedError, match=r"set gpio.pull first"):
        backend.gpio_get_pull(17)  # the failed setting was rolled back


def test_reset_returns_held_lines_to_input_with_reset_pulls_and_releases(
    fake_linux: FakeLinux,
) -> None:
    backend = fake_linux.open()
    backend.gpio_set_direction(27, Direction.OUTPUT, True)
    backend.gpio_set_pull(17, Pull.UP)
    backend.reset()
    req = fake_linux.gpiod.requests[0]
    assert req.released
    last = {
        **fake_linux.gpiod.requests[0].reconfigurations[-1],
        **fake_linux.gpiod.requests[1].reconfigurations[-1],
    }
    assert {n: (s.direction, s.bias) for n, s in last.items()} == {
        27: (GDirection.INPUT, Bias.PULL_DOWN),
        17: (GDirection.INPUT, Bias.PULL_DOWN),
    }
    assert fake_linux.gpiod.fake_line(27).consumer == ""


# -- I2C ---------------------------------------------------------------------------------------


def test_i2c_messages_reach_i2c_rdwr_as_the_kernel_expects(fake_linux: FakeLinux) -> None:
    """Raw transfers use smbus2 i2c_rdwr: write, read, and write+read with a repeated start."""
    from linux_doubles import FakeI2cTarget

    node = str(fake_linux.root / "dev/i2c-1")
    fake_linux.smbus2.targets[(node, 0x50)] = FakeI2cTarget()
    backend = fake_linux.open()
    backend.i2c_transfer(1, [I2cMessage.write(0x50, b"\x10\xaa\xbb")])
    assert backend.i2c_transfer(1, [I2cMessage.read_of(0x50, 1)]) == [b"\x00"]
    data = backend.i2c_transfer(1, [I2cMessage.write(0x50, b"\x10"), I2cMessage.read_of(0x50, 2)])
    assert data == [b"\xaa\xbb"]
    assert fake_linux.smbus2.opened == [node]
    assert fake_linux.smbus2.transfers[-1] == (node, [(0x50, 0, b"\x10"), (0x50, 1, 2)])


@pytest.mark.parametrize(
    ("code", "exc_type", "kind"),
    [
        (errno.EREMOTEIO, I2cNackError, "nack"),
        (errno.EIO, I2cClockStretchTimeoutError, "clkt"),
        (errno.ETIMEDOUT, BusTimeoutError, "timeout"),
        (errno.EAGAIN, BusError, "io"),
    ],
)
def test_i2c_errno_mapping(
    fake_linux: FakeLinux, code: int, exc_type: type[BusError], kind: str
) -> None:
    """soc-facts §2 / DESIGN: i2c-bcm2835 reports ERR as EREMOTEIO, CLKT as EIO, timeouts ETIMEDOUT."""
    backend = fake_linux.open()
    fake_linux.smbus2.fail_errno = code
    with pytest.raises(exc_type) as info:
        backend.i2c_transfer(1, [I2cMessage.write(0x68, b"\x03")])
    assert type(info.value) is exc_type
    assert (info.value.kind, info.value.address, info.value.bus) == (kind, 0x68, "i2c1")
    assert info.value.errno_name == errno.errorcode[code]
    assert isinstance(info.value.__cause__, OSError)


def test_missing_i2c_node_names_the_dtparam(fake_linux: FakeLinux) -> None:
    (fake_linux.root / "dev/i2c-1").unlink()
    backend = fake_linux.open()
    with pytest.raises(ResourceNotFoundError, match=r"dtparam=i2c_arm=on") as info:
        backend.i2c_transfer(1, [I2cMessage.read_of(0x50, 1)])
    assert info.value.path == "/dev/i2c-1"


def test_i2c_frequency_reads_the_device_tree_and_cannot_be_set(fake_linux: FakeLinux) -> None:
    """Issue 5: the BSC divider cannot be set from user space; the error names the dtparam."""
    backend = fake_linux.open()
    assert backend.i2c_get_frequency(1) == 100_000  # the i2c-bcm2835 default
    of_node = fake_linux.root / "sys/class/i2c-adapter/i2c-1/of_node"
    of_node.mkdir(parents=True)
    (of_node / "clock-frequency").write_bytes((400_000).to_bytes(4, "big"))
    assert backend.i2c_get_frequency(1) == 400_000
    backend.i2c_set_frequency(1, 400_000)  # already so: nothing to do
    with pytest.raises(NotSupportedError, match=r"`dtparam=i2c_arm_baudrate=10000`"):
        backend.i2c_set_frequency(1, 10_000)


# -- SPI ---------------------------------------------------------------------------------------


def test_spi_device_opened_and_programmed_before_the_transfer(fake_linux: FakeLinux) -> None:
    backend = fake_linux.open()
    backend.spi_set_mode(0, 1, 3)
    backend.spi_set_speed(0, 1, 10_000_000)
    assert backend.spi_transfer(0, 1, b"\x9f\x00") == bytes([0x60, 0xFF])
    dev = fake_linux.spidev.devices[0]
    assert dev.path == str(fake_linux.root / "dev/spidev0.1")
    assert (dev.mode, dev.max_speed_hz, dev.bits_per_word) == (3, 10_000_000, 8)
    backend.spi_set_mode(0, 1, 0)
    backend.spi_transfer(0, 1, b"\x01")
    assert [(t.mode, t.speed, t.tx) for t in fake_linux.spidev.transfers] == [
        (3, 10_000_000, [0x9F, 0x00]),
        (0, 10_000_000, [0x01]),
    ]
    assert (backend.spi_get_mode(0, 0), backend.spi_get_speed(0, 0)) == (0, 500_000)


def test_spi_buffer_limit_and_missing_node(fake_linux: FakeLinux) -> None:
    backend = fake_linux.open()
    with pytest.raises(ConfigurationError, match=r"spidev.bufsiz"):
        backend.spi_transfer(0, 0, bytes(5000))
    (fake_linux.root / "dev/spidev0.1").unlink()
    with pytest.raises(ResourceNotFoundError, match=r"dtparam=spi=on"):
        backend.spi_transfer(0, 1, b"\x00")


# -- UART through a real pseudo-terminal ------------------------------------------------------------


def _read_master(fd: int, n: int) -> bytes:
    out = b""
    while len(out) < n:
        ready, _, _ = select.select([fd], [], [], 5)
        assert ready, f"pty delivered only {out!r}"
        out += os.read(fd, n - len(out))
    return out


def test_uart_write_and_read_through_a_pty(fake_linux: FakeLinux) -> None:
    backend = fake_linux.open()
    backend.uart_write(0, b"hello\n")
    assert _read_master(fake_linux.uart_master, 6) == b"hello\n"
    os.write(fake_linux.uart_master, b"abc")
    assert backend.uart_read(0, 3, 2_000_000_000) == b"abc"
    assert backend.uart_read(0, 5, 10_000_000) == b""  # nothing more came: the timeout ends it
    backend.uart_flush(0)
    backend.uart_send_break(0, 10_000_000)


def test_uart_format_reaches_the_tty(fake_linux: FakeLinux) -> None:
    backend = fake_linux.open()
    backend.uart_write(0, b"x")
    backend.uart_set_format(0, UartFormat(9600, 8, Parity.NONE, 2))
    attrs = termios.tcgetattr(backend._uarts[0].port.fileno())
    assert attrs[4] == termios.B9600
    assert attrs[2] & termios.CSIZE == termios.CS8
    assert attrs[2] & termios.CSTOPB
    assert backend.uart_get_format(0) == UartFormat(9600, 8, Parity.NONE, 2)


def _pty_takes_cs7() -> bool:
    master, slave = os.openpty()
    try:
        attrs = termios.tcgetattr(slave)
        attrs[2] = (attrs[2] & ~termios.CSIZE) | termios.CS7 | termios.PARENB
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        return True
    except termios.error:
        return False
    finally:
        os.close(master)
        os.close(slave)


def test_uart_format_the_tty_refuses_is_a_configuration_error(fake_linux: FakeLinux) -> None:
    """Recent kernels' ptys refuse CS7/PARENB (EINVAL): the refusal must not leak raw."""
    if _pty_takes_cs7():
        pytest.skip("this kernel's pty accepts 7E1, so it cannot refuse it")
    backend = fake_linux.open()
    backend.uart_write(0, b"x")
    with pytest.raises(ConfigurationError, match=r"refused") as info:
        backend.uart_set_format(0, UartFormat(9600, 7, Parity.EVEN, 1))
    assert isinstance(info.value.__cause__, termios.error)
    assert backend.uart_get_format(0) == UartFormat()
    backend.uart_set_format(0, UartFormat(57600))  # the port still works with a good format
    assert termios.tcgetattr(backend._uarts[0].port.fileno())[4] == termios.B57600


def test_uart_discard_input_and_in_waiting(fake_linux: FakeLinux) -> None:
    backend = fake_linux.open()
    backend.uart_in_waiting(0)  # opens the port
    os.write(fake_linux.uart_master, b"stale")
    port = backend._uarts[0].port
    select.select([port.fileno()], [], [], 5)
    assert backend.uart_in_waiting(0) == 5
    backend.uart_discard_input(0)
    assert backend.uart_in_waiting(0) == 0


def test_uart_error_counters_become_device_errors(fake_linux: FakeLinux) -> None:
    """Issue 5: UART framing/overrun counts are device errors (TIOCGICOUNT on the Pi)."""
    counts = {"frame": 0, "overrun": 0, "parity": 0, "brk": 0, "buf_overrun": 0}
    backend = fake_linux.open(icount=lambda fd: dict(counts))
    backend.uart_write(0, b"x")
    assert backend.device_errors() == []
    counts["frame"] += 2
    counts["overrun"] += 1
    errors = backend.device_errors()
    assert sorted((e.code, e.message) for e in errors) == [
        (DeviceErrorCode.UART_FRAMING, "uart0: 2 framing error(s)"),
        (DeviceErrorCode.UART_OVERRUN, "uart0: 1 overrun(s) of the UART FIFO"),
    ]
    assert backend.device_errors() == []  # counted once


def test_pty_has_no_icount_so_no_errors(fake_linux: FakeLinux) -> None:
    backend = fake_linux.open()
    backend.uart_write(0, b"x")
    assert backend._uarts[0].counts is None
    assert backend.device_errors() == []


def test_missing_tty_names_enable_uart(fake_linux: FakeLinux) -> None:
    backend = fake_linux.open()
    with pytest.raises(ResourceNotFoundError, match=r"enable_uart=1") as info:
        backend.uart_write(1, b"x")
    assert info.value.path == "/dev/ttyS0"
    (fake_linux.root / "dev/ttyAMA0").unlink()
    with pytest.raises(ResourceNotFoundError, match=r"`dtoverlay=disable-bt`"):
        backend.uart_write(0, b"x")  # soc-facts §4.2: the PL011 serves Bluetooth on a Pi 4


def test_close_releases_everything(fake_linux: FakeLinux) -> None:
    backend = fake_linux.open()
    backend.gpio_read(17)
    backend.spi_transfer(0, 0, b"\x00")
    backend.i2c_get_frequency(1)
    backend.uart_write(0, b"x")
    port = backend._uarts[0].port
    backend.close()
    assert fake_linux.gpiod.requests[0].released
    assert fake_linux.spidev.devices[0].closed
    assert not port.is_open


@pytest.mark.parametrize(
    ("board", "bus", "enable", "baudrate"),
    [
        ("rpi-4b", 1, "dtparam=i2c_arm=on", "dtparam=i2c_arm_baudrate=50000"),
        ("rpi-b-rev1", 0, "dtparam=i2c_arm=on", "dtparam=i2c_arm_baudrate=50000"),
        ("rpi-b-rev2", 0, "dtparam=i2c_vc=on", "dtparam=i2c_vc_baudrate=50000"),
        ("cm4-io", 10, "dtparam=i2c_vc=on", "dtparam=i2c_vc_baudrate=50000"),
    ],
)
def test_config_lines_follow_which_bus_is_on_the_header(
    board: str, bus: int, enable: str, baudrate: str
) -> None:
    """Rev 1 boards have I2C0 on P1-03/05 (the seed), so i2c_arm is bus 0 there."""
    from rpiboard_pihil.backends.linux_i2c import _i2c_baudrate_line, _i2c_enable_line
    from rpiboard_pihil.backends.simulated import board_infos

    info = board_infos()[board]
    assert _i2c_enable_line(info, bus) == enable
    assert _i2c_baudrate_line(info, bus, 50_000) == baudrate


def test_serial_number_and_revision_come_from_the_kernel(fake_linux: FakeLinux) -> None:
    """Issue 14 "Reports": a real board's serial and revision, for the run's reports; the
    device tree's string ends in NUL, cpuinfo is ``key<TAB>: value`` lines."""
    backend = fake_linux.open()
    assert (backend.identify().serial, backend.identify().revision) == (None, None)
    (fake_linux.root / "proc/device-tree/serial-number").write_bytes(b"10000000a1b2c3d4\x00")
    (fake_linux.root / "proc/cpuinfo").write_text(
        "processor\t: 0\nHardware\t: BCM2835\nRevision\t: c03141\nSerial\t\t: 10000000a1b2c3d4\n"
    )
    identity = backend.identify()
    assert (identity.serial, identity.revision) == ("10000000a1b2c3d4", "c03141")
