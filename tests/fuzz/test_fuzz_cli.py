"""Fuzz: bad uses of the ``pihil`` command, run in-process (`pytest_pihil.cli.main`).

Bad option values (a board that is no profile, a seed that is no number, a report folder
that is a file, a bench file that does not load, a suite that does not exist, empty
values, NUL characters), the same through the ``PIHIL_*`` variables, unknown options and
commands. A clean refusal is argparse's usage error (exit 2) or ``pihil: ...`` and a
non-zero exit, before pytest starts: `pytest.main` is replaced by a stand-in that
records being reached, which for a bad use is a silent acceptance.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pihil_emulator.boards import profile_names
from pytest_pihil import cli

from . import bad_values as bad
from .harness import check, fuzz_settings, referee, says_something

AREA = "cli"
REACHED = 99
"""The exit code of the `pytest.main` stand-in: the bad use got as far as running pytest."""


@dataclass(frozen=True)
class Use:
    """One use of the command: its arguments and the PIHIL_* variables it runs with."""

    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()

    def __repr__(self) -> str:
        env = " ".join(f"{k}={v!r}" for k, v in self.env)
        return f"{env + ' ' if env else ''}pihil {' '.join(map(repr, self.argv))}"


@dataclass(frozen=True)
class Ran:
    code: int | str | None
    text: str


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("fuzz-cli")
    a_file = root / "a-file"
    a_file.write_text("not a folder\n")
    bad_bench = root / "bad-bench.yaml"
    bad_bench.write_text("version: 2\n")
    binary = root / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    return {
        "file": str(a_file),
        "under_file": str(a_file / "reports"),
        "dir": str(root),
        "bad_bench": str(bad_bench),
        "binary": str(binary),
        "missing": str(root / "no-such-thing.yaml"),
    }


def _uses(places: dict[str, str]) -> st.SearchStrategy[Use]:
    boards = frozenset(profile_names())
    not_board = st.one_of(
        bad.not_name(boards).filter(lambda v: isinstance(v, str)),
        st.sampled_from(
            ["_j8-40", "MIRKOPC", " mirkopc", "mirkopc.yaml", "../mirkopc", "mirkopc\x00"]
        ),
    )
    not_seed = st.sampled_from(
        ["abc", "1.5", "-1", "1e3", "0x", "nan", "", " ", "--", "0b2", "\x00"]
    )
    folder_bad = st.sampled_from([places["file"], places["under_file"], "", "\x00", "a\x00b"])
    values = {
        "--board": not_board,
        "--target": st.sampled_from(["bench", "SIMULATOR", "", "local,sim", "\x00"]),
        "--seed": not_seed,
        "--report-dir": st.one_of(folder_bad, st.sampled_from(["none", "NONE", " None "])),
        "--vcd": folder_bad,
        "--bench": st.sampled_from([places["missing"], places["dir"], places["bad_bench"],
                                    places["binary"], "", "\x00"]),
        "--suite": st.sampled_from([places["missing"], places["file"], "", "\x00"]),
    }  # fmt: skip
    env_names = {
        "--board": "PIHIL_BOARD",
        "--target": "PIHIL_TARGET",
        "--seed": "PIHIL_SEED",
        "--report-dir": "PIHIL_REPORT_DIR",
        "--vcd": "PIHIL_VCD",
        "--bench": "PIHIL_BENCH",
    }
    option = st.sampled_from(sorted(values)).flatmap(
        lambda flag: values[flag].map(lambda v: Use(("run", flag, v)))
    )
    # a blank variable means "not set", and a variable's value is stripped (the plugin's
    # rules); an environment cannot hold a NUL (execve cuts the string there)
    from_env = st.sampled_from(sorted(env_names)).flatmap(
        lambda flag: (
            values[flag]
            .filter(lambda v: v.strip() != "" and v.strip() not in boards and "\x00" not in v)
            .map(lambda v: Use(("run",), ((env_names[flag], v),)))
        )
    )
    misuse = st.sampled_from(
        [
            Use(()),
            Use(("walk",)),
            Use(("--nosuch",)),
            Use(("run", "--nosuch")),
            Use(("run", "--board")),
            Use(("run", "--seed")),
            Use(("run", "extra")),
            Use(("boards", "extra")),
            Use(("pinout",)),
            Use(("pinout", "nosuch")),
            Use(("pinout", "")),
            Use(("pinout", "_j8-40")),
            Use(("pinout", "mirkopc", "rpi-4b")),
            Use(("pinout", "\x00")),
            Use(("run", "--target")),
        ]
    )
    pinout = not_board.map(lambda b: Use(("pinout", b)))
    return st.one_of(option, option, from_env, misuse, pinout)


def _run(use: Use, monkeypatch: pytest.MonkeyPatch) -> Ran:
    out, err = io.StringIO(), io.StringIO()
    with monkeypatch.context() as m:
        for name, value in use.env:
            m.setenv(name, value)
        m.setattr(pytest, "main", lambda *a, **k: REACHED)
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
                code: int | str | None = cli.main(list(use.argv), out=out)
        except SystemExit as exc:  # argparse: usage errors exit 2 with a message
            code = exc.code
    return Ran(code, out.getvalue() + err.getvalue())


def _judge(ran: Ran) -> str | None:
    if ran.code == REACHED:
        return "reached pytest.main"
    if ran.code in (0, None):
        return "exit 0"
    if not says_something(ran.text):
        return f"exit {ran.code} with no message"
    return None


def test_every_bad_use_of_the_cli_is_refused_before_pytest_runs(
    places: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    uses = _uses(places)

    @fuzz_settings(700)
    @given(uses)
    def case(use: Use) -> None:
        entry = (
            use.argv[1] if len(use.argv) > 1 and use.argv[0] == "run" else " ".join(use.argv[:1])
        )
        if use.env:
            entry = use.env[0][0]
        referee(AREA, entry or "(nothing)", use, lambda: _run(use, monkeypatch), (),
                returned=_judge)  # fmt: skip

    case()
    check(AREA)


def test_good_uses_reach_pytest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The referee's baseline: good options do get to pytest (the stand-in), so a refusal
    above is the bad value's doing."""
    monkeypatch.chdir(tmp_path)
    for use in (
        Use(("run",)),
        Use(("run", "--board", "rpi-4b", "--seed", "0x10", "--report-dir", "./none")),
        Use(("run", "--target", "local", "--vcd", str(tmp_path / "vcd"))),
        Use(("run",), (("PIHIL_BOARD", "cm4-io"), ("PIHIL_SEED", "7"))),
    ):
        assert _run(use, monkeypatch).code == REACHED, use
