"""MCP3008 ADC against its datasheet (Microchip DS21295D), clocked through the SPI engine."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pihil_emulator.buses.spi_bus import SpiBus
from pihil_emulator.buses.spi_master import SpiMaster
from pihil_emulator.devices.mcp3008 import DIFFERENTIAL_PAIRS, Mcp3008
from pihil_emulator.errors import ConfigurationError
from pihil_emulator.world.clock import World
from pihil_emulator.world.net import Circuit, Drive, NetKind


def bench(*, miso_pull_up: bool = False, vref: float = 3.3) -> tuple[SpiMaster, Mcp3008]:
    world = World(seed=3)
    c = Circuit(world)
    sclk, mosi, miso, cs = (c.add_net(n, NetKind.GPIO) for n in ("SCLK", "MOSI", "MISO", "CS"))
    miso.drive("pull", Drive.pull_up(50_000) if miso_pull_up else Drive.pull_down(50_000))
    bus = SpiBus(world, "spi")
    adc = Mcp3008(vref=vref)
    bus.attach(adc, cs=cs, sclk=sclk, mosi=mosi, miso=miso)
    return SpiMaster(bus, sclk=sclk, mosi=mosi, miso=miso, cs=[cs], sclk_hz=1_000_000), adc


def read_single(master: SpiMaster, ch: int, mode: int = 0) -> tuple[int, bytes]:
    rx = master.transfer(bytes([0x01, 0x80 | ch << 4, 0x00]), mode=mode)
    return ((rx[1] & 0x03) << 8) | rx[2], rx


def test_three_byte_framing_reads_the_channel() -> None:
    """DS21295D §6.1: start bit in byte 0, SGL+D2..D0 in byte 1, result in byte 1 bits 1..0 and byte 2."""
    master, adc = bench()
    adc.set_voltage(5, 1.65)
    code, rx = read_single(master, 5)
    assert code == 512  # 1024 × 1.65 / 3.3
    assert rx[1] & 0x04 == 0  # the null bit precedes B9
    assert adc.conversions == 1


def test_transfer_function_floors_and_clips() -> None:
    """DS21295D eq. 4-1: code = 1024 × VIN / VREF; VIN ≥ VREF reads 1023, 0 V reads 0."""
    master, adc = bench(vref=2.048)
    cases = {0.0: 0, 0.002: 1, 1.0: 500, 2.047: 1023, 2.048: 1023, 3.3: 1023}
    for volts, expected in cases.items():
        adc.set_voltage(0, volts)
        assert read_single(master, 0)[0] == expected, volts


def test_hi_z_bits_read_the_miso_pull() -> None:
    """DS21295D Fig. 5-1: DOUT is high impedance until the null bit, so the master reads the pull."""
    master, adc = bench(miso_pull_up=True)
    adc.set_voltage(0, 0.0)
    _, rx = read_single(master, 0)
    assert rx[0] == 0xFF  # all hi-Z: pulled up
    assert rx[1] == 0xF8  # SGL D2 D1 D0 + sample clock hi-Z, then null 0, B9 B8 = 0
    master2, _ = bench(miso_pull_up=False)
    assert read_single(master2, 0)[1][0] == 0x00


@pytest.mark.parametrize("select", sorted(DIFFERENTIAL_PAIRS))
def test_differential_pairs(select: int) -> None:
    """DS21295D Table 5-2: SGL/DIFF = 0 converts IN+ − IN−; IN− above IN+ gives 000h."""
    master, adc = bench()
    plus, minus = DIFFERENTIAL_PAIRS[select]
    adc.set_voltage(plus, 2.0)
    adc.set_voltage(minus, 0.35)
    rx = master.transfer(bytes([0x01, select << 4, 0x00]))
    assert ((rx[1] & 3) << 8) | rx[2] == int(1024 * 1.65 / 3.3)
    adc.set_voltage(plus, 0.1)
    rx = master.transfer(bytes([0x01, select << 4, 0x00]))
    assert ((rx[1] & 3) << 8) | rx[2] == 0


def test_leading_zeros_shift_the_frame() -> None:
    """DS21295D §5.0: "it is possible to bring CS low and clock in leading zeros on the DIN line
    before the start bit"; the result moves with the start bit."""
    master, adc = bench()
    adc.set_voltage(2, 3.3 * 700 / 1024)
    # start bit as byte 0 bit 6: the result ends one bit earlier than in the 3-byte framing
    rx = master.transfer(bytes([0b0000_0011, 0b0100_0000, 0x00, 0x00]))  # start, SGL, D2D1D0=010
    bits = int.from_bytes(rx, "big")
    # start bit at stream bit 6 (0-based from MSB), null bit at 6 + 6 = 12, B9..B0 at 13..22
    code = (bits >> (32 - 23)) & 0x3FF
    assert code == 700


def test_lsb_first_echo_then_zeros() -> None:
    """DS21295D Fig. 5-2: after B0, further clocks give B1..B9 (LSB first), then zeros indefinitely."""
    master, adc = bench()
    adc.set_voltage(1, 3.3 * 0b1011001110 / 1024)
    rx = master.transfer(bytes([0x01, 0x90, 0x00, 0x00, 0x00, 0x00]))
    bits = int.from_bytes(rx, "big")
    stream = [(bits >> (47 - i)) & 1 for i in range(48)]
    msb_first = stream[14:24]  # B9..B0: stream bits 14..23
    lsb_first = stream[24:33]  # B1..B9
    assert int("".join(map(str, msb_first)), 2) == 0b1011001110
    assert lsb_first == list(reversed(msb_first))[1:]
    assert stream[33:] == [0] * 15


def test_new_conversion_needs_cs_toggle() -> None:
    """DS21295D §5.0: a conversion is initiated by bringing CS low; one frame per CS assertion."""
    master, adc = bench()
    adc.set_voltage(0, 1.0)
    # two start sequences in one CS assertion: only the first converts
    master.transfer(bytes([0x01, 0x80, 0x00, 0x00, 0x00, 0x00, 0x01, 0x80, 0x00]))
    assert adc.conversions == 1
    read_single(master, 0)
    assert adc.conversions == 2


def test_mode_3_works_like_mode_0() -> None:
    """DS21295D §5.0: "can be used with SPI modes 0,0 and 1,1"."""
    master, adc = bench()
    adc.set_voltage(7, 2.5)
    assert read_single(master, 7, mode=3)[0] == read_single(master, 7, mode=0)[0] == 775


def test_mode_1_shifts_the_bits_the_adc_sees() -> None:
    """Mode 0,1 (CPHA = 1) launches each MOSI bit on the rising edge the ADC samples on, so the
    ADC sees the previous bit and the frame slips by one clock; its output, changed on the
    falling edge the master samples on, is read in place [I, hold-time rule of spi_bus]."""
    master, adc = bench()
    adc.set_voltage(0, 1.0)  # code 310 = 0b01_0011_0110
    assert read_single(master, 0)[0] == 310
    rx = master.transfer(bytes([0x01, 0x80, 0x00]), mode=1)
    # start bit seen at clock 9 instead of 8: B9 lands in bit 0 of byte 1, B8..B1 in byte 2
    assert rx == bytes([0x00, 0x00, 310 >> 1])


def test_bad_inputs_are_rejected() -> None:
    """DS21295D: inputs are VSS..VDD, channels 0..7, VREF 0.25 V..VDD."""
    _, adc = bench()
    with pytest.raises(ConfigurationError, match=r"CH3 takes 0..3.3 V"):
        adc.set_voltage(3, 4.2)
    with pytest.raises(ConfigurationError, match=r"channel must be 0\.\.7"):
        adc.set_voltage(8, 1.0)
    with pytest.raises(ConfigurationError, match="VREF"):
        Mcp3008(vref=0.1)
    with pytest.raises(ConfigurationError, match="VDD"):
        Mcp3008(vdd=6.0)


@given(ch=st.integers(0, 7), volts=st.floats(0, 3.3, allow_nan=False))
def test_any_channel_any_voltage(ch: int, volts: float) -> None:
    """DS21295D eq. 4-1 for every channel in single-ended mode."""
    master, adc = bench()
    adc.set_voltage(ch, volts)
    assert read_single(master, ch)[0] == min(1023, int(1024 * volts / 3.3))
