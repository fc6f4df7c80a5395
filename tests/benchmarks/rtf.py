"""Helpers of the benchmark table (issue 13 item 5): rows, interleaved runs, the table.

A `Row` is one line of the issue's table: what is measured, the figure the issue reported
("was"), the goal and how to compare with it, and a function that does one run and returns
one figure. `run_rows` runs every row once per round, round after round (the rows
interleaved, so a slow spell of a shared machine lands on every row alike), and keeps the
median of the rounds. `render` prints the table; `to_json` is what the bench writes.

Real-time factor (RTF) = simulated seconds / wall seconds (``time.perf_counter``), the
issue's definition; each run also records the process's CPU seconds (``process_time``),
printed in brackets: on a busy machine wall time counts time other processes had the core.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pihil_emulator.userspace import clock as userspace_clock

AT_LEAST = ">="
AT_MOST = "<="


@dataclass(frozen=True)
class Sample:
    """One run's figure by the wall clock and by this process's CPU clock."""

    wall: float
    cpu: float


@dataclass
class Row:
    """One line of the table."""

    key: str
    work: str
    unit: str
    """``RTF``, ``x`` (a ratio, lower is better), ``ms``, ``MB``."""
    was: str
    """The issue's "now" figure, as text."""
    goal: float
    compare: str
    """`AT_LEAST` or `AT_MOST`."""
    run: Callable[[], Sample]
    rounds: int | None = None
    """Runs of this row when fewer than the table's rounds (a row that takes minutes)."""
    samples: list[Sample] = field(default_factory=list)

    @property
    def now(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def now_cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def met(self) -> bool:
        return self.now >= self.goal if self.compare == AT_LEAST else self.now <= self.goal


@contextmanager
def clocks() -> Iterator[list[float]]:
    """Measure a block: yields a list that holds [wall s, CPU s] once the block is done.

    The wall clock is the real ``perf_counter`` also inside a board's userspace (which runs
    ``time.perf_counter`` on simulated time and rebinds module-level copies of it)."""
    out: list[float] = []
    w, c = userspace_clock.ORIGINAL_PERF_COUNTER(), time.process_time()
    yield out
    out.extend((userspace_clock.ORIGINAL_PERF_COUNTER() - w, time.process_time() - c))


def rtf(simulated_ns: int, wall_cpu: Sequence[float]) -> Sample:
    """The real-time factor of ``simulated_ns`` done in ``wall_cpu`` = [wall s, CPU s]."""
    sim = simulated_ns / 1e9
    return Sample(sim / max(wall_cpu[0], 1e-9), sim / max(wall_cpu[1], 1e-9))


def run_rows(rows: Sequence[Row], rounds: int, progress: Callable[[str], None]) -> None:
    """Every row once per round, ``rounds`` rounds; each row keeps its samples."""
    for r in range(rounds):
        t0 = userspace_clock.ORIGINAL_PERF_COUNTER()
        for row in rows:
            if row.rounds is None or r < row.rounds:
                row.samples.append(row.run())
        elapsed = userspace_clock.ORIGINAL_PERF_COUNTER() - t0
        progress(f"  round {r + 1}/{rounds}: {elapsed:.1f} s")


def _figure(value: float, unit: str) -> str:
    if unit == "RTF":
        return f"{value:.3g}" if value < 10 else f"{value:.0f}"
    if unit == "x":
        return f"{value:.2f}x"
    return f"{value:.2f} {unit}" if value < 100 else f"{value:.0f} {unit}"


def render(rows: Sequence[Row], rounds: int) -> str:
    """The table as text: work, now (CPU-based figure in brackets), goal, met?, was."""
    head = ("work", "now (cpu)", "goal", "met?", "issue's 'now'", "runs")
    body = [
        (
            row.work,
            f"{_figure(row.now, row.unit)} ({_figure(row.now_cpu, row.unit)})",
            f"{row.compare} {_figure(row.goal, row.unit)}",
            "yes" if row.met else "NO",
            row.was,
            str(len(row.samples)),
        )
        for row in rows
    ]
    widths = [max(len(r[i]) for r in (head, *body)) for i in range(len(head))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [line.format(*head), line.format(*("-" * w for w in widths))]
    out += [line.format(*r) for r in body]
    out.append(
        f"medians of {rounds} interleaved runs (fewer where 'runs' says so); RTF = simulated s / wall s (in brackets: "
        "simulated s / CPU s of this process); ratio = ours / gpiozero MockPin"
    )
    return "\n".join(out)


def machine() -> dict[str, Any]:
    """What the table ran on: CPU model and count, Python, platform."""
    model = ""
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next(
            (ln.split(":", 1)[1].strip() for ln in lscpu.splitlines() if "Model name" in ln), ""
        )
    except OSError:
        pass
    return {
        "cpu": model or platform.processor(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "load_average": os.getloadavg(),
    }


def to_json(rows: Sequence[Row], rounds: int, path: Path) -> None:
    """Write the table (every sample too) as JSON at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "issue": 13,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "rounds": rounds,
        "rows": [
            {
                "key": row.key,
                "work": row.work,
                "unit": row.unit,
                "now": row.now,
                "now_cpu": row.now_cpu,
                "goal": row.goal,
                "compare": row.compare,
                "met": row.met,
                "issue_now": row.was,
                "samples_wall": [s.wall for s in row.samples],
                "samples_cpu": [s.cpu for s in row.samples],
            }
            for row in rows
        ],
    }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
