"""Snapshots of a quiescent world, restored into the same objects (issue 13 item 4).

``board.snapshot()`` returns a `BoardSnapshot`; ``board.restore(snap)`` puts the board back
to exactly that moment: every register, device memory and register, FIFO, net drive and
pull, pin function, wire, attachment, simulated time, the random source's state and the
scheduled events.

**Design: state as values, restored in place.** A board is a graph of plain Python
objects (register files are lists of ints, devices keep their memories in bytearrays,
nets hold dicts of drives) plus closures that point into that graph (register
readers/writers, net watchers, timer callbacks). Copying the graph (``copy.deepcopy``)
does not work: it takes longer than building a board, and the closures would be shared
with the original, silently wiring the copy to the old world. So the snapshot copies the
*values* instead and keeps the *objects*: it walks the graph once from its roots and
records, for every mutable object, its contents (an object's ``__dict__`` and slots, a
list's items, a dict's items, a closure cell's contents, a bytearray's bytes, a
``random.Random``'s state, SimPy's queue and clock). ``restore`` writes those values back
into the same objects, in a few flat loops: no object is built, so it costs in proportion
to the number of mutable objects (a MirkoPC after traffic: about 1,000), well under the
2 ms goal; closures stay valid because everything they reach keeps its identity.
Objects made after the snapshot drop out of the world because the containers that held
them are restored; the test's own references to devices and blocks stay good.

**SimPy.** Processes are Python generators, which cannot be copied; a snapshot therefore
requires a *quiescent* world: no live generator reachable from it (no transfer, UART
transmission or playback in flight, nothing waiting in a process). What the emulator
schedules between transfers is already data: timer events with plain callbacks (fault
start and end, the GPIO commit, slave timers) are recorded like any object, with the
queue; SimPy's leftover stop events (no callbacks) are too. A live generator is refused
with `SnapshotError` naming it and the path it was reached by ("run the simulation until
the transfer ends"). ``restore`` discards whatever is in flight then (processes started
after the snapshot are closed, their events dropped with the queue).

Refused rather than restored wrongly: live generators; open VCD recorders (their file
would not follow; close them first, also before a restore); a board sharing its world
with other boards (a `Bench`: the time and queue are theirs too); open files, sockets,
threads and any object whose state is not visible to Python (a C type this module does
not know); restoring a snapshot into a board other than the one it was taken of.

Shared, never-changing data is not written back, as other boards use it too: the cached
`BoardProfile`, the `SocVariant` and the `PinMap`s (name tables shared with the profile's)
are not walked at all, and what is reachable only through frozen dataclasses (register
layouts, the driver's `BoardInfo`, pin tables) is configuration by this project's
convention: walked (a running process below it is still refused) but not recorded. An
object reached through a mutable path as well is recorded.

The walk (`WorldState`, in ``state.py``) costs 8-14 ms: a snapshot is taken once (per
session, per test); the restore is the fast part.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import types
import weakref
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

from .state import SnapshotError, WorldState

__all__ = ["BoardSnapshot", "SnapshotError", "WorldState", "restore_snapshot", "take_snapshot"]


def in_flight(environment: Any) -> list[Any]:
    """The SimPy processes waiting on an event in ``environment``'s queue."""
    import simpy

    found: dict[int, Any] = {}
    for _, _, _, event in environment.pending:
        for callback in event.callbacks or ():
            owner = getattr(callback, "__self__", None)
            if isinstance(owner, simpy.Process) and owner.is_alive:
                found[id(owner)] = owner
    return list(found.values())


def close_processes(processes: Iterable[Any]) -> None:
    """End processes that a restore drops (their ``finally`` blocks run now, before the
    state is written back, not at some later garbage collection)."""
    for process in processes:
        generator_of = getattr(process.env, "generator_of", None)  # world/scheduler.py
        generator = generator_of(process) if generator_of is not None else None
        if isinstance(generator, types.GeneratorType):
            with contextlib.suppress(Exception):  # a dropped process's error is not the caller's
                generator.close()


def open_recorders(nets: Iterable[Any], known: AbstractSet[int]) -> list[Any]:
    """Open VCD recorders watching ``nets`` that a snapshot did not see (a restore would
    take their nets away from them)."""
    from ..vcd import VcdRecorder

    found: dict[int, Any] = {}
    for net in nets:
        for watcher in net._watchers:
            owner = getattr(watcher, "__self__", None)
            if isinstance(owner, VcdRecorder) and not owner.closed and id(owner) not in known:
                found[id(owner)] = owner
    return list(found.values())


if TYPE_CHECKING:
    from ..board import Board


def _refuse_outside_state(board: Board, doing: str) -> None:
    """Refuse a call from inside a SimPy process (the world is mid-step), and an open
    userspace on the board: it keeps state outside it (open files, tty buffers, threads)
    that neither snapshot nor restore can carry."""
    env = board.world.env
    if env.active_process is not None:
        raise SnapshotError(
            f"cannot {doing} {board.profile.name} from inside the SimPy process "
            f"{env.active_process!r}: {doing} between simulation runs"
        )
    session = sys.modules.get("pihil_emulator.userspace.session")  # not loaded: none active
    userspace = session.active() if session is not None else None
    if userspace is not None and getattr(userspace, "board", None) is board:
        raise SnapshotError(
            f"cannot {doing} {board.profile.name} while its userspace is open (open device "
            "files, tty buffers and threads are not in a snapshot): leave the "
            "`with board.simulation.userspace():` block first"
        )


def take_snapshot(board: Board, shares_world: bool, extra_roots: Iterable[object]) -> BoardSnapshot:
    """`Board.snapshot`: the checks, then the walk from the board (and ``extra_roots``)."""
    name = board.profile.name
    if shares_world:
        raise SnapshotError(
            f"{name}: this board shares its world with other boards (a Bench); a snapshot "
            "of one board cannot hold their time and events"
        )
    _refuse_outside_state(board, "snapshot")
    state = WorldState([board, *extra_roots])
    return BoardSnapshot(
        profile=name,
        time_ns=board.now_ns,
        seed=board.world.seed,
        state=state,
        board_ref=weakref.ref(board),
    )


def restore_snapshot(board: Board, snapshot: BoardSnapshot) -> None:
    """`Board.restore`: refuse another board's snapshot, a call from inside a process and
    open VCD recorders; end the processes in flight; write the values back."""
    name = board.profile.name
    if not isinstance(snapshot, BoardSnapshot):
        raise SnapshotError(
            f"restore() takes what snapshot() returned (a BoardSnapshot), got {snapshot!r}"
        )
    if snapshot.board_ref() is not board:
        raise SnapshotError(
            f"this snapshot is of another board ({snapshot.profile} board, at "
            f"{snapshot.time_ns} ns); a snapshot restores only into the board it was taken "
            f"of (this one is {name}): take one of this board"
        )
    _refuse_outside_state(board, "restore")
    recorders = open_recorders(board.circuit._nets.values(), snapshot.state.known)
    if recorders:
        raise SnapshotError(
            f"cannot restore {name} while {len(recorders)} VCD recorder(s) record its nets "
            f"({', '.join(str(r.path) for r in recorders)}): a restore would take the nets "
            "away from them; close them first"
        )
    close_processes(in_flight(board.world.env))
    snapshot.state.apply()


@dataclasses.dataclass(frozen=True, eq=False)
class BoardSnapshot:
    """A board at one moment (`pihil_emulator.board.Board.snapshot`); restore it with
    ``board.restore(snapshot)`` into the board it was taken of, as often as wanted."""

    profile: str
    """The profile's name."""
    time_ns: int
    """Simulated time at the snapshot."""
    seed: int
    """The world's seed (its random source's state is in the snapshot too)."""
    state: WorldState = dataclasses.field(repr=False)
    board_ref: weakref.ref[Any] = dataclasses.field(repr=False)

    @property
    def objects(self) -> int:
        """How many mutable objects a restore writes back."""
        s = self.state
        return (
            len(s.dicts)
            + len(s.slots)
            + len(s.cells)
            + len(s.lists)
            + len(s.sets)
            + len(s.deques)
            + len(s.buffers)
            + len(s.randoms)
        )
