"""IVI Driver Core "Unit Test Procedure", in simulation.

Every entry point is called; every setting is set to legal values (each one of
an enumeration, the limits of a range) and read back, and refused at illegal
ones; every repeated-capability instance is reached with each legal specifier
form, and an illegal specifier is refused naming the legal ones. The
`EXERCISED` registry and `test_every_entry_point_is_exercised` make a new
public member without a test here fail the suite.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from sim_helpers import EXERCISED, exercises, open_sim, public_members

from rpiboard_pihil import (
    ChipSelect,
    ConfigurationError,
    Direction,
    Drive,
    Edge,
    EdgeKind,
    Function,
    Gpio,
    GpioCollection,
    GpioLine,
    HeaderPin,
    I2cBus,
    I2cBusCollection,
    Pin,
    PinCollection,
    PinKind,
    Pull,
    ResourceBusyError,
    RpiBoard,
    RpiBoardUtility,
    SelectorError,
    SpiBus,
    SpiBusCollection,
    SpiBusId,
    SpiDevice,
    SpiDeviceCollection,
    Uart,
    UartCollection,
)
from rpiboard_pihil.backends.simulated import Simulation
from rpiboard_pihil.utility import is_valid_driver_version


@pytest.fixture(scope="module")
def board() -> Iterator[RpiBoard]:
    b = open_sim("mirkopc")
    yield b
    b.close()


@pytest.fixture(autouse=True)
def _known_state(board: RpiBoard) -> None:
    board.ivi_utility.reset()


def free_line(board: RpiBoard) -> Gpio:
    """GPIO23: on the MirkoPC header, wired to nothing."""
    return board.gpios[23]


# -- IviUtility ---------------------------------------------------------------------------------


@exercises(
    "RpiBoardUtility.driver_version",
    "RpiBoardUtility.driver_vendor",
    "RpiBoardUtility.driver_identifier",
    "RpiBoardUtility.instrument_manufacturer",
    "RpiBoardUtility.instrument_model",
    "RpiBoardUtility.instrument_model_reported",
    "RpiBoardUtility.instrument_serial_number",
    "RpiBoardUtility.instrument_revision",
    "RpiBoardUtility.supported_instrument_models",
    "RpiBoardUtility.simulation_enabled",
    "RpiBoardUtility.simulate",
)
def test_identity_properties(board: RpiBoard) -> None:
    """IVI Driver Core "Required Driver APIs": identity members return their documented values."""
    u = board.ivi_utility
    assert is_valid_driver_version(u.driver_version)
    assert u.driver_vendor == "pihil developers"
    assert u.driver_identifier == "RpiBoard_Pihil"
    assert u.instrument_manufacturer == "MirkoPC"
    assert u.instrument_model == "MirkoPC REV1.1"
    assert u.instrument_model_reported == "MirkoPC REV1.1"
    # the emulated board gives no serial or revision (the Linux backend reads the kernel's)
    assert (u.instrument_serial_number, u.instrument_revision) == (None, None)
    models = u.supported_instrument_models
    assert isinstance(models, tuple)
    assert all(isinstance(m, str) for m in models)
    assert u.instrument_model in models
    assert u.simulation_enabled is True
    assert u.simulate is True


@exercises(
    "RpiBoardUtility.query_instrument_status_enabled",
    "RpiBoardUtility.query_instrument_status",
)
def test_query_instrument_status_set_and_read_back(board: RpiBoard) -> None:
    """IVI Driver Core: Query Instrument Status Enabled is false at initialization."""
    u = board.ivi_utility
    assert u.query_instrument_status_enabled is False
    for value in (True, False):
        u.query_instrument_status_enabled = value
        assert u.query_instrument_status_enabled is value
        assert u.query_instrument_status is value
        u.query_instrument_status = not value
        assert u.query_instrument_status_enabled is (not value)
    u.query_instrument_status_enabled = False
    for bad in (1, "True", None):
        with pytest.raises(ConfigurationError, match=r"True or False"):
            u.query_instrument_status_enabled = bad  # type: ignore[assignment]


@exercises(
    "RpiBoardUtility.error_query",
    "RpiBoardUtility.error_query_all",
    "RpiBoardUtility.raise_on_device_error",
)
def test_error_queries_return_without_failure(board: RpiBoard) -> None:
    u = board.ivi_utility
    assert u.error_query() is None
    assert u.error_query_all() == []
    u.raise_on_device_error()


@exercises("RpiBoardUtility.reset")
def test_reset_gives_the_known_state(board: RpiBoard) -> None:
    g = free_line(board)
    g.set_output(True)
    g.drive = Drive.OPEN_DRAIN
    dev = board.spi_buses[0].devices[0]
    dev.mode, dev.speed_hz = 3, 1_000_000
    board.ivi_utility.reset()
    assert g.direction is Direction.INPUT
    assert g.drive is Drive.PUSH_PULL
    assert g.edge_detection is Edge.NONE
    assert g.value is False  # soc-facts §3.7: GPIO23 resets to pull-down
    assert (dev.mode, dev.speed_hz) == (0, 500_000)


# -- RpiBoard -----------------------------------------------------------------------------------


@exercises(
    "RpiBoard.ivi_utility",
    "RpiBoard.board_name",
    "RpiBoard.info",
    "RpiBoard.resource_name",
    "RpiBoard.now_ns",
    "RpiBoard.delay",
    "RpiBoard.simulation",
)
def test_root_members(board: RpiBoard) -> None:
    assert isinstance(board.ivi_utility, RpiBoardUtility)
    assert board.board_name == "mirkopc"
    assert board.info.model == "MirkoPC REV1.1"
    assert board.resource_name == "local"
    t0 = board.now_ns
    board.delay(0.25)
    assert board.now_ns - t0 == 250_000_000
    board.delay(0)
    assert isinstance(board.simulation, Simulation)
    for bad in (-0.001, math.nan, math.inf, "1", None):
        with pytest.raises(ConfigurationError, match=r"delay\(seconds\)"):
            board.delay(bad)  # type: ignore[arg-type]


@exercises("RpiBoard.close")
def test_constructor_forms_and_close() -> None:
    """IVI-Python "Constructor": the spec's prototype, options as TypedDict or string."""
    b = RpiBoard("local", True, False, {"simulate": True, "board": "mirkopc"})
    b.close()
    b.close()  # idempotent
    with RpiBoard(
        "local", id_query=False, reset=True, options="Simulate=True, Board=mirkopc"
    ) as b2:
        assert b2.ivi_utility.simulation_enabled
    with RpiBoard("local", options={"simulate": True, "query_instrument_status": True}) as b3:
        assert b3.ivi_utility.query_instrument_status_enabled is True
        assert b3.board_name == "mirkopc"  # the default simulated board


# -- GPIO ---------------------------------------------------------------------------------------


@exercises("Gpio.name", "Gpio.number", "Gpio.direction", "Gpio.value", "Gpio.set_output")
def test_gpio_direction_and_value(board: RpiBoard) -> None:
    g = free_line(board)
    assert (g.name, g.number) == ("GPIO23", 23)
    for d in Direction:
        g.direction = d
        assert g.direction is d
    for v in (True, False):
        g.set_output(v)
        assert g.value is v
        g.value = not v
        assert g.value is (not v)
    for bad in (1, 0, "high", None):
        with pytest.raises(ConfigurationError, match=r"True or False"):
            g.value = bad  # type: ignore[assignment]
        with pytest.raises(ConfigurationError, match=r"True or False"):
            g.set_output(bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"Direction.INPUT, Direction.OUTPUT"):
        g.direction = "output"  # type: ignore[assignment]
    g.direction = Direction.INPUT
    with pytest.raises(ConfigurationError, match=r"not an output"):
        g.value = True


@exercises("Gpio.pull")
def test_gpio_pull_each_value(board: RpiBoard) -> None:
    g = free_line(board)
    expected = {Pull.UP: True, Pull.DOWN: False}
    for p in Pull:
        g.pull = p
        assert g.pull is p
        if p in expected:
            assert g.value is expected[p]
    with pytest.raises(ConfigurationError, match=r"Pull.NONE, Pull.UP, Pull.DOWN"):
        g.pull = "up"  # type: ignore[assignment]


@exercises("Gpio.drive")
def test_gpio_drive_each_value(board: RpiBoard) -> None:
    g = free_line(board)
    g.pull = Pull.UP
    for d in Drive:
        g.drive = d
        assert g.drive is d
    g.drive = Drive.OPEN_DRAIN
    g.set_output(False)
    assert g.value is False
    g.value = True
    assert g.value is True  # released: the pull-up
    with pytest.raises(ConfigurationError, match=r"Drive.PUSH_PULL, Drive.OPEN_DRAIN"):
        g.drive = 2  # type: ignore[assignment]


@exercises("Gpio.function")
def test_gpio_function_each_value(board: RpiBoard) -> None:
    """soc-facts §3.3: INPUT, OUTPUT and ALT0..ALT5 through GPFSEL."""
    g = free_line(board)
    for f in Function:
        g.function = f
        assert g.function is f
    with pytest.raises(ConfigurationError, match=r"Function.ALT5"):
        g.function = "ALT0"  # type: ignore[assignment]


@exercises("Gpio.edge_detection", "Gpio.debounce_s", "Gpio.wait_edges", "Gpio.read_edges")
def test_gpio_edges_each_value_and_limits(board: RpiBoard) -> None:
    g = board.gpios[17]  # jumpered to GPIO27 on the MirkoPC test jig
    drv = board.gpios[27]
    g.direction = Direction.INPUT
    drv.set_output(False)
    for e in Edge:
        g.edge_detection = e
        assert g.edge_detection is e
    g.edge_detection = Edge.BOTH
    for s in (0.0, 0.001, 4294.967295, 0):
        g.debounce_s = s
        assert g.debounce_s == pytest.approx(s)
    for bad in (-1e-6, 4294.968, math.nan, "1", True):
        with pytest.raises(ConfigurationError):
            g.debounce_s = bad  # type: ignore[assignment]
    g.debounce_s = 0
    assert g.read_edges() == []
    drv.value = True
    events = g.wait_edges(0.001)
    assert [e.kind for e in events] == [EdgeKind.RISING]
    assert g.wait_edges(0) == []
    with pytest.raises(ConfigurationError, match=r"Edge.NONE, Edge.RISING"):
        g.edge_detection = "both"  # type: ignore[assignment]
    for bad_t in (-1, math.inf):
        with pytest.raises(ConfigurationError, match=r"wait_edges\(timeout_s\)"):
            g.wait_edges(bad_t)


def test_gpio_rules_between_settings(board: RpiBoard) -> None:
    g = free_line(board)
    g.set_output(False)
    with pytest.raises(
        ConfigurationError, match=r"edge detection needs direction = Direction.INPUT"
    ):
        g.edge_detection = Edge.RISING
    g.direction = Direction.INPUT
    with pytest.raises(ConfigurationError, match=r"no edge detection"):
        g.wait_edges(0.001)
    g.edge_detection = Edge.FALLING
    with pytest.raises(ConfigurationError, match=r"set edge_detection = Edge.NONE before"):
        g.direction = Direction.OUTPUT
    with pytest.raises(ConfigurationError, match=r"set edge_detection = Edge.NONE before"):
        g.function = Function.OUTPUT


@exercises(
    "RpiBoard.gpios", "RpiBoard.gpios_item", "GpioCollection.resolve", "GpioCollection.names"
)
def test_every_gpio_by_every_specifier(board: RpiBoard) -> None:
    """IVI Driver Core: one property and one method with each legal instance specifier."""
    gpios = board.gpios
    assert isinstance(gpios, GpioCollection)
    assert gpios.names == tuple(f"GPIO{n}" for n in range(28))
    claimed = {0, 1, 2, 3, 7, 8, 9, 10, 11, 14, 15, 18, 19, 20, 21}  # buses and PCM (profile)
    for name in gpios:
        n = int(name[4:])
        forms = (name, name.lower(), n, GpioLine(n), board.gpios_item(name).name)
        items = {id(gpios[f]) for f in forms} | {id(board.gpios_item(f)) for f in forms}
        assert len(items) == 1, name
        g = gpios[name]
        assert gpios.resolve(n) == name
        assert isinstance(g.function, Function)  # a property
        if n in claimed:
            with pytest.raises(ResourceBusyError, match=rf"GPIO{n} is in use by"):
                g.set_output(False)
        else:
            g.set_output(False)  # a method
            assert g.direction is Direction.OUTPUT
    # profile names of the same lines
    assert gpios["J8-11"] is gpios[17]
    assert gpios["ID_SD"] is gpios[0]
    assert gpios["I2C1_SDA"] is gpios[2]
    assert gpios["BOARD13"] is gpios[27]
    assert gpios["bcm22"] is gpios[22]


@pytest.mark.parametrize("bad", [28, -1, "GPIO99", "J8-01", GpioLine.GPIO40, 2.0, True, "nonsense"])
def test_illegal_gpio_specifier_names_the_legal_ones(board: RpiBoard, bad: Any) -> None:
    with pytest.raises(SelectorError) as info:
        board.gpios[bad]
    assert "GPIO0, GPIO1, GPIO2" in str(info.value)
    assert info.value.legal == board.gpios.names
    with pytest.raises(KeyError):
        board.gpios_item(bad)
    assert bad not in board.gpios


# -- pins ---------------------------------------------------------------------------------------


@exercises(
    "RpiBoard.pins",
    "RpiBoard.pins_item",
    "Pin.name",
    "Pin.header",
    "Pin.number",
    "Pin.kind",
    "Pin.signal",
    "Pin.is_gpio",
    "Pin.gpio",
    "PinCollection.resolve",
    "PinCollection.names",
)
def test_every_pin_by_every_specifier(board: RpiBoard) -> None:
    pins = board.pins
    assert isinstance(pins, PinCollection)
    assert len(pins) == 40
    for name in pins:
        p = pins[name]
        assert pins[p.number] is p
        assert pins[HeaderPin(name)] is p
        assert board.pins_item(name.lower()) is p
        assert pins.resolve(p.number) == name
        assert (p.name, p.header) == (name, "J8")
        if p.is_gpio:
            assert p.kind is PinKind.GPIO
            assert p.gpio is board.gpios[p.signal]
        else:
            assert p.kind in (PinKind.POWER, PinKind.GROUND)
            with pytest.raises(ConfigurationError, match=rf"{name} is .* not a GPIO"):
                _ = p.gpio
    assert pins.names[0] == "J8-01"
    assert pins[1].signal == "3V3"


@pytest.mark.parametrize("bad", [0, 41, "J8-41", "P1-03", HeaderPin.P5_01, "GPIO17"])
def test_illegal_pin_specifier(board: RpiBoard, bad: Any) -> None:
    with pytest.raises(SelectorError, match=r"legal names: J8-01, J8-02"):
        board.pins[bad]


# -- SPI ----------------------------------------------------------------------------------------


@exercises(
    "RpiBoard.spi_buses",
    "RpiBoard.spi_buses_item",
    "SpiBus.name",
    "SpiBus.number",
    "SpiBus.devices",
    "SpiBus.devices_item",
    "SpiDevice.name",
    "SpiDevice.chip_select",
    "SpiDevice.mode",
    "SpiDevice.speed_hz",
    "SpiDevice.transfer",
    "SpiBusCollection.resolve",
    "SpiBusCollection.names",
    "SpiDeviceCollection.resolve",
    "SpiDeviceCollection.names",
)
def test_every_spi_bus_and_device(board: RpiBoard) -> None:
    buses = board.spi_buses
    assert isinstance(buses, SpiBusCollection)
    assert buses.names == ("spi0",)
    bus = buses["spi0"]
    assert buses[0] is bus
    assert buses[SpiBusId.SPI0] is bus
    assert board.spi_buses_item("SPI0") is bus
    assert (bus.name, bus.number) == ("spi0", 0)
    assert buses.resolve(0) == "spi0"
    devices = bus.devices
    assert isinstance(devices, SpiDeviceCollection)
    assert devices.names == ("ce0", "ce1")
    assert devices.resolve(ChipSelect.CE1) == "ce1"
    for cs in (0, 1):
        dev = devices[cs]
        assert devices[f"ce{cs}"] is dev
        assert devices[ChipSelect(cs)] is dev
        assert bus.devices_item(f"SPI0_CE{cs}_N") is dev
        assert devices[f"/dev/spidev0.{cs}"] is dev
        assert (dev.name, dev.chip_select) == (f"ce{cs}", cs)
        for mode in (0, 1, 2, 3):
            dev.mode = mode
            assert dev.mode == mode
        dev.mode = 0
        assert len(dev.transfer(b"\x00\x00")) == 2
    # the jig's W25Q32 on CE0 answers JEDEC ID (soc-facts §4.1 full duplex: as many bytes back)
    assert devices[0].transfer(b"\x9f\x00\x00\x00")[1:] == bytes([0xEF, 0x40, 0x16])


def test_spi_setting_limits(board: RpiBoard) -> None:
    dev = board.spi_buses[0].devices[0]
    for legal in (1, 125_000_000, 10_000_000):
        dev.speed_hz = legal
        assert dev.speed_hz == legal
    for illegal in (0, 125_000_001, -5, 1.5e6, "1000000"):
        with pytest.raises(ConfigurationError, match=r"speed_hz"):
            dev.speed_hz = illegal  # type: ignore[assignment]
    for illegal_mode in (-1, 4, "0", None):
        with pytest.raises(ConfigurationError, match=r"mode must be 0..3|takes an integer 0..3"):
            dev.mode = illegal_mode  # type: ignore[assignment]
    with pytest.raises(ConfigurationError, match=r"takes bytes"):
        dev.transfer("abc")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"0..255"):
        dev.transfer([1, 256])
    assert dev.transfer([0x9F, 0, 0, 0])[1] == 0xEF


@pytest.mark.parametrize(("bus", "cs"), [(1, None), ("spi3", None), (0, 2), (0, "ce7")])
def test_illegal_spi_specifiers(board: RpiBoard, bus: Any, cs: Any) -> None:
    with pytest.raises(SelectorError, match=r"legal names: (spi0|ce0, ce1)"):
        board.spi_buses[bus].devices[cs] if cs is not None else board.spi_buses[bus]


# -- the registry check -------------------------------------------------------------------------

# exercised in test_buses_conformance.py (I2C, UART) and test_simulation_handle.py
EXERCISED_ELSEWHERE_MODULES = ("test_buses_conformance", "test_simulation_handle")

API_CLASSES: dict[str, type] = {
    "RpiBoard": RpiBoard,
    "RpiBoardUtility": RpiBoardUtility,
    "Gpio": Gpio,
    "Pin": Pin,
    "SpiBus": SpiBus,
    "SpiDevice": SpiDevice,
    "I2cBus": I2cBus,
    "Uart": Uart,
    "Simulation": Simulation,
    "GpioCollection": GpioCollection,
    "PinCollection": PinCollection,
    "SpiBusCollection": SpiBusCollection,
    "SpiDeviceCollection": SpiDeviceCollection,
    "I2cBusCollection": I2cBusCollection,
    "UartCollection": UartCollection,
}
MAPPING_METHODS = {"get", "items", "keys", "values"}


def test_every_entry_point_is_exercised() -> None:
    """IVI Driver Core: "Call all implemented functions/methods at least once"."""
    import importlib

    for module in EXERCISED_ELSEWHERE_MODULES:
        importlib.import_module(module)  # registers its members in EXERCISED
    missing = []
    for cls_name, cls in API_CLASSES.items():
        for member in public_members(cls) - MAPPING_METHODS:
            if f"{cls_name}.{member}" not in EXERCISED:
                missing.append(f"{cls_name}.{member}")
    assert not missing, f"public members with no conformance test: {sorted(missing)}"
