"""The MirkoPC's on-board GPIO parts (soc-facts §7.2, the manual's GPIO table): the green LED800
on GPIO16, the red LED801 on GPIO26, the 3 kHz (2700 Hz) buzzer on GPIO22 through Q800, and the
IR receiver U803 (36/38 kHz) on GPIO17, driven through the driver and through the real RPi.GPIO
and gpiod inside a userspace, on simulated time.

NEC timing: SB-Projects "NEC Protocol" / Altium "NEC Infrared Transmission Protocol" (9 ms
burst, 4.5 ms space, 562.5 µs bursts, a 1 is a 1.6875 ms space, LSB first, address ~address
command ~command, final burst; repeat code 9 ms + 2.25 ms + 562.5 µs every 108 ms).
RC-5: SB-Projects "Philips RC-5 Protocol" (1.778 ms bi-phase bits, a 1 bursts in the second
half, 14 bits MSB first).
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import gpiod
import pytest
import RPi.GPIO as GPIO
from gpiod.line import Bias, Direction, Edge

from pihil_emulator.devices.gpio_parts import (
    NEC_UNIT_NS,
    Buzzer,
    IrReceiver,
    Led,
    nec_segments,
    rc5_bits,
    rc5_segments,
)
from rpiboard_pihil import RpiBoard
from rpiboard_pihil.enums import Pull

CHIP = "/dev/gpiochip0"
SIGROK = shutil.which("sigrok-cli")


@pytest.fixture
def mirkopc() -> Iterator[RpiBoard]:
    board = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
    yield board
    board.close()


def _part(board: RpiBoard, name: str) -> object:
    return board.simulation.devices[name]


# -- LEDs ---------------------------------------------------------------------------------


def test_the_profile_builds_the_parts_on_their_gpios(mirkopc: RpiBoard) -> None:
    """§7.2: GPIO16 LED800 green, GPIO26 LED801 red, GPIO22 buzzer, GPIO17 IR receiver."""
    parts = {n: _part(mirkopc, n) for n in ("led_green", "led_red", "buzzer", "ir_receiver")}
    assert isinstance(parts["led_green"], Led)
    assert parts["led_green"].net.name == "GPIO16"
    assert isinstance(parts["led_red"], Led)
    assert parts["led_red"].net.name == "GPIO26"
    assert parts["led_green"].color == "green"
    assert isinstance(parts["buzzer"], Buzzer)
    assert parts["buzzer"].net.name == "GPIO22"
    assert isinstance(parts["ir_receiver"], IrReceiver)
    assert parts["ir_receiver"].net.name == "GPIO17"


def test_leds_follow_their_gpios_through_the_driver(mirkopc: RpiBoard) -> None:
    """§7.2: LED800 on GPIO16, LED801 on GPIO26; active-high [I] (the seed is silent)."""
    green, red = _part(mirkopc, "led_green"), _part(mirkopc, "led_red")
    assert isinstance(green, Led)
    assert isinstance(red, Led)
    assert not green.on
    assert not red.on
    mirkopc.gpios[16].set_output(True)
    assert green.on
    assert not red.on
    mirkopc.simulation.run_for(0.01)
    mirkopc.gpios[26].set_output(True)
    mirkopc.gpios[16].value = False
    assert red.on
    assert not green.on
    assert [on for _, on in green.history] == [False, True, False]
    t_on, t_off = green.history[1][0], green.history[2][0]
    assert t_off - t_on >= 10_000_000


def test_an_active_low_led_lights_when_the_gpio_is_low() -> None:
    from pihil_emulator.devices.registry import create_device
    from pihil_emulator.errors import ConfigurationError

    led = create_device("led", name="x", params={"active": "low"})
    assert isinstance(led, Led)
    assert not led.active_high
    with pytest.raises(ConfigurationError, match="active must be high or low"):
        create_device("led", name="x", params={"active": "sideways"})


def test_leds_follow_rpi_gpio_and_gpiod_in_a_userspace(mirkopc: RpiBoard) -> None:
    green, red = _part(mirkopc, "led_green"), _part(mirkopc, "led_red")
    assert isinstance(green, Led)
    assert isinstance(red, Led)
    with mirkopc.simulation.userspace():
        GPIO.setmode(GPIO.BCM)
        GPIO.setup(16, GPIO.OUT, initial=GPIO.LOW)
        assert not green.on
        GPIO.output(16, GPIO.HIGH)
        assert green.on
        GPIO.cleanup()
        settings = gpiod.LineSettings(direction=Direction.OUTPUT)
        with gpiod.request_lines(CHIP, {26: settings}, consumer="led") as req:
            req.set_value(26, gpiod.line.Value.ACTIVE)
            assert red.on
            req.set_value(26, gpiod.line.Value.INACTIVE)
            assert not red.on


# -- buzzer -------------------------------------------------------------------------------


def test_the_buzzer_reads_the_frequency_of_rpi_gpio_software_pwm(mirkopc: RpiBoard) -> None:
    """§7.2: the 2700 Hz buzzer on GPIO22 via Q800; RPi.GPIO's software PWM at 2700 Hz."""
    buzzer = _part(mirkopc, "buzzer")
    assert isinstance(buzzer, Buzzer)
    assert buzzer.frequency_hz(10_000_000) is None  # steady
    with mirkopc.simulation.userspace():
        GPIO.setmode(GPIO.BCM)
        GPIO.setup(22, GPIO.OUT)
        pwm = GPIO.PWM(22, 2700)
        pwm.start(50)
        time.sleep(0.05)
        freq = buzzer.frequency_hz(20_000_000)
        pwm.stop()
        GPIO.cleanup()
    assert freq is not None
    assert freq == pytest.approx(2700, rel=0.05)


def test_the_buzzer_sounds_while_its_gpio_is_high(mirkopc: RpiBoard) -> None:
    buzzer = _part(mirkopc, "buzzer")
    assert isinstance(buzzer, Buzzer)
    mirkopc.gpios[22].set_output(True)
    assert buzzer.sounding
    mirkopc.simulation.run_for(0.01)
    assert buzzer.frequency_hz(5_000_000) is None
    mirkopc.gpios[22].value = False
    assert not buzzer.sounding


# -- IR receiver --------------------------------------------------------------------------


def _nec_decode(falls: list[int]) -> tuple[int, int, int, int]:
    """Pulse-distance decoding from the falling edges (burst starts) of the demodulated output."""
    gaps = [b - a for a, b in itertools.pairwise(falls)]
    assert gaps[0] == pytest.approx(24 * NEC_UNIT_NS, rel=0.05)  # 9 ms + 4.5 ms leader
    bits = [1 if g > 3 * NEC_UNIT_NS else 0 for g in gaps[1:33]]
    fields = [sum(b << i for i, b in enumerate(bits[k : k + 8])) for k in range(0, 32, 8)]
    return fields[0], fields[1], fields[2], fields[3]


def test_the_nec_waveform_has_the_protocol_timing() -> None:
    segs = nec_segments(0x04, 0x43)
    assert segs[:2] == [(True, 9_000_000), (False, 4_500_000)]
    assert len(segs) == 2 + 64 + 1
    # 0x04 LSB first: 0,0,1,... -> the third bit's space is 1687.5 µs
    assert segs[2:8] == [(True, 562_500), (False, 562_500)] * 2 + [
        (True, 562_500),
        (False, 1_687_500),
    ]
    assert (
        sum(d for _, d in segs) == 9_000_000 + 4_500_000 + 16 * 1_125_000 + 16 * 2_250_000 + 562_500
    )


def test_an_nec_frame_is_decoded_from_gpiod_edge_events(mirkopc: RpiBoard) -> None:
    """The IR receiver on GPIO17 (§7.2 U803); the line requested with a pull-up as the gpio-ir
    overlay does, GPIO27 (the jig's loop wire) left without bias."""
    ir = _part(mirkopc, "ir_receiver")
    assert isinstance(ir, IrReceiver)
    events = []
    with mirkopc.simulation.userspace():
        cfg = {
            17: gpiod.LineSettings(
                direction=Direction.INPUT, edge_detection=Edge.BOTH, bias=Bias.PULL_UP
            ),
            27: gpiod.LineSettings(direction=Direction.INPUT, bias=Bias.DISABLED),
        }
        with gpiod.request_lines(CHIP, cfg, consumer="ir") as req:
            time.sleep(0.001)
            assert req.get_value(17) is gpiod.line.Value.ACTIVE  # idle high
            ir.fire_nec(0x04, 0x43, repeats=1)
            while req.wait_edge_events(timedelta(milliseconds=200)):
                events += req.read_edge_events()
    falls = [e.timestamp_ns for e in events if e.event_type is e.Type.FALLING_EDGE]
    rises = [e.timestamp_ns for e in events if e.event_type is e.Type.RISING_EDGE]
    assert len(falls) == 34 + 2
    assert len(rises) == len(falls)
    assert _nec_decode(falls[:34]) == (0x04, 0xFB, 0x43, 0xBC)
    assert rises[0] - falls[0] == 9_000_000
    # the repeat code: 108 ms after the frame's start, 9 ms burst, 2.25 ms space
    assert falls[34] - falls[0] == 108_000_000
    assert falls[35] - rises[34] == 2_250_000


def test_the_rc5_waveform_is_bi_phase() -> None:
    """SB-Projects: command $35 to address $05 -> 11 0 00101 110101."""
    assert rc5_bits(0x05, 0x35) == [1, 1, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1]
    segs = rc5_segments(0x05, 0x35)
    assert segs[0] == (True, 889_000)  # S1: the burst in its second half
    assert sum(d for _, d in segs) == 27 * 889_000 - 0  # first idle half dropped
    assert all(d in (889_000, 1_778_000) for _, d in segs)


def test_a_frame_cannot_overlap_the_one_being_received(mirkopc: RpiBoard) -> None:
    from pihil_emulator.errors import ConfigurationError

    ir = _part(mirkopc, "ir_receiver")
    assert isinstance(ir, IrReceiver)
    end = ir.fire_rc5(5, 0x35)
    with pytest.raises(ConfigurationError, match="still being received"):
        ir.fire_nec(1, 2)
    assert ir.fire_nec(1, 2, at_ns=end) > end


def test_the_jig_loop_still_works_with_the_ir_receiver_on_gpio17(mirkopc: RpiBoard) -> None:
    mirkopc.gpios[27].set_output(True)
    assert mirkopc.gpios[17].value is True
    mirkopc.gpios[27].value = False
    assert mirkopc.gpios[17].value is False  # push-pull wins over the receiver's pull-up


@pytest.mark.skipif(SIGROK is None, reason="sigrok-cli is not installed")
def test_sigrok_ir_nec_decodes_a_recorded_frame(mirkopc: RpiBoard, tmp_path: Path) -> None:
    ir = _part(mirkopc, "ir_receiver")
    assert isinstance(ir, IrReceiver)
    mirkopc.gpios[17].pull = Pull.UP  # as the gpio-ir overlay requests it
    path = tmp_path / "ir.vcd"
    with mirkopc.simulation.record_vcd(str(path), nets=["GPIO17"]):
        mirkopc.simulation.run_for(0.005)
        end = ir.fire_nec(0x04, 0x43)
        mirkopc.simulation.run_for((end - mirkopc.simulation.now_ns) / 1e9 + 0.02)
    assert SIGROK is not None
    out = subprocess.run(
        [SIGROK, "-I", "vcd", "-i", str(path), "-P", "ir_nec:ir=GPIO17:polarity=active-low"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert "Address: 0x04" in out, out
    assert "Command: 0x43" in out, out


@pytest.mark.skipif(SIGROK is None, reason="sigrok-cli is not installed")
def test_sigrok_ir_rc5_decodes_a_recorded_frame(mirkopc: RpiBoard, tmp_path: Path) -> None:
    """SB-Projects' example: command $35 (53) to address $05, here with the toggle bit set."""
    ir = _part(mirkopc, "ir_receiver")
    assert isinstance(ir, IrReceiver)
    mirkopc.gpios[17].pull = Pull.UP
    path = tmp_path / "rc5.vcd"
    with mirkopc.simulation.record_vcd(str(path), nets=["GPIO17"]):
        mirkopc.simulation.run_for(0.005)
        end = ir.fire_rc5(0x05, 0x35, toggle=True)
        mirkopc.simulation.run_for((end - mirkopc.simulation.now_ns) / 1e9 + 0.02)
    assert SIGROK is not None
    out = subprocess.run(
        [SIGROK, "-I", "vcd", "-i", str(path), "-P", "ir_rc5:ir=GPIO17"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert "Togglebit: 1" in out, out
    assert "Address: 5 " in out, out
    assert "Command: 53 " in out, out
