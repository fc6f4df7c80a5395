"""The house rules of docs/design.md ("The house"), checked over the source tree.

- no import circles between our modules (imports inside functions count: a lazy import
  that only hides a circle is still a circle; ``if TYPE_CHECKING:`` imports, which are
  annotations only, do not);
- imports point down: fixtures -> driver -> emulator, and inside the emulator the layer
  order of `EMULATOR_LAYERS`;
- no module is over `MAX_LINES` lines.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "pihil_emulator": ROOT / "emulator",
    "rpiboard_pihil": ROOT / "driver",
    "pytest_pihil": ROOT / "fixtures",
}
PACKAGE_ORDER = ("pihil_emulator", "rpiboard_pihil", "pytest_pihil")
"""Bottom to top: a package imports only those before it (and itself)."""
EMULATOR_LAYERS = (
    ("errors", "textfiles"),
    ("world",),
    ("attachments",),
    ("vcd_spi", "vcd_i2c", "vcd"),
    ("faults",),
    ("buses",),
    ("soc",),
    ("devices",),
    ("boards",),
    ("snapshot",),
    ("board_devices", "board"),
    ("multiboard",),
    ("userspace",),
    ("__init__",),
)
"""pihil_emulator's top-level modules and folders, bottom to top (docs/design.md)."""
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package, base in PACKAGES.items():
        for path in sorted((base / package).rglob("*.py")):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, path: Path) -> Iterator[tuple[int, str]]:
    """(line, imported module of ours) for every import outside ``if TYPE_CHECKING:``."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]

    def target(name: str) -> str | None:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        return name or None

    def walk(node: ast.AST) -> Iterator[tuple[int, str]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    yield from walk(other)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found = target(alias.name)
                    if found:
                        yield child.lineno, found
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package[: len(package) - child.level + 1]
                    name = ".".join(base + ([child.module] if child.module else []))
                else:
                    name = child.module or ""
                for alias in child.names:  # `from . import x` names a module
                    sub = f"{name}.{alias.name}"
                    if sub in MODULES:
                        yield child.lineno, sub
                found = target(name)
                if found and f"{name}.{child.names[0].name}" not in MODULES:
                    yield child.lineno, found
            yield from walk(child)

    yield from walk(ast.parse(path.read_text(encoding="utf-8")))


GRAPH = {m: {t for _, t in _imports(m, p) if t != m} for m, p in MODULES.items()}
"""Module -> the modules of ours it imports (a package counts as its ``__init__``)."""


def _circles() -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return found


def test_no_import_circles() -> None:
    circles = _circles()
    assert not circles, "modules importing each other (move what they share below both): " + (
        "; ".join(" <-> ".join(c) for c in circles)
    )


def _layer(module: str) -> tuple[int, int]:
    parts = module.split(".")
    package = PACKAGE_ORDER.index(parts[0])
    if parts[0] != "pihil_emulator":
        return package, 0
    name = parts[1] if len(parts) > 1 else "__init__"
    for i, names in enumerate(EMULATOR_LAYERS):
        if name in names:
            return package, i
    raise AssertionError(f"{module}: add its folder to EMULATOR_LAYERS (and to docs/design.md)")


def test_imports_point_down() -> None:
    upward = [
        f"{MODULES[m].relative_to(ROOT)}:{line} imports {t}"
        for m, p in MODULES.items()
        for line, t in _imports(m, p)
        if t != m and _layer(t) > _layer(m)
    ]
    assert not upward, "imports that point up the layers of docs/design.md:\n" + "\n".join(upward)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_too_big_to_hold_in_the_head(module: str) -> None:
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{MODULES[module].relative_to(ROOT)}: {lines} lines; split it"


def test_the_checker_sees_a_circle_and_an_upward_import() -> None:
    """The checks can fail: a planted pair of modules importing each other, and one
    importing up, are found."""
    GRAPH["pihil_emulator.world.clock"].add("pihil_emulator.world.net")
    GRAPH["pihil_emulator.world.net"].add("pihil_emulator.world.clock")
    try:
        assert ["pihil_emulator.world.clock", "pihil_emulator.world.net"] in _circles()
    finally:
        GRAPH["pihil_emulator.world.clock"].discard("pihil_emulator.world.net")
    assert _layer("pihil_emulator.board") > _layer("pihil_emulator.world.net")
    assert _layer("pytest_pihil.plugin") > _layer("rpiboard_pihil.board")
