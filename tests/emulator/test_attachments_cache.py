"""`Attachments.find` answers from a cache (issue 13); these check it never answers stale.

The cache is keyed by the attachment list's generation and the `Node` objects of the queried
nets; jumpers (`Circuit.connect` / `disconnect`) make new nodes, so they invalidate it too.
"""

from __future__ import annotations

from pihil_emulator.attachments import Attachments
from pihil_emulator.world.clock import World
from pihil_emulator.world.net import Circuit


def _rig() -> tuple[Circuit, Attachments]:
    return Circuit(World()), Attachments()


def test_find_sees_add_remove_and_detach() -> None:
    circuit, atts = _rig()
    sda, scl = circuit.add_net("SDA"), circuit.add_net("SCL")
    assert atts.find("i2c", sda=sda, scl=scl) == []
    dev = object()
    a = atts.attach(dev, "i2c1", "i2c", {"sda": sda, "scl": scl})
    assert atts.find("i2c", sda=sda, scl=scl) == [a]
    assert atts.find("i2c", sda=sda, scl=scl) == [a]  # cached answer, same result
    atts.remove(a)
    assert atts.find("i2c", sda=sda, scl=scl) == []
    b = atts.attach(dev, "i2c1", "i2c", {"sda": sda, "scl": scl})
    assert atts.find("i2c", sda=sda, scl=scl) == [b]
    assert atts.detach(dev) == [b]
    assert atts.find("i2c", sda=sda, scl=scl) == []


def test_find_follows_jumpers() -> None:
    circuit, atts = _rig()
    sda, scl = circuit.add_net("SDA"), circuit.add_net("SCL")
    far_sda, far_scl = circuit.add_net("FAR_SDA"), circuit.add_net("FAR_SCL")
    a = atts.attach(object(), "i2c1", "i2c", {"sda": far_sda, "scl": far_scl})
    assert atts.find("i2c", sda=sda, scl=scl) == []
    w1 = circuit.connect(sda, far_sda)
    w2 = circuit.connect(scl, far_scl)
    assert atts.find("i2c", sda=sda, scl=scl) == [a]
    circuit.disconnect(w1)
    assert atts.find("i2c", sda=sda, scl=scl) == []
    circuit.connect(sda, far_sda)
    assert atts.find("i2c", sda=sda, scl=scl) == [a]
    circuit.disconnect(w2)
    assert atts.find("i2c", sda=sda, scl=scl) == []


def test_find_after_unrelated_jumper_and_in_place_edit() -> None:
    circuit, atts = _rig()
    sda, scl = circuit.add_net("SDA"), circuit.add_net("SCL")
    other, spare = circuit.add_net("OTHER"), circuit.add_net("SPARE")
    a = atts.attach(object(), "i2c1", "i2c", {"sda": sda, "scl": scl})
    assert atts.find("i2c", sda=sda, scl=scl) == [a]
    circuit.connect(other, spare)  # nothing to do with the bus
    assert atts.find("i2c", sda=sda, scl=scl) == [a]
    a.nets["sda"] = other  # edited in place: documented to need invalidate()
    atts.invalidate()
    assert atts.find("i2c", sda=sda, scl=scl) == []
    # the caller's list is a copy: changing it does not change the next answer
    a.nets["sda"] = sda
    atts.invalidate()
    got = atts.find("i2c", sda=sda, scl=scl)
    got.clear()
    assert atts.find("i2c", sda=sda, scl=scl) == [a]


# --------------------------------------------------------------------------------------
# Random traffic with the cache on and off: identical transcripts, times and registers
# --------------------------------------------------------------------------------------
from typing import Any  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pihil_emulator.board import Board  # noqa: E402
from pihil_emulator.buses.i2c_master import I2cMessage  # noqa: E402
from pihil_emulator.devices.at24 import At24Eeprom  # noqa: E402
from pihil_emulator.errors import BusError  # noqa: E402

# the MirkoPC's i2c1 parts (RTC 0x68, LM75B 0x48, TPA6130A2 0x60, EMC2301 0x2F), the HAT
# EEPROM (0x50 on i2c0, on i2c1 too while the jumpers join the buses) and an empty address
ADDRESSES = (0x68, 0x48, 0x60, 0x2F, 0x50, 0x51, 0x11)

_xfer = st.tuples(
    st.just("xfer"),
    st.sampled_from(("bsc0", "bsc1")),
    st.sampled_from(ADDRESSES),
    st.integers(0, 3),
    st.integers(0, 40),
)
_ops = st.lists(
    st.one_of(
        _xfer,
        _xfer,
        _xfer,
        st.tuples(
            st.just("speed"),
            st.sampled_from(("bsc0", "bsc1")),
            st.sampled_from((100_000, 400_000, 50_000)),
        ),
        st.tuples(st.just("eeprom")),  # attach / detach a 24C02 at 0x51 on i2c1
        st.tuples(st.just("jumpers")),  # join / part GPIO0-GPIO2 and GPIO1-GPIO3
        st.tuples(st.just("idle"), st.integers(0, 2_000_000)),
    ),
    max_size=25,
)


def _run(ops: list[tuple[Any, ...]], caching: bool) -> list[object]:
    board = Board.from_profile("mirkopc")
    board.attachments.caching = caching
    eeprom = At24Eeprom(0x51, "spare", part="24c02")
    attached = False
    wires: list[Any] = []
    out: list[object] = []
    for op in ops:
        if op[0] == "xfer":
            _, name, address, wlen, rlen = op
            bsc = board.soc.blocks[name]
            msgs = [I2cMessage(address, False, bytes(range(wlen)))]
            if rlen:
                msgs.append(I2cMessage(address, True, rlen))
            try:
                out.append(("ok", bsc.transfer(msgs)))
            except BusError as exc:
                out.append(("err", exc.kind, exc.phase, exc.transferred, exc.time_ns))
            out.append((bsc.last_level, bsc.read("S"), bsc.read("DLEN")))
        elif op[0] == "speed":
            board.soc.blocks[op[1]].set_bus_speed(op[2])
        elif op[0] == "eeprom":
            if attached:
                board.detach(eeprom)
            else:
                board.attach(eeprom, "i2c1")
            attached = not attached
        elif op[0] == "jumpers":
            if wires:
                for w in wires:
                    board.circuit.disconnect(w)
                wires = []
            else:
                wires = [board.connect("GPIO0", "GPIO2"), board.connect("GPIO1", "GPIO3")]
        else:
            board.run_for(op[1])
        out.append(board.now_ns)
    return out


@settings(max_examples=60, deadline=None)
@given(_ops)
def test_random_traffic_is_the_same_with_and_without_the_cache(ops: list[tuple[Any, ...]]) -> None:
    assert _run(ops, caching=True) == _run(ops, caching=False)


def test_the_jumpered_eeprom_answers_on_the_other_bus() -> None:
    """The equivalence above is not vacuous: a jumper changes who answers, and the cached
    path sees it (the HAT EEPROM at 0x50 is on i2c0 only, until GPIO0/1 join GPIO2/3)."""
    ops: list[tuple[Any, ...]] = [
        ("xfer", "bsc1", 0x50, 1, 1),
        ("jumpers",),
        ("xfer", "bsc1", 0x50, 1, 1),
        ("jumpers",),
        ("xfer", "bsc1", 0x50, 1, 1),
    ]
    got = _run(ops, caching=True)
    kinds = [e[0] for e in got if isinstance(e, tuple) and e[0] in ("ok", "err")]
    assert kinds == ["err", "ok", "err"]
    assert got == _run(ops, caching=False)
