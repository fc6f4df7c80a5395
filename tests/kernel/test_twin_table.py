"""The twin table (issue 15 item 3): the same user tests on the emulator and on the real kernel.

ci/kernel/run.py runs tests/twin twice, in the QEMU guest (``--hil-target=local
--hil-board=kernel-sim``, into ``guest-junit.xml``) and on the emulator beside it
(``--hil-target=sim --hil-board=ci/kernel/kernel-sim.yaml``, into ``twin-sim-junit.xml``).
This host step pairs the two by test, writes ``twin-table.md`` and ``twin-table.json`` to the
output folder, and fails on any difference that docs/kernel-tier.md does not explain: its
table under "Twin table: explained differences" names each test whose outcome differs, the
outcome on each side, and why (what gpio-sim or i2c-stub cannot do, what the BCM2711 and
the board's parts do that the stub does not). An explained row whose difference is no longer
seen fails too, so the list stays true, and so does a twin test that fails on both sides.
The comparison is skipped, as test_guest_report.py is, outside ``tox -e kernel``
(PIHIL_KERNEL_REPORT=1); the table's own logic is checked on made-up cases everywhere.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from .test_guest_report import GuestCase, junit_file, read_cases

after_the_guest = pytest.mark.skipif(
    os.environ.get("PIHIL_KERNEL_REPORT") != "1",
    reason="kernel tier: compares the twin runs after `tox -e kernel` (PIHIL_KERNEL_REPORT=1); "
    "no guest run here",
)
DOCS = Path(__file__).resolve().parents[2] / "docs/kernel-tier.md"
SECTION = "## Twin table: explained differences"
TWIN_CLASS = "tests.twin."


@dataclass(frozen=True)
class Explained:
    sim: str
    kernel: str
    shows: str
    """What the failing side's message contains (the cause named, e.g. NotSupportedError)."""
    why: str


@dataclass(frozen=True)
class Row:
    test: str
    sim: str
    kernel: str
    differs: bool
    explained: str
    """The docs' reason when the difference is explained, else empty."""
    sim_message: str
    kernel_message: str


def twin_id(case: GuestCase) -> str | None:
    """``test_twin_i2c.py::test_name[param]`` for a case of tests/twin, else None."""
    classname, _, name = case.name.partition("::")
    if not classname.startswith(TWIN_CLASS):
        return None
    return f"{classname.rsplit('.', 1)[-1]}.py::{name}"


def twin_cases(path: Path) -> dict[str, GuestCase]:
    return {tid: c for c in read_cases(path) if (tid := twin_id(c)) is not None}


def explained_differences(text: str) -> dict[str, Explained]:
    """The docs' table: ``| `test` | sim outcome | kernel outcome | `failure shows` | why |``."""
    if SECTION not in text:
        raise AssertionError(f"{DOCS} has no section {SECTION!r}")
    rows: dict[str, Explained] = {}
    for line in text.split(SECTION, 1)[1].splitlines()[1:]:
        if line.startswith("## "):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or not cells[0].startswith("`"):
            continue
        rows[cells[0].strip("`")] = Explained(cells[1], cells[2], cells[3].strip("`"), cells[4])
    return rows


def build_table(
    sim: dict[str, GuestCase], kernel: dict[str, GuestCase], explained: dict[str, Explained]
) -> list[Row]:
    rows = []
    for test in sorted(set(sim) | set(kernel)):
        s = sim[test].outcome if test in sim else "missing"
        k = kernel[test].outcome if test in kernel else "missing"
        why = explained.get(test)
        rows.append(
            Row(
                test,
                s,
                k,
                s != k,
                why.why
                if why is not None and _matches(why, s, k, sim.get(test), kernel.get(test))
                else "",
                sim[test].message if test in sim else "",
                kernel[test].message if test in kernel else "",
            )
        )
    return rows


def _matches(e: Explained, sim: str, kernel: str, s: GuestCase | None, k: GuestCase | None) -> bool:
    """The explanation fits: same outcomes, and the failing side's message shows its cause."""
    messages = " ".join(c.message for c in (s, k) if c is not None)
    return (e.sim, e.kernel) == (sim, kernel) and e.shows in messages


def problems(rows: list[Row], explained: dict[str, Explained]) -> list[str]:
    """Unexplained differences (or explained ones failing for another cause), a test failing
    on both sides, stale explanations."""
    found = []
    seen = {r.test: r for r in rows}
    for r in rows:
        if r.differs and not r.explained:
            found.append(f"unexplained difference: {r.test}: sim {r.sim}, kernel {r.kernel}")
        if not r.differs and r.sim != "passed":
            found.append(f"{r.sim} on both sides: {r.test}: {r.sim_message or r.kernel_message}")
    for test, e in explained.items():
        row = seen.get(test)
        if row is None or not row.explained:
            now = (
                f"sim {row.sim}, kernel {row.kernel}: {row.kernel_message or row.sim_message}"
                if row
                else "not run"
            )
            found.append(
                f"docs explain {test} as sim {e.sim}, kernel {e.kernel} showing {e.shows!r}; "
                f"this run: {now}"
            )
    return found


def markdown(rows: list[Row]) -> str:
    lines = [
        "# Twin table: tests/twin on the emulator and on the kernel tier's guest",
        "",
        "| test | sim | kernel | difference |",
        "|------|-----|--------|------------|",
    ]
    for r in rows:
        flag = ""
        if r.differs:
            flag = f"explained: {r.explained}" if r.explained else "**UNEXPLAINED**"
            detail = r.kernel_message or r.sim_message
            if detail:
                flag += f" (`{detail.replace('|', '/')[:160]}`)"
        lines.append(f"| `{r.test}` | {r.sim} | {r.kernel} | {flag} |")
    same = sum(not r.differs for r in rows)
    lines += ["", f"{len(rows)} tests: {same} the same on both sides, {len(rows) - same} differ."]
    return "\n".join(lines) + "\n"


@after_the_guest
def test_twin_table_has_no_unexplained_difference() -> None:
    out = junit_file().parent
    sim = twin_cases(out / "twin-sim-junit.xml")
    kernel = twin_cases(junit_file())
    assert sim, f"no tests/twin cases in {out / 'twin-sim-junit.xml'}"
    assert kernel, f"no tests/twin cases in {junit_file()}"
    explained = explained_differences(DOCS.read_text())
    rows = build_table(sim, kernel, explained)
    (out / "twin-table.md").write_text(markdown(rows))
    (out / "twin-table.json").write_text(json.dumps([asdict(r) for r in rows], indent=1) + "\n")
    print(f"\n{markdown(rows)}twin table: {out / 'twin-table.md'}")
    bad = problems(rows, explained)
    assert not bad, "twin table:\n  " + "\n  ".join(bad)


# -- the table's logic on made-up cases (runs with the rest of this file) -----------------------
def _case(name: str, outcome: str, message: str = "") -> GuestCase:
    return GuestCase(f"tests.twin.test_twin_x::{name}", outcome, message)


def test_the_table_flags_unexplained_and_stale_differences() -> None:
    sim = {"test_twin_x.py::a": _case("a", "passed"), "test_twin_x.py::b": _case("b", "passed")}
    kernel = {
        "test_twin_x.py::a": _case("a", "failed", "ENODEV"),
        "test_twin_x.py::b": _case("b", "passed"),
    }
    stale = {"test_twin_x.py::b": Explained("passed", "failed", "", "gone")}
    rows = build_table(sim, kernel, stale)
    assert [(r.test, r.differs, r.explained) for r in rows] == [
        ("test_twin_x.py::a", True, ""),
        ("test_twin_x.py::b", False, ""),
    ]
    found = problems(rows, stale)
    assert any(re.match(r"unexplained difference: test_twin_x.py::a", p) for p in found)
    assert any("docs explain test_twin_x.py::b" in p for p in found)
    ok = {"test_twin_x.py::a": Explained("passed", "failed", "ENODEV", "i2c-stub")}
    assert problems(build_table(sim, kernel, ok), ok) == []
    other_cause = {"test_twin_x.py::a": Explained("passed", "failed", "EOPNOTSUPP", "i2c-stub")}
    found = problems(build_table(sim, kernel, other_cause), other_cause)
    assert any(p.startswith("unexplained difference: test_twin_x.py::a") for p in found)
    assert any(
        "showing 'EOPNOTSUPP'; this run: sim passed, kernel failed: ENODEV" in p for p in found
    )
    assert "**UNEXPLAINED**" in markdown(rows)


def test_the_docs_table_parses() -> None:
    rows = explained_differences(DOCS.read_text())
    assert rows, f"{DOCS}: no rows under {SECTION!r}"
    for test, e in rows.items():
        assert re.fullmatch(r"test_twin_\w+\.py::\w+(\[.*\])?", test), test
        assert e.sim in {"passed", "failed", "error", "skipped"}
        assert e.kernel in {"passed", "failed", "error", "skipped"}
        assert e.why
        assert e.shows, f"{test}: name what the failure shows"
