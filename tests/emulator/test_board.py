"""The Board assembled from a profile: SoC, rails, pulls, wiring, devices, registers (DESIGN "Devices and boards")."""

from __future__ import annotations

from pathlib import Path

import pytest

from pihil_emulator.attachments import Attachment
from pihil_emulator.board import Board, UnknownDevice
from pihil_emulator.errors import ConfigurationError, ElectricalFault, PinError, RegisterError
from pihil_emulator.world.net import Drive


@pytest.fixture(scope="module")
def mirkopc_template() -> Board:
    return Board.from_profile("mirkopc")


@pytest.fixture
def board() -> Board:
    return Board.from_profile("mirkopc")


def test_mirkopc_is_a_cm4_with_its_devices(board: Board) -> None:
    """soc-facts §7.2: MirkoPC REV1.1 is a CM4 (BCM2711) carrier; RTC 0x68, LM75B 0x48,
    TPA6130A2 0x60 and EMC2301 0x2F on I2C1 (GPIO2/3)."""
    assert board.variant.name == "BCM2711"
    assert board.gpio.count == 58
    on_i2c1 = {a.device.address for a in board.attachments.on_bus("i2c1")}  # type: ignore[attr-defined]
    assert on_i2c1 == {0x68, 0x48, 0x60, 0x2F}
    for name in ("rtc", "temperature", "headphone_amp", "fan"):
        assert board.devices[name] is not None
    assert board.devices["rtc"].address == 0x68  # type: ignore[attr-defined]


def test_declared_devices_without_a_model_are_listed_not_built(board: Board) -> None:
    """soc-facts §7.2: the DAC and the power-button MCU are on the board; without a model they
    are declared, and asking for one says so (the LEDs, buzzer and IR receiver are modelled:
    tests/emulator/test_gpio_parts.py)."""
    assert set(board.unmodelled) == {"dac", "power_button"}
    assert board.profile.devices["led_green"].gpio == 16
    assert board.profile.devices["ir_receiver"].gpio == 17
    with pytest.raises(UnknownDevice, match="no model yet"):
        board.devices["dac"]
    with pytest.raises(UnknownDevice, match="has no device 'rtcc'"):
        board.devices["rtcc"]


def test_boot_functions_route_the_enabled_buses(board: Board) -> None:
    """soc-facts §3.9: I2C1 = GPIO2/3 ALT0, SPI0 = GPIO7-11 ALT0, UART0 = GPIO14/15 ALT0;
    the profile's config (dtparam=i2c_arm, spi, i2c_vc; disable-bt) leaves them so."""
    gpio = board.gpio
    assert gpio.signal(2) == "SDA1"
    assert gpio.signal(3) == "SCL1"
    assert [gpio.signal(n) for n in (7, 8, 9, 10, 11)] == [
        "SPI0_CE1_N",
        "SPI0_CE0_N",
        "SPI0_MISO",
        "SPI0_MOSI",
        "SPI0_SCLK",
    ]
    assert gpio.signal(14) == "TXD0"
    assert gpio.signal(0) == "SDA0"
    assert gpio.function(4) == "input"


def test_reset_restores_registers_then_boot_functions(board: Board) -> None:
    """soc-facts §3.3: a SoC reset puts every pin back to input; the firmware then sets up the buses."""
    board.write_register("gpio", "GPFSEL0", 0b001 << 12)  # GPIO4 output
    board.write_register("gpio", "GPFSEL0", board.read_register("gpio", "GPFSEL0") & ~(0b111 << 6))
    assert board.gpio.function(2) == "input"
    board.reset()
    assert board.gpio.function(4) == "input"
    assert board.gpio.function(2) == "ALT0"


def test_i2c1_pull_ups_read_high_when_nothing_drives(board: Board) -> None:
    """Seed: "P1-03 and P1-05 (SDA1 and SCL1) have 1.8 kohm pull-up resistors to 3.3 V"."""
    for pin in ("J8-03", "J8-05"):
        net = board.net(pin)
        assert net.level is True
        assert any("1K8" in owner for owner in net.drivers)
    # with the pad's own pull turned to a pull-down, the 1K8 still wins (divider 1.8k / 50k)
    board.gpio.set_pull(2, "down")
    assert board.net("GPIO2").volts == pytest.approx(3.3 * 50_000 / 51_800)
    assert board.gpio.level(2) is True


def test_hat_id_pins_read_high_through_the_jig_3k9(board: Board) -> None:
    """soc-facts §6: "The only allowed connections to the ID_ pins are an ID EEPROM plus 3.9K
    pull up resistors" — high with nothing driving, even with the pads' pulls off."""
    for line, pin in ((0, "ID_SD"), (1, "ID_SC")):
        board.gpio.set_pull(line, "down")
        assert board.net(pin).level is True
        assert board.net(pin).volts == pytest.approx(3.3 * 50_000 / 53_900)


def test_test_jig_jumpers_are_fitted(board: Board) -> None:
    """The profile's test jig wires J8-11 to J8-13 (GPIO17-GPIO27): an output on one is read on the other."""
    board.gpio.set_function(17, "output")
    board.write_register("gpio", "GPSET0", 1 << 17)
    assert board.gpio.level(27) is True
    board.write_register("gpio", "GPCLR0", 1 << 17)
    assert board.gpio.level(27) is False
    labels = {w.label for w in board.wires}
    assert any("GPIO17-GPIO27" in label for label in labels)


def test_jumper_added_at_run_time_and_removed(board: Board) -> None:
    """DESIGN: jumper wires between header pins, added at run time by any pin name."""
    wire = board.connect("J8-16", "GPIO24")
    board.gpio.set_function(23, "output")
    board.write_register("gpio", "GPSET0", 1 << 23)
    assert board.gpio.level(24) is True
    board.disconnect(wire)
    assert board.gpio.level(24) is False  # back on its reset pull-down


def test_supply_pin_used_as_gpio_is_an_electrical_fault(board: Board) -> None:
    """Issue 2: "driving or reading a power or ground pin as if it were a GPIO" raises ElectricalFault."""
    for pin in ("J8-01", "J8-02", "J8-06", "3V3", "GND"):
        with pytest.raises(ElectricalFault, match="not a GPIO"):
            board.pins.gpio_line(pin)
    assert board.pins.gpio_line("J8-11") == 17


def test_jumper_from_an_output_to_ground_fights(board: Board) -> None:
    """DESIGN: a short to a supply pin is an ElectricalFault naming the nets and drivers."""
    board.gpio.set_function(4, "output")
    board.write_register("gpio", "GPSET0", 1 << 4)
    with pytest.raises(ElectricalFault, match="GND"):
        board.connect("J8-07", "J8-09")


def test_external_voltage_above_3v3_is_refused(board: Board) -> None:
    """Seed: "GPIO voltage levels are 3.3 V and are not 5 V tolerant"."""
    with pytest.raises(ElectricalFault, match="not 5 V tolerant"):
        board.apply_voltage("J8-07", 5.0)
    board.apply_voltage("J8-07", 0.0)
    assert board.gpio.level(4) is False
    board.remove_voltage("J8-07")
    assert board.gpio.level(4) is True  # the pad's reset pull-up


def test_attachments_are_found_through_a_jumper(board: Board) -> None:
    """docs/emulator-api.md: attachments.find matches by electrical node, so a device on
    nets that a jumper joins to the controller's pins is found too."""

    class Probe:
        name = "probe"

    dev = Probe()
    att = board.attach(dev, bus="sensor-bus", kind="i2c", sda="J8-16", scl="J8-18")
    assert isinstance(att, Attachment)
    sda, scl = board.gpio.net(2), board.gpio.net(3)
    assert board.attachments.find("i2c", sda=board.net("J8-16"), scl=board.net("J8-18")) == [att]
    assert att not in board.attachments.find("i2c", sda=sda, scl=scl)
    w1 = board.connect("J8-16", "J8-03")
    w2 = board.connect("J8-18", "J8-05")
    assert att in board.attachments.find("i2c", sda=sda, scl=scl)
    board.disconnect(w1)
    board.disconnect(w2)
    assert att not in board.attachments.find("i2c", sda=sda, scl=scl)


def test_attach_to_a_profile_bus(board: Board) -> None:
    """docs/emulator-api.md: board.attach(device, bus="i2c1") wires the device to the bus's pins."""

    class Chip:
        name = "chip"
        bound = None

        def bind(self, world: object) -> None:
            self.bound = world

    chip = Chip()
    att = board.attach(chip, bus="i2c1")
    assert att.kind == "i2c"
    assert {r: n.name for r, n in att.nets.items()} == {"sda": "GPIO2", "scl": "GPIO3"}
    assert chip.bound is board.world
    with pytest.raises(ConfigurationError, match="cs='ce0'"):
        board.attach(Chip(), bus="spi0")
    spi = board.attach(Chip(), bus="spi0", cs="ce1")
    assert spi.nets["cs"].name == "GPIO7"
    with pytest.raises(ConfigurationError, match="not a bus of the mirkopc profile"):
        board.attach(Chip(), bus="i2c7")


def test_registers_by_block_and_name(board: Board) -> None:
    """DESIGN: register access by block and datasheet name; unknown names are clear errors."""
    assert board.read_register("pads", "PADS0") == 0x1B
    assert board.read_register("GPIO", "GPIO_PUP_PDN_CNTRL_REG3") == 0x00055555
    with pytest.raises(RegisterError, match="no block 'gpu'"):
        board.read_register("gpu", "X")
    with pytest.raises(RegisterError, match="GPFSEL0"):
        board.read_register("gpio", "GPFSEL9")


def test_unknown_pin_lists_close_matches(board: Board) -> None:
    """Bad input gets a clear error naming what is valid."""
    with pytest.raises(PinError, match="did you mean J8-03"):
        board.net("JB-03")
    with pytest.raises(PinError, match="did you mean GPIO17"):
        board.net("GPI017")


def test_record_vcd_by_pin_names(board: Board, tmp_path: Path) -> None:
    """DESIGN: a VCD of any set of nets, by pin names."""
    board.gpio.set_function(17, "output")
    path = tmp_path / "jig.vcd"
    with board.record_vcd(path, nets=["J8-11", "GPIO27"]):
        board.run_for(1000)
        board.write_register("gpio", "GPSET0", 1 << 17)
        board.run_for(1000)
    text = path.read_text()
    assert "GPIO17" in text
    assert "GPIO27" in text
    assert "#1000" in text


def test_seed_makes_separate_worlds(mirkopc_template: Board) -> None:
    """DESIGN "Time": one SimPy environment per board; the seed feeds its random source."""
    a = Board.from_profile("mirkopc", seed=7)
    b = Board.from_profile("mirkopc", seed=7)
    assert a.world is not b.world
    assert a.world.random.random() == b.world.random.random()
    a.run_for(5000)
    assert (a.now_ns, b.now_ns) == (5000, 0)
    assert mirkopc_template.now_ns == 0


def test_soc_overrides(board: Board) -> None:
    """soc-facts §1.4: the stretch-bug switch and the core clock are per-board overrides."""
    fast = Board.from_profile("mirkopc", soc_overrides={"core_clock_hz": 400_000_000})
    assert fast.variant.core_clock_hz == 400_000_000
    assert fast.gpio.sync_window_ns == 5
    with pytest.raises(ConfigurationError, match="core_clock"):
        Board.from_profile("mirkopc", soc_overrides={"core_clock": 1})


def test_net_drive_helpers(board: Board) -> None:
    """docs/emulator-api.md: board.net(name) is the circuit's net; drives go straight to it."""
    board.net("J8-29").drive("test", Drive.push_pull(True))
    assert board.gpio.level(6) is True  # GPIO5-GPIO6 jig loop


def test_rev1_board_pull_ups_follow_p1_03_05() -> None:
    """Seed: the 1K8 pull-ups are on P1-03/P1-05, which carry GPIO0/1 on revision 1 (not GPIO2/3)."""
    board = Board.from_profile("rpi-b-rev1")
    for line in (0, 1, 2, 3):
        board.gpio.set_pull(line, "down")
    assert board.net("P1-03").level is True
    assert board.net("P1-05").level is True
    assert board.gpio.level(2) is False
    assert board.gpio.level(3) is False
    assert board.gpio.signal(0) == "SDA0"  # i2c0 on P1 (dtparam=i2c_vc=on)


def test_gpio_lines_cover_headers_buses_and_devices() -> None:
    """The lines a board brings out: header GPIOs, bus pins off the header (CM4IO GPIO44/45)."""
    assert Board.from_profile("cm4-io").profile.gpio_lines == (*range(28), 44, 45)
    rev2 = Board.from_profile("rpi-b-rev2").profile.gpio_lines
    assert {28, 29, 30, 31, 16} <= set(rev2)
    assert 0 not in rev2
