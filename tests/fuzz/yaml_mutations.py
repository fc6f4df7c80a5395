"""Mutations of YAML documents that make them wrong, for the profile and bench-file fuzzers.

A mutation starts from a good document (a shipped board profile, merged with its bases;
a shipped bench file) and makes it wrong in one way, so the loader must refuse it:

- a known key gets a value of the wrong type or out of range (`Leaf` patterns per format);
- a mapping with a fixed set of keys gets an unknown key; a required key is deleted;
- a mapping key is renamed to something that cannot be a name there;
- YAML-level trouble the schema never sees: complex keys (``[a, b]: 1``, ``{a: 1}: 1``),
  tags (``!!binary``, ``!!set``, ``!!timestamp``, ``!!python/object``), NaN and infinity,
  integers of thousands of digits, aliases to nothing and to themselves, deep nesting,
  bytes that are not UTF-8, a file that is not a mapping at all.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from hypothesis import strategies as st

Path_ = tuple[Any, ...]
WILD = "*"

PLACEHOLDER = "zz_placeholder_zz"

KEY_TROUBLE = ("[a, b]", "{a: 1}", "[]", "{}", "!!binary aGk=", "!!set {a}", "2001-12-14", "1.5")
"""Texts that become a mapping key no profile or bench key can be (most unhashable)."""

VALUE_TROUBLE = (
    "!!binary aGk=",
    "!!set {a, b}",
    "!!timestamp 2001-12-14",
    ".nan",
    ".inf",
    "-.inf",
    "1" * 5000,  # past Python's 4300-digit limit for int(str)
    "0x" + "f" * 3000,
    "!!python/object/apply:os.getcwd []",
    "*no_such_anchor",
    "&loop [*loop]",
    "!!int not-a-number",
    "!!float x",
    "[" * 200 + "]" * 200,
    "{a: " * 100 + "1" + "}" * 100,
)
"""Texts that become a value no field of a profile or bench file takes."""

WHOLE_FILE_TROUBLE: tuple[str | bytes, ...] = (
    "",
    "# nothing but a comment\n",
    "- a list\n- at the top\n",
    "a scalar at the top",
    "\tsoc: BCM2711\n",
    "{unclosed: [1, 2\n",
    "soc: BCM2711\nsoc: BCM2835\n",
    "[" * 3000 + "]" * 3000,
    "a: " + "[" * 1500 + "]" * 1500,
    b"\xff\xfe\x00s\x00o\x00c",
    b"soc: \xc3\x28\n",
    "\x00",
    "\ufeffsoc: BCM2711\n",
    "? [a, b]\n: 1\n",
    "[a, b]: 1\n",
    "{a: 1}: 1\n",
    "!!python/object/apply:os.getcwd []\n",
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
    "&top {a: *top}\n",
)


@dataclass(frozen=True)
class Leaf:
    """Values a field must refuse; ``create`` also sets it where the document has none."""

    pattern: Path_
    bad: Sequence[object]
    create: bool = False


@dataclass(frozen=True)
class Schema:
    """What a format's mutations need: its leaves, its fixed-key mappings, its required keys."""

    leaves: Sequence[Leaf]
    closed: Sequence[Path_]
    """Mappings whose keys are a fixed set (an unknown key must be refused)."""
    required: Sequence[Path_]
    """Keys that must be there (deleting one must be refused)."""
    bad_keys: Sequence[tuple[Path_, Sequence[object]]]
    """Mappings whose keys are names of a kind, and keys that are not."""
    key_trouble: Sequence[str] = KEY_TROUBLE
    """The key texts of the YAML-key mutation (a format whose reader ignores unknown keys
    takes only those YAML itself refuses: unhashable ones)."""
    yaml_under: Sequence[Path_] | None = None
    """Where the YAML-level key and value troubles go (None: anywhere): the parts of the
    document the loader reads."""


def _under(path: Path_, schema: Schema) -> bool:
    if schema.yaml_under is None:
        return True
    return any(
        len(path) <= 1 if p == () else len(path) >= len(p) and matches(path[: len(p)], p)
        for p in schema.yaml_under
    )


def matches(path: Path_, pattern: Path_) -> bool:
    return len(path) == len(pattern) and all(
        p in (WILD, k) for k, p in zip(path, pattern, strict=True)
    )


def walk(node: Any, prefix: Path_ = ()) -> list[tuple[Path_, Any]]:
    """Every (path, value) below ``node``, the node itself first."""
    out: list[tuple[Path_, Any]] = [(prefix, node)]
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(walk(v, (*prefix, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(walk(v, (*prefix, i)))
    return out


def get(node: Any, path: Path_) -> Any:
    for k in path:
        node = node[k]
    return node


_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _copy(data: Any) -> Any:
    """A deep copy (pickle's: several times faster than copy.deepcopy on a profile)."""
    return pickle.loads(pickle.dumps(data))


def dump(data: Any) -> str:
    return yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False
    )


@dataclass(frozen=True)
class Mutant:
    """A wrong document: its text (or bytes) and what was done to it."""

    text: str | bytes
    what: str
    op: str = ""
    """The kind of mutation (``leaf buses.*.kind``, ``yaml key``...), to group the figures."""

    def __repr__(self) -> str:
        return self.what


def _leaf(data: Any, schema: Schema, draw: st.DrawFn) -> Mutant | None:
    paths = [p for p, _ in walk(data)]
    choices = [(leaf, p) for leaf in schema.leaves for p in paths if p and matches(p, leaf.pattern)]
    creatable = [
        (leaf, leaf.pattern)
        for leaf in schema.leaves
        if leaf.create and WILD not in leaf.pattern and leaf.pattern not in paths
    ]
    if not choices + creatable:
        return None
    leaf, path = draw(st.sampled_from(choices + creatable))
    value = draw(st.sampled_from(list(leaf.bad)))
    out = _copy(data)
    parent = get(out, path[:-1])
    if callable(value):
        value = value(data, path)
    parent[path[-1]] = value
    return Mutant(dump(out), f"{'.'.join(map(str, path))} = {value!r:.80}", "wrong value")


def _unknown_key(data: Any, schema: Schema, draw: st.DrawFn) -> Mutant | None:
    targets = [
        p
        for p, v in walk(data)
        if isinstance(v, dict) and any(matches(p, c) for c in schema.closed)
    ]
    if not targets:
        return None
    path = draw(st.sampled_from(targets))
    key = "zz_" + draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=6))
    out = _copy(data)
    get(out, path)[key] = draw(st.sampled_from([1, "x", None, [1], {"a": 1}]))
    return Mutant(dump(out), f"unknown key {'.'.join(map(str, (*path, key)))}", "unknown key")


def _delete_required(data: Any, schema: Schema, draw: st.DrawFn) -> Mutant | None:
    paths = [p for p, _ in walk(data)]
    targets = [p for p in paths if p and any(matches(p, r) for r in schema.required)]
    if not targets:
        return None
    path = draw(st.sampled_from(targets))
    out = _copy(data)
    parent = get(out, path[:-1])
    del parent[path[-1]]
    return Mutant(dump(out), f"deleted {'.'.join(map(str, path))}", "required key deleted")


def _bad_key(data: Any, schema: Schema, draw: st.DrawFn) -> Mutant | None:
    choices = [
        (p, keys)
        for pattern, keys in schema.bad_keys
        for p, v in walk(data)
        if isinstance(v, dict) and v and matches(p, pattern)
    ]
    if not choices:
        return None
    path, keys = draw(st.sampled_from(choices))
    out = _copy(data)
    mapping = get(out, path)
    old = draw(st.sampled_from(sorted(mapping, key=str)))
    new = draw(st.sampled_from([k for k in keys if k not in mapping]))
    mapping[new] = mapping.pop(old)
    return Mutant(
        dump(out), f"key {'.'.join(map(str, (*path, old)))} renamed {new!r:.40}", "bad name"
    )


def _yaml_key(data: Any, schema: Schema, draw: st.DrawFn) -> Mutant | None:
    targets = [p for p, v in walk(data) if isinstance(v, dict) and _under(p, schema)]
    if not targets:
        return None
    path = draw(st.sampled_from(targets))
    out = _copy(data)
    get(out, path)[PLACEHOLDER] = 1
    trouble = draw(st.sampled_from(list(schema.key_trouble)))
    text = dump(out).replace(PLACEHOLDER, trouble, 1)
    return Mutant(text, f"key {trouble!r} in {'.'.join(map(str, path)) or '(top)'}", "yaml key")


def _yaml_value(data: Any, schema: Schema, draw: st.DrawFn) -> Mutant | None:
    targets = [
        p
        for p, v in walk(data)
        if p and not isinstance(v, dict | list) and v is not None and _under(p, schema)
    ]
    if not targets:
        return None
    path = draw(st.sampled_from(targets))
    out = _copy(data)
    get(out, path[:-1])[path[-1]] = PLACEHOLDER
    trouble = draw(st.sampled_from(VALUE_TROUBLE))
    text = dump(out).replace(PLACEHOLDER, trouble, 1)
    return Mutant(text, f"{'.'.join(map(str, path))} = {trouble[:40]!r}", "yaml value")


def _whole_file(draw: st.DrawFn) -> Mutant:
    text = draw(st.sampled_from(WHOLE_FILE_TROUBLE))
    return Mutant(text, f"whole file {text[:40]!r}", "whole file")


@st.composite
def mutants(draw: st.DrawFn, bases: Sequence[Any], schema: Schema) -> Mutant:
    """A wrong document made from one of ``bases`` (parsed YAML data)."""
    data = draw(st.sampled_from(list(bases)))
    ops = ["leaf"] * 6 + ["unknown", "delete", "bad_key", "bad_key", "yaml_key", "yaml_value"]
    op = draw(st.sampled_from([*ops, "yaml_value", "whole"]))
    made: Mutant | None
    if op == "leaf":
        made = _leaf(data, schema, draw)
    elif op == "unknown":
        made = _unknown_key(data, schema, draw)
    elif op == "delete":
        made = _delete_required(data, schema, draw)
    elif op == "bad_key":
        made = _bad_key(data, schema, draw)
    elif op == "yaml_key":
        made = _yaml_key(data, schema, draw)
    elif op == "yaml_value":
        made = _yaml_value(data, schema, draw)
    else:
        made = _whole_file(draw)
    return made if made is not None else _whole_file(draw)


NAN, INF = math.nan, math.inf
