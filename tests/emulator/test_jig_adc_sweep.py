"""The MirkoPC test jig's ADC swept across its range through the driver (issue 12 item 6).

The jig (emulator/pihil_emulator/boards/profiles/mirkopc.yaml ``test_jig``) puts an MCP3008 on
SPI0 CE1 with VDD = VREF = 3.3 V (the registry's defaults; the profile gives no params). The
voltage applied to a channel is the model's analog input (``set_voltage``: the bench supply or
a probe on the jig's input; the profile wires no SCPI instrument to it). Every reading goes
through ``RpiBoard.spi_buses[0].devices[1].transfer`` with the datasheet's 3-byte frame
(DS21295D Figure 6-1: ``01h, (8 | ch) << 4, 00h``, result in byte 1 bits 1..0 and byte 2).

Checked against Microchip DS21295D (MCP3004/3008):
- eq. 4-1 / §4.1: ideal code = 1024 · VIN / VREF, 1023 at and above VREF;
- DC accuracy table: INL ±1 LSB max, DNL ±1 LSB max, "No missing codes" (the features list:
  "± 1 LSB max DNL", "± 1 LSB max INL").
So a reading may differ from 1024 · VIN / VREF by the code's own width (the converter truncates:
one LSB below) plus the INL: ``x − 1 − INL ≤ code ≤ x + INL``; the sweep is monotonic (DNL >
−1 LSB) and, stepped finer than an LSB, hits every one of the 1024 codes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pihil_emulator.devices.mcp3008 import Mcp3008
from rpiboard_pihil import RpiBoard
from rpiboard_pihil.spi import SpiDevice

INL_LSB = 1.0  # DS21295D: INL ±1 LSB max
FULL_SCALE = 1024


@pytest.fixture(scope="module")
def jig() -> Iterator[tuple[RpiBoard, Mcp3008, SpiDevice]]:
    board = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
    try:
        adc = board.simulation.devices["adc"]
        assert isinstance(adc, Mcp3008)
        yield board, adc, board.spi_buses[0].devices[1]
    finally:
        board.close()


def read(spi: SpiDevice, channel: int) -> int:
    reply = spi.transfer(bytes([0x01, 0x80 | channel << 4, 0x00]))
    assert reply[1] & 0x04 == 0  # the null bit before B9
    return (reply[1] & 0x03) << 8 | reply[2]


def within_datasheet(code: int, volts: float, vref: float) -> bool:
    x = FULL_SCALE * volts / vref
    if x >= FULL_SCALE - 1:
        return code >= FULL_SCALE - 1 - INL_LSB
    return x - 1 - INL_LSB <= code <= x + INL_LSB


def test_the_jig_adc_is_the_profiles(
    jig: tuple[RpiBoard, Mcp3008, SpiDevice],
) -> None:
    _board, adc, _spi = jig
    assert (adc.vref, adc.vdd) == (3.3, 3.3)


def test_sweep_of_channel_0_is_monotonic_hits_every_code_and_stays_within_inl(
    jig: tuple[RpiBoard, Mcp3008, SpiDevice],
) -> None:
    """0 V to VDD in VREF/2048 steps (half an LSB): 2049 readings through the driver."""
    _board, adc, spi = jig
    steps = 2 * FULL_SCALE
    codes: list[int] = []
    bad: list[tuple[float, int]] = []
    for k in range(steps + 1):
        volts = adc.vdd * k / steps
        adc.set_voltage(0, volts)
        code = read(spi, 0)
        codes.append(code)
        if not within_datasheet(code, volts, adc.vref):
            bad.append((volts, code))
    assert bad == []
    assert all(b >= a for a, b in itertools.pairwise(codes))  # monotonic
    assert sorted(set(codes)) == list(range(FULL_SCALE))  # no missing codes
    assert codes[0] == 0
    assert codes[-1] == FULL_SCALE - 1  # VIN = VREF = VDD: full scale


@pytest.mark.parametrize("channel", range(8))
def test_every_channel_reads_its_own_input(
    jig: tuple[RpiBoard, Mcp3008, SpiDevice], channel: int
) -> None:
    """Eight different voltages on the eight inputs: each channel reads its own (Table 5-1)."""
    _board, adc, spi = jig
    volts = [0.2 + 0.4 * n for n in range(8)]
    for n, v in enumerate(volts):
        adc.set_voltage(n, v)
    assert within_datasheet(read(spi, channel), volts[channel], adc.vref)
    others = [read(spi, n) for n in range(8) if n != channel]
    assert len(set(others)) == 7


@settings(max_examples=60, deadline=None)
@given(channel=st.integers(0, 7), volts=st.floats(0.0, 3.3, allow_nan=False))
def test_any_voltage_on_any_channel_reads_within_the_datasheet(
    jig: tuple[RpiBoard, Mcp3008, SpiDevice], channel: int, volts: float
) -> None:
    _board, adc, spi = jig
    adc.set_voltage(channel, volts)
    assert within_datasheet(read(spi, channel), volts, adc.vref)
