"""Fuzz: malformed bench files and pyvisa-sim instrument files, loaded and opened as the
plugin does (`load_bench`, then `open_bench` over pyvisa-sim).

Two documents make a simulated bench: the bench file (which instrument at which VISA
resource, the probes, the jumpers) and the pyvisa-sim file it names (what the simulated
instruments answer). Each case breaks one of them; the clean outcome is a `BenchFileError`
(the file, the key, what is valid) or a `BenchError` (the instrument and its resource).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from pytest_pihil.bench import (
    BenchError,
    BenchFileError,
    default_bench_path,
    load_bench,
    open_bench,
)

from .harness import check, fuzz_settings, referee
from .yaml_mutations import INF, NAN, WHOLE_FILE_TROUBLE, WILD, Leaf, Mutant, Schema, dump, mutants

AREA = "bench"
W = WILD
SIM_FILE = default_bench_path().with_name("simulated-instruments.yaml")
PSU = "TCPIP0::psu.bench.sim::inst0::INSTR"
DMM = "TCPIP0::dmm.bench.sim::inst0::INSTR"
HUNG = "TCPIP0::hung.bench.sim::inst0::INSTR"

NOT_TEXT = ([1], {"a": 1}, "", "   ", True, 1.5)
"""Not a text a bench file field takes (ints are: ``channel: 101``)."""

BENCH_SCHEMA = Schema(
    leaves=[
        Leaf(("version",), (2, "1", 0, None, 1.5, True, [1])),
        Leaf(("visa_library",), ("", "missing.yaml@sim", True, [1], "@nosuch", 5, {"a": 1})),
        Leaf(("instruments",), (5, "x", [1])),
        Leaf(("instruments", W), (5, "x", None, [1])),
        Leaf(("instruments", W, "kind"), ("scope", 5, None, "PSU", [1])),
        Leaf(
            ("instruments", W, "resource"),
            (
                "",
                "not a resource",
                5,
                None,
                "TCPIP0::nosuch.bench.sim::inst0::INSTR",
                HUNG,
                "GPIB0::99::INSTR",
                [PSU],
            ),
        ),
        Leaf(("instruments", W, "channel"), NOT_TEXT),
        Leaf(("instruments", W, "idn"), ("NOT-THIS-ONE", *NOT_TEXT)),
        Leaf(("instruments", W, "timeout_ms"), (0, -1, 1.5, "fast", True, None, 10**100, NAN)),
        Leaf(("instruments", "psu", "voltage"), (-1, 0, NAN, INF, "5V", True, [5], -INF)),
        Leaf(("instruments", "psu", "current_limit"), (-1, 0, NAN, INF, "3A", True, [3])),
        Leaf(("instruments", "psu", "feeds"), NOT_TEXT),
        Leaf(("instruments", "dmm", "voltage"), (5.0,), create=False),
        Leaf(("probes",), (5, "x", [1])),
        Leaf(("probes", W), (5, "x", None, [1])),
        Leaf(("probes", W, "instrument"), ("nosuch", "psu", 5, None, [1])),
        Leaf(("probes", W, "function"), ("ac_volts", 5, None, "", "DC_VOLTS")),
        Leaf(("probes", W, "channel"), NOT_TEXT),
        Leaf(("jumpers",), (5, "x", {"a": 1})),
        Leaf(
            ("jumpers", W),
            (
                ["J8-11"],
                ["J8-11", "J8-11"],
                5,
                ["J8-11", None],
                ["J8-11", [1]],
                ["J8-11", ""],
                ["J8-11", "J8-13", "J8-15"],
            ),
        ),
    ],
    closed=[(), ("instruments", W), ("probes", W)],
    required=[
        ("instruments", W, "kind"),
        ("instruments", W, "resource"),
        ("probes", W, "instrument"),
    ],
    bad_keys=[
        (("instruments",), (5, None, True, 1.5, "")),
        (("probes",), (5, None, True, 1.5, "")),
    ],
)

USED = ("power supply", "multimeter")
"""The devices the shipped bench opens (the file's "silent instrument" is for another test)."""

SIM_SCHEMA = Schema(
    leaves=[
        Leaf(("spec",), ("9.9", 5, None, [1])),
        Leaf(("devices",), (5, [], "x")),
        *[Leaf(("devices", d), (5, "x", [1])) for d in USED],
        *[
            Leaf(
                ("devices", d, "dialogues"), (5, "x", [{"q": "*CLS"}], [{"r": "x"}], [5], {"a": 1})
            )
            for d in USED
        ],
        *[
            Leaf(
                ("devices", d, "dialogues", 0),
                (
                    {"q": "*IDN?"},
                    {"q": "*IDN?", "r": "OTHER,MAKER"},
                    {"q": 5, "r": 5},
                    "x",
                    5,
                    {"r": "x"},
                ),
            )
            for d in USED
        ],
        *[Leaf(("devices", d, "eom"), (5, "x", [1], {"TCPIP INSTR": 5})) for d in USED],
        *[Leaf(("devices", d, "eom", "TCPIP INSTR"), (5, "x", [1], {"q": 5})) for d in USED],
        Leaf(("resources",), (5, [], "x", {})),
        *[
            Leaf(("resources", r), (5, "x", [1], {}, {"device": "nosuch"}, {"device": 5}))
            for r in (PSU, DMM)
        ],
        *[Leaf(("resources", r, "device"), ("nosuch", 5, None, [1])) for r in (PSU, DMM)],
    ],
    closed=[],
    required=[
        *[("devices", d, "dialogues") for d in USED],
        ("resources", PSU, "device"),
        ("resources", DMM, "device"),
    ],
    bad_keys=[],
    key_trouble=("[a, b]", "{a: 1}", "[]", "{}", "!!set {a}"),  # pyvisa-sim ignores other keys
    yaml_under=[
        ("spec",),
        ("resources", PSU),
        ("resources", DMM),
        *[("devices", d, "dialogues", 0) for d in USED],
    ],
)


FAST_MS = 50
"""The instruments' timeout in the fuzzed files (pyvisa-sim waits it out for a mute one)."""


def _shipped(sim_name: str = SIM_FILE.name) -> Any:
    data = yaml.safe_load(default_bench_path().read_text(encoding="utf-8"))
    data["visa_library"] = f"{sim_name}@sim"
    for instrument in data["instruments"].values():
        instrument["timeout_ms"] = FAST_MS
    return data


def _bench_bases() -> list[Any]:
    shipped = _shipped()
    with_channels = {
        "version": 1,
        "visa_library": "simulated-instruments.yaml@sim",
        "instruments": {
            "psu": {"kind": "psu", "resource": PSU, "idn": "PIHIL-SIM", "timeout_ms": FAST_MS,
                    "voltage": 5.1, "current_limit": 3.0, "feeds": "5V"},
            "dmm": {"kind": "dmm", "resource": DMM, "timeout_ms": FAST_MS},
        },
        "probes": {"3V3": {"instrument": "dmm", "function": "dc_volts", "channel": 101}},
        "jumpers": [["J8-11", "J8-13"]],
    }  # fmt: skip
    return [shipped, with_channels]


def _open(path: Path) -> object:
    bench = open_bench(load_bench(path))
    bench.close()
    return bench


@pytest.fixture(scope="module")
def bench_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-bench")


def _write(path: Path, mutant: Mutant) -> None:
    if isinstance(mutant.text, bytes):
        path.write_bytes(mutant.text)
    else:
        path.write_text(mutant.text, encoding="utf-8")


def test_every_malformed_bench_file_is_refused_clearly(bench_dir: Path) -> None:
    benches = _bench_bases()
    sim = yaml.safe_load(SIM_FILE.read_text(encoding="utf-8"))
    accepted = (BenchFileError, BenchError)
    shutil.copyfile(SIM_FILE, bench_dir / SIM_FILE.name)
    made = iter(range(10**9))

    @fuzz_settings(600)
    @given(st.data())
    def case(data: st.DataObject) -> None:
        bench_file = bench_dir / "bench.yaml"
        if data.draw(st.booleans(), label="break the pyvisa-sim file"):
            # a new name each time: PyVISA keeps one library per file name for the process
            sim_file = bench_dir / f"instruments-{next(made)}.yaml"
            bench_file.write_text(dump(_shipped(sim_file.name)), encoding="utf-8")
            mutant = data.draw(mutants([sim], SIM_SCHEMA), label="sim mutant")
            _write(sim_file, mutant)
            entry = f"open_bench (pyvisa-sim file): {mutant.op}"
        else:
            mutant = data.draw(mutants(benches, BENCH_SCHEMA), label="bench mutant")
            _write(bench_file, mutant)
            entry = f"load_bench: {mutant.op}"
        referee(AREA, entry, mutant, lambda: _open(bench_file), accepted)

    case()
    check(AREA)


def test_the_unmutated_files_open(bench_dir: Path) -> None:
    """The referee's baseline: both base bench files are good, so a refusal means the mutation."""
    shutil.copyfile(SIM_FILE, bench_dir / SIM_FILE.name)
    for data in _bench_bases():
        path = bench_dir / "good.yaml"
        path.write_text(dump(data), encoding="utf-8")
        _open(path)
    assert WHOLE_FILE_TROUBLE  # the whole-file mutations are shared with the profiles
