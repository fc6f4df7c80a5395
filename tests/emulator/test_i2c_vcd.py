"""Waveforms of I2C traffic: a VCD of SDA/SCL for any stretch of simulated time, decoded back by
sigrok-cli to the same transactions (DESIGN "Faults and observation", "Two levels, one truth")."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pihil_emulator.buses.i2c_gpio import I2cGpioBus
from pihil_emulator.buses.i2c_master import I2cMessage
from pihil_emulator.buses.i2c_target import Stretch, StretchPhase
from pihil_emulator.errors import BusError
from pihil_emulator.vcd import VcdRecorder

try:  # tests/ as packages, or as plain directories (rootdir on sys.path)
    from .i2c_rig import PointerTarget, Rig, make_rig
except ImportError:  # pragma: no cover
    from i2c_rig import PointerTarget, Rig, make_rig  # type: ignore[no-redef]

SIGROK = shutil.which("sigrok-cli")
needs_sigrok = pytest.mark.skipif(
    SIGROK is None,
    reason="sigrok-cli is not installed (Debian package sigrok-cli; .ci/run installs it)",
)


def decode(path: Path, sda: str, scl: str) -> list[str]:
    """sigrok-cli's I2C decoder over a VCD: its address/data annotations, one per line."""
    assert SIGROK is not None
    out = subprocess.run(
        [
            SIGROK,
            "-I",
            "vcd",
            "-i",
            str(path),
            "-P",
            f"i2c:scl={scl}:sda={sda}",
            "-A",
            "i2c=addr-data",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return [line.split(": ", 1)[1] for line in out.splitlines() if ": " in line]


def expected(msgs: list[I2cMessage], reads: list[bytes], nack_address: bool = False) -> list[str]:
    """What the decoder should print for a transfer (soc-facts §1.6 message order)."""
    lines: list[str] = []
    data = iter(reads)
    for i, m in enumerate(msgs):
        lines += ["Start" if i == 0 else "Start repeat", "Read" if m.read else "Write"]
        lines += [f"Address {'read' if m.read else 'write'}: {m.address:02X}"]
        if nack_address:
            return [*lines, "NACK", "Stop"]
        lines.append("ACK")
        if m.read:
            got = next(data)
            for j, b in enumerate(got):
                lines += [f"Data read: {b:02X}", "NACK" if j == len(got) - 1 else "ACK"]
        else:
            for b in m.data:
                lines += [f"Data write: {b:02X}", "ACK"]
    return [*lines, "Stop"]


def rig() -> Rig:
    r = make_rig("BCM2835")
    r.attach(PointerTarget(0x48, fill=0x90))
    r.bsc.set_bus_speed(100_000)
    return r


def test_recording_switches_the_bsc_to_pin_level(tmp_path: Path) -> None:
    """DESIGN: pin level whenever a waveform is recorded; the recorder sees every edge."""
    r = rig()
    msgs = [I2cMessage(0x48, False, b"\x01")]
    r.bsc.transfer(msgs)
    assert r.bsc.last_level == "transaction"
    with VcdRecorder(r.world, tmp_path / "a.vcd", [r.sda, r.scl]):
        r.bsc.transfer(msgs)
        assert r.bsc.last_level == "pin"
    r.bsc.transfer(msgs)
    assert r.bsc.last_level == "transaction"
    text = (tmp_path / "a.vcd").read_text()
    assert text.count("\n#") > 40  # 3 bytes of 9 clocks: many edges


@needs_sigrok
def test_sigrok_decodes_bsc_traffic_to_the_same_transactions(tmp_path: Path) -> None:
    """DESIGN "Two levels, one truth": sigrok-cli decodes the recorded traffic back to the same
    transactions, addresses, data and ACK/NACK, a NACKed address included."""
    r = rig()
    path = tmp_path / "bsc.vcd"
    first = [
        I2cMessage(0x48, False, b"\x10\xa5"),
        I2cMessage(0x48, False, b"\x10"),
        I2cMessage(0x48, True, 3),
    ]
    with VcdRecorder(r.world, path, [r.sda, r.scl]):
        r.world.run_for(10_000)
        reads = r.bsc.transfer(first)
        with pytest.raises(BusError):
            r.bsc.transfer([I2cMessage(0x21, True, 1)])
        r.world.run_for(10_000)
    assert reads == [bytes([0xA5, 0xA1, 0xA2])]
    want = expected(first, reads) + expected([I2cMessage(0x21, True, 1)], [], nack_address=True)
    assert decode(path, "GPIO2", "GPIO3") == want


@needs_sigrok
def test_sigrok_decodes_stretched_traffic_on_the_fixed_master(tmp_path: Path) -> None:
    """soc-facts §1.4: the fixed master honours stretches; the waveform still decodes cleanly."""
    r = make_rig("BCM2711")
    t = r.attach(PointerTarget(0x48))
    t.stretches = [
        Stretch(StretchPhase.READ_POST_ACK, 23_000),
        Stretch(StretchPhase.WRITE_PRE_ACK, 7_000),
    ]
    r.bsc.set_bus_speed(100_000)
    msgs = [I2cMessage(0x48, False, b"\x40"), I2cMessage(0x48, True, 4)]
    path = tmp_path / "stretch.vcd"
    with VcdRecorder(r.world, path, [r.sda, r.scl]):
        r.world.run_for(10_000)
        reads = r.bsc.transfer(msgs)
        r.world.run_for(10_000)
    assert reads == [bytes([0x40, 0x41, 0x42, 0x43])]
    assert decode(path, "GPIO2", "GPIO3") == expected(msgs, reads)


@needs_sigrok
def test_sigrok_decodes_i2c_gpio_traffic(tmp_path: Path) -> None:
    """soc-facts §1.5: the bit-banged bus; its waveform decodes to the same transactions."""
    r = make_rig("BCM2835")
    r.attach(PointerTarget(0x48, fill=0x30))
    r.soc.gpio.set_function(2, "input")
    r.soc.gpio.set_function(3, "input")
    bus = I2cGpioBus(r.world, r.sda, r.scl, attachments=r.soc.attachments)
    msgs = [I2cMessage(0x48, False, b"\x02"), I2cMessage(0x48, True, 2)]
    path = tmp_path / "gpio.vcd"
    with VcdRecorder(r.world, path, [r.sda, r.scl]):
        r.world.run_for(10_000)
        reads = bus.transfer(msgs)
        r.world.run_for(10_000)
    assert reads == [b"\x32\x33"]
    assert decode(path, "GPIO2", "GPIO3") == expected(msgs, reads)


@needs_sigrok
@pytest.mark.parametrize("settle_ns", [0, 10_000])
def test_a_transfer_at_the_recordings_first_and_last_instants_is_decoded(
    tmp_path: Path, settle_ns: int
) -> None:
    """A START as the recording begins and a STOP as it ends are in the file (also when the
    recording begins at t=0): sigrok-cli decodes the whole transfer."""
    r = rig()
    r.world.run_for(settle_ns)
    msgs = [I2cMessage(0x48, False, b"\x01"), I2cMessage(0x48, True, 2)]
    path = tmp_path / "edges.vcd"
    with VcdRecorder(r.world, path, [r.sda, r.scl]):
        reads = r.bsc.transfer(msgs)
    assert decode(path, "GPIO2", "GPIO3") == expected(msgs, reads)


def test_a_recording_covers_only_its_own_stretch_of_time(tmp_path: Path) -> None:
    """DESIGN: a VCD for any stretch of simulated time: traffic before and after is not in it."""
    r = rig()
    msgs = [I2cMessage(0x48, False, b"\x01\x02")]
    r.bsc.transfer(msgs)
    start = r.world.now_ns
    with VcdRecorder(r.world, tmp_path / "w.vcd", [r.sda, r.scl]):
        r.bsc.transfer(msgs)
    end = r.world.now_ns
    r.bsc.transfer(msgs)
    times = [
        int(line[1:])
        for line in (tmp_path / "w.vcd").read_text().splitlines()
        if line.startswith("#")
    ]
    assert times
    # the initial values may be dumped 1 ns before a change at the first instant, and the
    # file ends 1 ns after a change at the last one (so that a decoder sees both)
    assert min(times) >= start - 1
    assert max(times) <= end + 1
