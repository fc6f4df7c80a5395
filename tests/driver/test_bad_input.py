"""Bad input to the driver gets a clear `PihilError` (issue 11 item 4): the findings of the
fuzz tier (tests/fuzz) on the driver API and ``board.simulation``, one test each, and a
call after another thread's ``close()``.

Each of these failed before its fix with a traceback from inside pihil (TypeError,
OverflowError, AttributeError...) or by returning normally on nonsense.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sim_helpers import open_sim

from pihil_emulator.devices import registry
from pihil_emulator.errors import ConfigurationError as EmuConfigurationError
from pihil_emulator.faults import BrownOut, DroppedDevice, StuckNet
from rpiboard_pihil import (
    ChipSelect,
    ConfigurationError,
    ElectricalFaultError,
    GpioLine,
    HeaderPin,
    I2cBusId,
    I2cMessage,
    RegisterAccessError,
    RpiBoard,
    SelectorError,
    SessionClosedError,
    SpiBusId,
    UartId,
)


@pytest.fixture
def board() -> Iterator[RpiBoard]:
    b = open_sim("mirkopc")
    yield b
    b.close()


# -- the driver API -----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [10**400, -(10**400), 2**1100])
@pytest.mark.parametrize(
    "call",
    [
        lambda b, v: b.delay(v),
        lambda b, v: b.gpios[23].wait_edges(v),
        lambda b, v: b.uarts[0].read(1, v),
        lambda b, v: setattr(b.gpios[23], "debounce_s", v),
        lambda b, v: b.simulation.run_for(v),
    ],
)
def test_a_duration_too_large_for_a_float_is_out_of_range(
    board: RpiBoard, call: Callable[[RpiBoard, Any], None], bad: int
) -> None:
    """Was OverflowError: int too large to convert to float (validate.seconds_to_ns)."""
    with pytest.raises(ConfigurationError, match=r"must be 0\.\..* s; got"):
        call(board, bad)


@pytest.mark.parametrize(
    ("collection", "specifier"),
    [
        ("gpios", UartId.UART0),
        ("gpios", SpiBusId.SPI0),
        ("gpios", ChipSelect.CE1),
        ("pins", GpioLine.GPIO3),
        ("pins", I2cBusId.I2C1),
        ("i2c_buses", SpiBusId.SPI0),
        ("uarts", ChipSelect.CE0),
        ("spi_buses", UartId.UART0),
    ],
)
def test_a_member_of_another_enum_is_not_a_selector(
    board: RpiBoard, collection: str, specifier: Any
) -> None:
    """An IntEnum is an int, so ``gpios[UartId.UART0]`` gave GPIO0 and ``pins[GpioLine.GPIO3]``
    the 5V pin J8-03's neighbour; now refused, naming the enum the collection takes."""
    coll = getattr(board, collection)
    with pytest.raises(SelectorError, match=rf"is a {type(specifier).__name__}, not a .* takes"):
        coll[specifier]
    assert specifier not in coll


def test_the_collections_own_enums_still_select(board: RpiBoard) -> None:
    assert board.gpios[GpioLine.GPIO17].name == "GPIO17"
    assert board.gpios[HeaderPin.J8_11].name == "GPIO17"  # a pin names its GPIO
    assert board.pins[HeaderPin.J8_11].name == "J8-11"
    assert board.i2c_buses[I2cBusId.I2C1].name == "i2c1"
    assert board.spi_buses[SpiBusId.SPI0].devices[ChipSelect.CE1].name == "ce1"
    assert board.uarts[UartId.UART0].name == "uart0"


@pytest.mark.parametrize("bad", [None, 5, 1.5, object()])
def test_i2c_transfer_of_something_not_a_sequence(board: RpiBoard, bad: object) -> None:
    """Was TypeError: 'int' object is not iterable (i2c.py transfer)."""
    with pytest.raises(
        ConfigurationError, match=r"transfer takes a non-empty sequence of I2cMessage"
    ):
        board.i2c_buses["i2c1"].transfer(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("message", "match"),
    [
        (I2cMessage(0x68, True, b"\x00", 1), r"is a read and carries data"),
        (I2cMessage(0x68, False, b"\x00\x01", 5), r"write of 2 bytes whose length says 5"),
        (I2cMessage(0x68, 1, b"", 1), r"read takes True or False"),  # type: ignore[arg-type]
    ],
)
def test_i2c_transfer_refuses_malformed_messages(
    board: RpiBoard, message: I2cMessage, match: str
) -> None:
    """These were run (silently) as if well formed."""
    with pytest.raises(ConfigurationError, match=match):
        board.i2c_buses["i2c1"].transfer([I2cMessage.write(0x68, b"\x00"), message])


@pytest.mark.parametrize("seconds", [1e-10, 4e-7, 1.5e-6])
def test_debounce_is_whole_microseconds(board: RpiBoard, seconds: float) -> None:
    """1e-10 s rounded to 0 ns and silently turned debounce off; the kernel's
    debounce_period_us holds whole microseconds."""
    with pytest.raises(ConfigurationError, match=r"whole microseconds"):
        board.gpios[23].debounce_s = seconds
    board.gpios[23].debounce_s = 2e-6  # a whole number of µs is fine


# -- board.simulation ---------------------------------------------------------------------------


def test_record_vcd_nets_not_a_list(board: RpiBoard, tmp_path: Path) -> None:
    """Was TypeError: 'int' object is not iterable (the issue's example, record_vcd(nets=5))."""
    for bad in (5, "GPIO17", {"GPIO17": 1}):
        with (
            pytest.raises(ConfigurationError, match=r"takes a list of pin or net names"),
            board.simulation.record_vcd(str(tmp_path / "x.vcd"), nets=bad),  # type: ignore[arg-type]
        ):
            pass


def test_record_vcd_one_net_twice(board: RpiBoard, tmp_path: Path) -> None:
    """Was ValueError from the recorder: now a ConfigurationError saying which net."""
    with (
        pytest.raises(ConfigurationError, match=r"named twice .*GPIO17 more than once"),
        board.simulation.record_vcd(str(tmp_path / "x.vcd"), nets=["GPIO17", "J8-11"]),
    ):
        pass


@pytest.mark.parametrize("kind", ["none", "int", "empty", "folder", "under a file", "nul"])
def test_record_vcd_path_that_cannot_be_written(board: RpiBoard, tmp_path: Path, kind: str) -> None:
    """Were TypeError, IsADirectoryError ('' is the current folder), FileExistsError at the
    first flush; now refused at once."""
    a_file = tmp_path / "file"
    a_file.write_text("x")
    path: Any = {
        "none": None,
        "int": 5,
        "empty": "",
        "folder": str(tmp_path),
        "under a file": str(a_file / "x.vcd"),
        "nul": str(tmp_path / "a\x00b.vcd"),
    }[kind]
    with (
        pytest.raises(ConfigurationError, match=r"VCD|folder"),
        board.simulation.record_vcd(path, nets=["GPIO23"]),
    ):
        board.delay(1e-6)


def test_clear_fault_of_something_else(board: RpiBoard) -> None:
    """Was AttributeError: 'NoneType' object has no attribute 'active' (board.clear_fault),
    and a fault never injected was 'cleared' silently."""
    with pytest.raises(ConfigurationError, match=r"takes a fault inject\(\) was given"):
        board.simulation.clear_fault(None)
    with pytest.raises(ConfigurationError, match=r"never injected into this board"):
        board.simulation.clear_fault(StuckNet(pin="J8-16"))
    fault = board.simulation.inject(StuckNet(pin="J8-16", duration_ns=10))
    board.delay(1e-6)  # it ended on its own
    board.simulation.clear_fault(fault)  # an injected fault that ended: nothing to do


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: BrownOut(volts=math.nan), r"must be finite"),
        (lambda: BrownOut(volts="3"), r"a number of volts"),  # type: ignore[arg-type]
        (lambda: BrownOut(reset_soc=0), r"reset_soc takes True or False"),  # type: ignore[arg-type]
        (lambda: BrownOut(duration_ns=0), r"duration_ns must be a positive integer"),
        (lambda: BrownOut(at_ns=10**30), r"at_ns must be .* up to"),
        (lambda: StuckNet(pin="J8-16", level="1e3"), r"level is True"),  # type: ignore[arg-type]
        (lambda: StuckNet(pin=5), r"pin name"),  # type: ignore[arg-type]
        (lambda: DroppedDevice(device=None), r"profile name .* or the model object"),
    ],
)
def test_fault_arguments_are_emulator_configuration_errors(
    make: Callable[[], object], match: str
) -> None:
    """Were ValueError (or TypeError, or nothing: NaN volts and level='1e3' were taken);
    now the emulator's ConfigurationError (still a ValueError), which the driver translates."""
    with pytest.raises(EmuConfigurationError, match=match):
        make()


def test_injected_faults_that_cannot_happen(board: RpiBoard) -> None:
    """Were ValueError escaping board.simulation untranslated."""
    with pytest.raises(ConfigurationError, match=r"below its 3\.3 V"):
        board.simulation.inject(BrownOut(volts=3.3))
    with pytest.raises(ConfigurationError, match=r"a brown-out is of a supply rail"):
        board.simulation.inject(BrownOut(rail="GND"))
    loose = registry.create_device("lm75b", name="loose", address=0x49)
    with pytest.raises(ConfigurationError, match=r"not attached to anything"):
        board.simulation.inject(DroppedDevice(device=loose))


@pytest.mark.parametrize("volts", [math.nan, math.inf, "3.3", 1j, None, True])
def test_apply_voltage_takes_a_finite_number(board: RpiBoard, volts: object) -> None:
    """NaN was applied silently; 1j and None were TypeErrors from float()."""
    with pytest.raises(ConfigurationError, match=r"apply_voltage takes a"):
        board.simulation.apply_voltage("J8-16", volts)  # type: ignore[arg-type]


def test_apply_voltage_below_ground_on_a_gpio(board: RpiBoard) -> None:
    """A negative source on a GPIO was taken; it breaks the pin as 5 V does."""
    with pytest.raises(ElectricalFaultError, match=r"below GND"):
        board.simulation.apply_voltage("J8-16", -1.0)


def test_remove_voltage_where_none_was_applied(board: RpiBoard) -> None:
    with pytest.raises(ConfigurationError, match=r"has no external voltage to remove"):
        board.simulation.remove_voltage("J8-18")
    board.simulation.apply_voltage("J8-18", 1.0)
    board.simulation.remove_voltage("J8-18")


def test_disconnect_of_something_not_a_wire(board: RpiBoard) -> None:
    """Was AttributeError: 'int' object has no attribute 'label'."""
    with pytest.raises(ConfigurationError, match=r"takes the wire connect\(\) returned"):
        board.simulation.disconnect(5)
    wire = board.simulation.connect("J8-16", "J8-18")
    board.simulation.disconnect(wire)
    with pytest.raises(ConfigurationError, match=r"is not connected"):
        board.simulation.disconnect(wire)


def test_connect_to_something_not_a_name(board: RpiBoard) -> None:
    with pytest.raises(SelectorError, match=r"given by its name"):
        board.simulation.connect(5, "J8-16")  # type: ignore[arg-type]


def test_attach_a_device_the_bus_cannot_talk_to(board: RpiBoard) -> None:
    """An object of no device kind on i2c1 was attached, and every later transfer on the
    bus failed; now refused at attach."""

    class Strange:
        pass

    for device in (Strange(), registry.create_device("mcp3008", name="adc2")):
        with pytest.raises(ConfigurationError, match=r"on an i2c bus takes an I2C device model"):
            board.simulation.attach(device, "i2c1")
    with pytest.raises(ConfigurationError, match=r"takes a device model object"):
        board.simulation.attach(None, "probe", kind="gpio", pin="J8-16")
    assert board.i2c_buses["i2c1"].scan()  # the bus still works


def test_attach_kind_and_bus_of_the_wrong_type(board: RpiBoard) -> None:
    """Were TypeError: unhashable type (a dict as kind or bus)."""
    dev = registry.create_device("lm75b", name="t2", address=0x49)
    with pytest.raises(ConfigurationError, match=r"kind= as one of"):
        board.simulation.attach(dev, "probe", kind={"a": 1}, sda="J8-16", scl="J8-18")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"takes the bus by name"):
        board.simulation.attach(dev, ["i2c1"])  # type: ignore[arg-type]


def test_detach_of_a_device_not_attached(board: RpiBoard) -> None:
    loose = registry.create_device("lm75b", name="loose", address=0x49)
    with pytest.raises(ConfigurationError, match=r"is not attached to this board"):
        board.simulation.detach(loose)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda s: s.read_register(object, "GPFSEL0"), r"block is given by its datasheet name"),
        (lambda s: s.read_register("gpio", [1]), r"register is given by its datasheet name"),
        (lambda s: s.write_register("gpio", "GPFSEL2", 0.0), r"takes an integer 0\.\.0xffffffff"),
        (lambda s: s.write_register("gpio", "GPFSEL2", True), r"takes an integer 0\.\.0xffffffff"),
        (lambda s: s.write_register("gpio", "GPFSEL2", -1e-300), r"takes an integer"),
    ],
)
def test_register_access_with_values_of_the_wrong_type(
    board: RpiBoard, call: Callable[[Any], object], match: str
) -> None:
    """Were AttributeError ('lower'), TypeError (float >> int), ValueError (format code 'x'),
    and True written as 1."""
    with pytest.raises(RegisterAccessError, match=match):
        call(board.simulation)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pace": 0}, r"pace is simulated seconds per wall-clock second"),
        ({"pace": math.inf}, r"pace is simulated seconds per wall-clock second"),
        ({"pace": True}, r"pace is simulated seconds per wall-clock second"),
        ({"epoch_s": math.nan}, r"epoch_s is what time\.time\(\) reads"),
        ({"epoch_s": -1.0}, r"epoch_s is what time\.time\(\) reads"),
        ({"epoch_s": [0]}, r"epoch_s is what time\.time\(\) reads"),
    ],
)
def test_userspace_clock_settings(board: RpiBoard, kwargs: dict[str, Any], match: str) -> None:
    """pace=inf was taken (and overflowed later), epoch_s=[0] was a TypeError from float()."""
    with pytest.raises(ConfigurationError, match=match):
        board.simulation.userspace(**kwargs)


# -- after close() --------------------------------------------------------------------------------

STILL_ANSWER = {
    # facts of the driver or of the board profile: no session needed
    "RpiBoard": {"board_name", "info", "resource_name", "ivi_utility", "gpios", "pins",
                 "i2c_buses", "spi_buses", "uarts"},
    "RpiBoardUtility": {"driver_version", "driver_vendor", "driver_identifier",
                        "supported_instrument_models"},
    "Gpio": {"name", "number"},
    "I2cBus": {"name", "number"},
    "SpiDevice": {"name", "chip_select"},
    "Uart": {"name", "number", "kind"},
}  # fmt: skip


def _members(board: RpiBoard) -> Iterator[tuple[str, str, Callable[[], object]]]:
    """Every public property read and method call of the session objects (valid arguments)."""
    objects: dict[str, Any] = {
        "RpiBoard": board,
        "RpiBoardUtility": board.ivi_utility,
        "Gpio": board.gpios[23],
        "I2cBus": board.i2c_buses["i2c1"],
        "SpiDevice": board.spi_buses[0].devices[0],
        "Uart": board.uarts[0],
        "Simulation": board.simulation,
    }
    args: dict[str, tuple[Any, ...]] = {
        "delay": (0.001,), "wait_edges": (0.001,), "set_output": (True,), "write": (b"\x00",),
        "read": (1, 0.001), "write_read": (0x68, b"\x00", 1), "transfer": (b"\x00",),
        "send_break": (0.01,), "run_for": (0.001,), "connect": ("J8-16", "J8-18"),
        "apply_voltage": ("J8-16", 1.0), "remove_voltage": ("J8-16",),
        "read_register": ("gpio", "GPFSEL0"), "write_register": ("gpio", "GPFSEL2", 0),
        "record_vcd": ("x.vcd",), "userspace": (), "inject": (StuckNet(pin="J8-16"),),
        "restore": (None,),
    }  # fmt: skip
    skip = {"close", "gpios_item", "pins_item", "i2c_buses_item", "spi_buses_item", "uarts_item",
            "disconnect", "attach", "detach", "clear_fault"}  # fmt: skip
    for cls, obj in objects.items():
        for name in dir(type(obj)):
            if name.startswith("_") or name in skip:
                continue
            attr = getattr(type(obj), name)
            if isinstance(attr, property):
                yield cls, name, lambda o=obj, n=name: getattr(o, n)
            elif callable(attr):
                a = args.get(name, ())
                if cls == "I2cBus" and name == "write":
                    a = (0x68, b"\x00")
                if cls == "I2cBus" and name == "read":
                    a = (0x68, 1)
                if cls == "I2cBus" and name == "transfer":
                    a = ([I2cMessage.write(0x68, b"\x00")],)
                yield cls, name, lambda o=obj, n=name, a=a: getattr(o, n)(*a)


def test_every_call_after_another_threads_close_raises_session_closed() -> None:
    """Issue 11: "one driver call returned normally after another thread's close();
    ivi_utility still answers after close()". Now every member that reaches the board or
    reports on the session raises SessionClosedError; only the driver's and the profile's
    facts answer (IVI-Python: errors are exceptions; a closed session has no instrument)."""
    board = open_sim("mirkopc")
    members = list(_members(board))
    closer = threading.Thread(target=board.close)
    closer.start()
    closer.join()
    answered = []
    for cls, name, call in members:
        if name in STILL_ANSWER.get(cls, set()):
            call()
            continue
        try:
            result = call()
            if hasattr(result, "__enter__"):
                with result:
                    pass
        except SessionClosedError:
            continue
        answered.append(f"{cls}.{name}")
    assert answered == [], f"answered after close(): {answered}"
    assert len(members) > 60  # the walk found the API
