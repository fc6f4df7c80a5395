"""world/scheduler.py: the board's SimPy environment keeps its clock and queue in the open.

`Scheduler` overrides SimPy's public scheduling methods; every SimPy behaviour the
emulator relies on must be SimPy's own. The Hypothesis test runs the same random
process script on a plain `simpy.Environment` and on a `Scheduler` and compares the
traces (who ran when, values, failures, interrupts, conditions, ``run(until=...)`` both
ways, the order of same-instant events).
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Generator
from typing import Any

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from pihil_emulator.world.clock import World
from pihil_emulator.world.scheduler import Scheduler

Step = tuple[str, int]
Script = list[list[Step]]

steps = st.lists(
    st.tuples(
        st.sampled_from(["wait", "fail", "wait_any", "wait_all", "interrupt"]), st.integers(0, 5)
    ),
    max_size=6,
)
scripts = st.lists(steps, min_size=1, max_size=5)


def play(env: simpy.Environment, script: Script, stops: list[int]) -> list[tuple[Any, ...]]:
    """Run ``script`` (a list of process bodies) on ``env``; the trace of what happened."""
    trace: list[tuple[Any, ...]] = []
    procs: list[simpy.Process] = []

    def body(n: int, todo: list[Step]) -> Generator[simpy.Event, Any, Any]:
        for i, (kind, d) in enumerate(todo):
            try:
                if kind == "wait":
                    value = yield env.timeout(d, value=(n, i))
                    trace.append((env.now, n, "woke", value))
                elif kind == "fail":
                    ev = env.event()
                    ev.fail(ValueError(f"p{n}"))
                    if d % 2:
                        ev.defused = True  # a defused failure does not crash the run
                        trace.append((env.now, n, "defused"))
                    else:
                        try:
                            yield ev
                        except ValueError as exc:
                            trace.append((env.now, n, "caught", str(exc)))
                elif kind == "wait_any":
                    got = yield env.timeout(d) | env.timeout(d + 1)
                    trace.append((env.now, n, "any", len(got.todict())))
                elif kind == "wait_all":
                    got = yield env.timeout(d) & env.timeout(d + 2)
                    trace.append((env.now, n, "all", len(got.todict())))
                elif kind == "interrupt":
                    for p in procs:
                        if p is not env.active_process and p.is_alive and p.target is not None:
                            p.interrupt(("from", n))
                            trace.append((env.now, n, "interrupted"))
                            break
                    yield env.timeout(d)
            except simpy.Interrupt as intr:
                trace.append((env.now, n, "interrupt", intr.cause))
        return n

    for n, todo in enumerate(script):
        procs.append(env.process(body(n, todo)))
    for stop in stops:  # numeric stops: events due exactly at ``stop`` run on the next run
        env.run(until=env.now + stop)
        trace.append((env.now, "stopped", env.peek()))
    done = env.all_of(procs)
    trace.append(("result", env.run(until=done) is not None, env.now))
    env.run()  # SimPy's "no more events" end
    trace.append(("end", env.now, env.peek()))
    return trace


@settings(max_examples=150, deadline=None)
@given(scripts, st.lists(st.integers(1, 7), max_size=3))
def test_the_scheduler_runs_every_script_as_simpy_does(script: Script, stops: list[int]) -> None:
    def outcome(env: simpy.Environment) -> object:
        trace: list[tuple[Any, ...]] = []
        try:
            trace = play(env, script, stops)
        except Exception as exc:  # a failure nobody caught crashes both runs alike
            return ("raised", type(exc).__name__, str(exc), env.now, env.peek())
        return trace

    assert outcome(Scheduler()) == outcome(simpy.Environment())


def test_an_undefused_failure_crashes_the_run_as_in_simpy() -> None:
    for env in (simpy.Environment(), Scheduler()):
        ev = env.event()
        ev.fail(KeyError("lost"))
        with pytest.raises(KeyError, match="lost") as info:
            env.run()
        assert isinstance(info.value.__cause__, KeyError)  # a copy, the original as cause


def test_a_stop_inside_the_callbacks_keeps_the_rest_for_the_next_run() -> None:
    """SimPy: the callbacks after the one that stopped run when the simulation resumes."""
    for env in (simpy.Environment(), Scheduler()):
        seen: list[str] = []
        ev = env.timeout(3)
        ev.callbacks.append(lambda _e, seen=seen: seen.append("first"))
        ev.callbacks.append(simpy.core.StopSimulation.callback)
        ev.callbacks.append(lambda _e, seen=seen: seen.append("after the stop"))
        env.run()
        assert seen == ["first"]
        env.run()
        assert seen == ["first", "after the stop"]


def test_the_clock_and_queue_are_the_schedulers_own() -> None:
    env = Scheduler()
    env.timeout(7)
    env.timeout(2)
    assert [t for t, *_ in sorted(env.pending)] == [2, 7]
    assert env.peek() == 2
    env.step()
    assert env.now == env.time_ns == 2


def test_advance_if_idle_skips_only_what_would_do_nothing() -> None:
    """Finished stop markers and guards (no callbacks) are taken as processed; anything
    with a callback due on the way refuses the skip and leaves all as it was."""
    env = Scheduler()
    env.timeout(5)  # nobody waits on it: it would do nothing
    assert env.advance_if_idle(10)
    assert (env.now, env.pending) == (10, [])
    woken: list[int] = []
    env.timeout(3).callbacks.append(lambda _e: woken.append(env.now))
    assert not env.advance_if_idle(20)
    assert env.now == 10
    assert len(env.pending) == 1
    assert not env.advance_if_idle(9)  # never backwards
    env.run()
    assert woken == [13]


def test_defuse_stop_takes_the_stop_off_an_abandoned_run_only() -> None:
    """A run that ended in an exception leaves its stop event due: without the defuse a
    later run would stop there, early. Another run's stop (due at another time) stays."""
    world = World()
    env = world.env
    assert isinstance(env, Scheduler)
    other = env.timeout(300)
    other.callbacks.append(simpy.core.StopSimulation.callback)  # another run's stop

    def boom() -> Generator[simpy.Event, Any, Any]:
        yield env.timeout(1)
        raise RuntimeError("a device process failed")

    env.process(boom())
    with pytest.raises(RuntimeError):
        world.run_for(100)
    assert env.now == 1
    assert simpy.core.StopSimulation.callback in other.callbacks
    env.run()  # stops at the other run's stop, not at the abandoned one's (100)
    assert env.now == 300
    world.run_for(500)
    assert env.now == 800


def test_generator_of_gives_a_running_processs_body_until_it_ends() -> None:
    env = Scheduler()

    def body() -> Generator[simpy.Event, Any, Any]:
        yield env.timeout(4)

    gen = body()
    proc = env.process(gen)
    assert env.generator_of(proc) is gen
    env.run()
    assert env.generator_of(proc) is None  # ended: forgotten, nothing kept alive


def test_a_process_nobody_can_wake_is_not_kept_alive() -> None:
    """A process waiting on an event that nothing refers to any more is garbage in SimPy;
    remembering generators for `generator_of` must not keep it (a long session would grow)."""
    env = Scheduler()

    def body() -> Generator[simpy.Event, Any, Any]:
        yield env.event()  # never triggered, referred to only by this process

    proc = env.process(body())
    env.run()
    ref = weakref.ref(proc)
    del proc
    gc.collect()
    assert ref() is None


def test_event_factories_stay_bound_to_the_instance() -> None:
    """SimPy binds its event classes to the environment instance for speed; the Scheduler
    keeps that for the base's classes (timeout, event, all_of, any_of)."""
    env = Scheduler()
    for name in ("timeout", "event", "all_of", "any_of"):
        assert name in vars(env)
