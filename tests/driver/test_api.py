"""The constructor, the session's life, the exception hierarchy, and RpiBoard on the Linux backend."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FakeLinux
from sim_helpers import open_sim

import rpiboard_pihil
import rpiboard_pihil.backends.linux as linux
from pihil_emulator import errors as emu
from rpiboard_pihil import (
    BusError,
    BusTimeoutError,
    ConfigurationError,
    Direction,
    ElectricalFaultError,
    I2cClockStretchTimeoutError,
    I2cNackError,
    IdQueryError,
    OptionError,
    PihilError,
    ProfileError,
    RegisterAccessError,
    ResourceNameError,
    ResourceNotFoundError,
    RpiBoard,
    SelectorError,
    SessionClosedError,
    SimulationNotAvailableError,
)
from rpiboard_pihil.backends.simulated import translate

# -- the constructor ----------------------------------------------------------------------------


def test_constructor_signature_is_the_specs() -> None:
    """IVI-Python "Constructor": RpiBoard(resource_name, id_query=True, reset=False, options=None)."""
    params = list(inspect.signature(RpiBoard.__init__).parameters.values())[1:]
    assert [(p.name, p.default) for p in params] == [
        ("resource_name", inspect.Parameter.empty),
        ("id_query", True),
        ("reset", False),
        ("options", None),
    ]


@pytest.mark.skipif(Path("/dev/gpiochip0").exists(), reason="this machine has a GPIO chip")
def test_simulation_is_off_by_default_and_local_fails_here() -> None:
    """IVI Driver Core: Simulate is false by default; issue 5: "local" fails at once here."""
    with pytest.raises(ResourceNotFoundError) as info:
        RpiBoard("local")
    message = str(info.value)
    assert "/dev/gpiochip0 does not exist" in message
    assert "RpiBoard('local', options={'simulate': True, 'board': 'mirkopc'})" in message


@pytest.mark.parametrize(
    "name", ["TCPIP::10.0.0.2::INSTR", "", "LOCAL", "ssh://pi@board", "/dev/gpiochip0"]
)
def test_other_resource_names_are_rejected_clearly(name: str) -> None:
    with pytest.raises(ResourceNameError, match=r"the only form is 'local'.*remote boards"):
        RpiBoard(name, options={"simulate": True})


def test_bad_argument_types() -> None:
    with pytest.raises(ResourceNameError, match=r"must be a str"):
        RpiBoard(42, options={"simulate": True})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"id_query takes True or False"):
        RpiBoard("local", id_query="yes", options={"simulate": True})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"reset takes True or False"):
        RpiBoard("local", reset=1, options={"simulate": True})  # type: ignore[arg-type]
    with pytest.raises(OptionError, match=r"unknown board 'pi5'; known boards: .*mirkopc"):
        RpiBoard("local", options={"simulate": True, "board": "pi5"})
    with pytest.raises(OptionError, match=r"unknown option 'Simulation'"):
        RpiBoard("local", options="Simulation=True")
    with pytest.raises(OptionError, match=r"names 'uart5'.*valid names: i2c1, i2c0, uart0"):
        RpiBoard("local", options={"simulate": True, "devices": {"uart5": "/dev/ttyUSB0"}})
    with RpiBoard("local", options={"simulate": True, "devices": {"uart0": "/dev/ttyUSB0"}}):
        pass  # a valid name is accepted (it matters only on hardware)


@pytest.mark.parametrize(
    "board", ["rpi-b-rev1", "rpi-b-rev2", "rpi-bplus", "rpi-4b", "cm4-io", "mirkopc"]
)
def test_every_profile_opens_in_simulation(board: str) -> None:
    """id_query in simulation: the profile's model, one of the supported models."""
    with open_sim(board) as b:
        u = b.ivi_utility
        assert u.instrument_model in u.supported_instrument_models
        assert len(u.supported_instrument_models) == 6
        assert b.board_name == board
        for collection in (b.gpios, b.pins, b.i2c_buses, b.spi_buses, b.uarts):
            assert len(collection) > 0
            assert [collection[name].name for name in collection] == list(collection.names)
        for bus in b.spi_buses.values():
            assert [bus.devices[n].name for n in bus.devices] == list(bus.devices.names)
        assert b.pins[1].name == f"{b.info.primary_header}-01"


# -- the session --------------------------------------------------------------------------------


def test_closed_session_refuses_every_call() -> None:
    b = open_sim()
    g = b.gpios[23]
    spi = b.spi_buses[0].devices[0]
    b.close()
    for call in (
        lambda: g.value,
        lambda: spi.transfer(b"\x00"),
        lambda: b.delay(0.001),
        lambda: b.ivi_utility.reset(),
        lambda: b.now_ns,
    ):
        with pytest.raises(SessionClosedError, match=r"open a new RpiBoard"):
            call()
    assert "closed" in repr(b)


def test_context_manager_closes() -> None:
    with open_sim() as b:
        assert "open" in repr(b)
    with pytest.raises(SessionClosedError):
        b.gpios[23].direction = Direction.OUTPUT


def test_two_sessions_are_independent_worlds() -> None:
    with open_sim() as a, open_sim() as b:
        a.delay(1.0)
        assert a.now_ns == 1_000_000_000
        assert b.now_ns == 0


def test_same_seed_same_run() -> None:
    """DESIGN "Time": deterministic; the same seed gives the same run."""

    def run(seed: int) -> tuple[int, bytes]:
        with open_sim(seed=seed) as b:
            i2c = b.i2c_buses[1]
            i2c.write(0x68, b"\x03\x00")
            b.delay(1.5)
            return b.now_ns, i2c.write_read(0x68, b"\x03", 3)

    assert run(3) == run(3)


# -- exceptions ---------------------------------------------------------------------------------


def test_every_exception_is_rooted_at_pihil_error() -> None:
    """IVI-Python "Error Handling": errors are exceptions; one hierarchy, documented."""
    exported = [
        getattr(rpiboard_pihil, n)
        for n in rpiboard_pihil.__all__
        if isinstance(getattr(rpiboard_pihil, n), type)
        and issubclass(getattr(rpiboard_pihil, n), BaseException)
    ]
    assert len(exported) >= 19
    help_text = (Path(__file__).resolve().parents[2] / "driver/HELP.md").read_text()
    for cls in exported:
        assert issubclass(cls, PihilError), cls
        assert f"`{cls.__name__}`" in help_text, f"{cls.__name__} is not documented"
    assert issubclass(SelectorError, KeyError)
    assert issubclass(ConfigurationError, ValueError)
    assert issubclass(BusTimeoutError, TimeoutError)
    assert str(SelectorError("plain message", legal=())) == "plain message"


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        (emu.ElectricalFault("contention", net="GPIO4", drivers=["a: high"], time_ns=5), ElectricalFaultError),
        (emu.BusError("x", bus="bsc1", kind="nack", address=0x50, phase="address"), I2cNackError),
        (emu.BusError("x", bus="bsc1", kind="clkt", address=0x50), I2cClockStretchTimeoutError),
        (emu.BusError("x", bus="bsc1", kind="timeout"), BusTimeoutError),
        (emu.BusError("x", bus="spi0", kind="not_routed"), BusError),
        (emu.ConfigurationError("bad mode"), ConfigurationError),
        (emu.PinError("unknown pin 'J9-1'"), SelectorError),
        (emu.RegisterError("no GPXYZ"), RegisterAccessError),
        (emu.ProfileError("f.yaml", "buses.i2c1", "a mapping"), ProfileError),
        (emu.EmulatorError("anything else"), PihilError),
    ],
)  # fmt: skip
def test_emulator_exceptions_are_translated(original: emu.EmulatorError, expected: type) -> None:
    """Issue 5: emulator exceptions reach the user translated; their facts carried over."""
    translated = translate(original)
    assert type(translated) is expected
    assert str(original) in str(translated) or str(translated).endswith(str(original))
    if isinstance(original, emu.BusError):
        assert isinstance(translated, BusError)
        assert (translated.bus, translated.kind, translated.address) == (
            original.bus,
            original.kind,
            original.address,
        )
    if isinstance(original, emu.ElectricalFault):
        assert isinstance(translated, ElectricalFaultError)
        assert (translated.net, translated.drivers, translated.time_ns) == (
            "GPIO4",
            ("a: high",),
            5,
        )


# -- RpiBoard on the Linux backend (fake /dev and /proc, library doubles) ---------------------------


@pytest.fixture
def local_board(fake_linux: FakeLinux, monkeypatch: pytest.MonkeyPatch) -> Iterator[RpiBoard]:
    monkeypatch.setattr(linux, "DEFAULT_ROOT", fake_linux.root)
    monkeypatch.setattr(linux, "load_libraries", lambda: fake_linux.libs)
    b = RpiBoard("local")
    yield b
    b.close()


def test_local_board_identifies_from_the_kernel(local_board: RpiBoard) -> None:
    """Issue 5: on a real board the kernel's model picks the supported profile."""
    u = local_board.ivi_utility
    assert (u.instrument_manufacturer, u.instrument_model) == (
        "Raspberry Pi Ltd",
        "Raspberry Pi 4 Model B",
    )
    assert u.instrument_model_reported == "Raspberry Pi 4 Model B Rev 1.4"
    assert u.simulation_enabled is False
    assert local_board.board_name == "rpi-4b"
    with pytest.raises(SimulationNotAvailableError, match=r"options=\{'simulate': True\}"):
        _ = local_board.simulation


def test_local_board_gpio_through_gpiod(local_board: RpiBoard, fake_linux: FakeLinux) -> None:
    g = local_board.gpios["J8-11"]
    g.set_output(True)
    assert fake_linux.gpiod.fake_line(17).output.name == "ACTIVE"
    assert g.value is True
    assert g.direction is Direction.OUTPUT
    local_board.ivi_utility.reset()
    assert fake_linux.gpiod.fake_line(17).consumer == ""


def test_local_board_unsupported_model(
    fake_linux: FakeLinux, monkeypatch: pytest.MonkeyPatch
) -> None:
    (fake_linux.root / "proc/device-tree/model").write_bytes(b"Raspberry Pi 5 Model B Rev 1.0\x00")
    monkeypatch.setattr(linux, "DEFAULT_ROOT", fake_linux.root)
    monkeypatch.setattr(linux, "load_libraries", lambda: fake_linux.libs)
    with pytest.raises(IdQueryError) as info:
        RpiBoard("local")
    assert info.value.found == "Raspberry Pi 5 Model B Rev 1.0"
    assert "MirkoPC REV1.1" in info.value.supported
    with RpiBoard("local", id_query=False, options={"board": "rpi-4b"}) as forced:
        assert forced.ivi_utility.instrument_model_reported == "Raspberry Pi 5 Model B Rev 1.0"


def test_local_delay_is_wall_time(local_board: RpiBoard) -> None:
    """Issue 5: board.delay is wall time on hardware (the clock is CLOCK_MONOTONIC)."""
    t0 = local_board.now_ns
    local_board.delay(0)
    assert local_board.now_ns >= t0
