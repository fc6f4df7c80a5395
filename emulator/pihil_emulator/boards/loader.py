"""Board profiles: reading the YAML files, ``extends:``, and the cache of validated profiles.

``extends: <base>`` merges a base file first (mappings merge key by key, a ``null`` removes a
key, lists add to the base's, anything else replaces), so the 40-pin J8 header is written once
(``_j8-40.yaml``). Files whose name starts with ``_`` are bases, not boards. A key given twice
in one mapping, or a list or mapping as a key, is an error (PyYAML keeps the last one
silently). `load_profile` validates the merged data (`pihil_emulator.boards.build`) and
caches the result.
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from ..errors import ProfileError, clip
from ..textfiles import read_utf8
from .build import build_profile, device_registry
from .schema import BoardProfile

PROFILES_DIR: Final = Path(__file__).parent / "profiles"


# ----------------------------------------------------------------------------------------
# YAML reading: duplicate keys are errors (PyYAML keeps the last one silently)
# ----------------------------------------------------------------------------------------
class _DuplicateKey(Exception):
    def __init__(self, key: object, line: int, first_line: int) -> None:
        self.key = key
        self.line = line
        self.first_line = first_line
        super().__init__(f"{key!r} on line {line} (first on line {first_line})")


class _BadKey(Exception):
    """A mapping key YAML allows and a profile cannot have (a list or a mapping as a key)."""

    def __init__(self, key: object, line: int) -> None:
        self.key = key
        self.line = line
        super().__init__(f"{type(key).__name__} key on line {line}")


_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML has it (ten times faster); the constructor is Python's."""


class _StrictLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader that refuses a key given twice in one mapping (merge keys excepted), and
    complex keys (``[a, b]: 1``, ``{a: 1}: 1``), which no profile key can be."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, Hashable):
            raise _BadKey(key, line)
        if key in seen:
            raise _DuplicateKey(key, line, seen[key])
        seen[key] = line
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def profile_names() -> list[str]:
    """The shipped profiles (``rpi-b-rev1``, ..., ``mirkopc``)."""
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml") if not p.stem.startswith("_"))


def is_profile_path(name_or_path: str | Path) -> bool:
    """True when ``name_or_path`` names a profile file (a path, or a ``.yaml``/``.yml``
    name) rather than a shipped profile's name."""
    return (
        isinstance(name_or_path, Path)
        or "/" in str(name_or_path)
        or str(name_or_path).endswith((".yaml", ".yml"))
    )


def _locate(name_or_path: str | Path) -> Path:
    if is_profile_path(name_or_path):
        path = Path(name_or_path)
        if not path.is_file():
            raise ProfileError(str(path), "(file)", "an existing YAML file")
        return path
    name = str(name_or_path)
    path = PROFILES_DIR / f"{name}.yaml"
    if name.startswith("_") or not path.is_file():
        names = profile_names()
        close = difflib.get_close_matches(name, names, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ProfileError(
            name, "(profile)", f"one of the shipped profiles: {', '.join(names)}{hint}"
        )
    return path


def _read_yaml(path: Path, texts: list[tuple[Path, str]] | None = None) -> dict[str, Any]:
    text = read_utf8(
        path,
        ProfileError,
        not_utf8="UTF-8 text; byte {start} is not ({reason})",
        unreadable="a readable file ({strerror})",
    )
    if texts is not None:
        texts.append((path.resolve(), text))
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except _DuplicateKey as dup:
        raise ProfileError(
            str(path), str(dup.key), f"each key once; line {dup.line} repeats line {dup.first_line}"
        ) from None
    except _BadKey as bad:
        raise ProfileError(
            str(path),
            f"(line {bad.line})",
            f"a key that is a name or a number; got a {type(bad.key).__name__} as a key "
            f"({clip(bad.key)})",
        ) from None
    except yaml.YAMLError as exc:
        raise ProfileError(str(path), "(yaml)", f"valid YAML ({exc})") from None
    except RecursionError:
        raise ProfileError(
            str(path), "(yaml)", "YAML nested no deeper than a profile needs (it nests too deep)"
        ) from None
    except ValueError as exc:  # int() of a number of more than 4300 digits
        raise ProfileError(str(path), "(yaml)", f"values a profile can hold ({exc})") from None
    if not isinstance(data, dict):
        raise ProfileError(str(path), "(top level)", "a mapping of profile keys")
    return data


def _merge(base: Any, child: Any) -> Any:
    """Deep merge: mappings key by key (``null`` deletes), lists add the child's items after
    the base's (config lines, pulls, jumpers), anything else replaces."""
    if isinstance(base, list) and isinstance(child, list):
        return [*base, *child]
    if isinstance(base, dict) and isinstance(child, dict):
        out = dict(base)
        for key, value in child.items():
            if value is None:
                out.pop(key, None)
            elif key in out:
                out[key] = _merge(out[key], value)
            else:
                out[key] = value
        return out
    return child


def _base_of(path: Path, base: str) -> Path | None:
    """The file that ``extends: base`` in ``path`` names (issue 14 item 3), or None.

    A path (``./base.yaml``, ``../boards/x.yml``, ``~/b.yaml``) is taken relative to the file's
    own folder; a bare name is looked up first beside the file, then among the shipped profiles,
    so a custom profile anywhere can say ``extends: mirkopc``.
    """
    if "/" in base or base.endswith((".yaml", ".yml")):
        candidate = (path.parent / Path(base).expanduser()).resolve()
        return candidate if candidate.is_file() else None
    for folder in (path.parent, PROFILES_DIR):
        candidate = (folder / f"{base}.yaml").resolve()
        if candidate.is_file() and candidate != path.resolve():
            return candidate
    return None


def _load_merged(
    path: Path, chain: tuple[Path, ...] = (), texts: list[tuple[Path, str]] | None = None
) -> tuple[dict[str, Any], list[Path]]:
    """The merged data of ``path`` and its bases, and the files read; ``texts`` (when given)
    receives each file's resolved path and the text that was parsed."""
    path = path.resolve()
    if path in chain:
        cycle = " → ".join(p.name for p in (*chain, path))
        raise ProfileError(str(path), "extends", f"no cycle ({cycle})")
    data = _read_yaml(path, texts)
    base_name = data.pop("extends", None)
    if base_name is None:
        return data, [path]
    expected = (
        "a profile in the file's folder or a shipped one (by name), or a YAML file's path "
        "relative to this file"
    )
    if not isinstance(base_name, str) or not base_name.strip():
        raise ProfileError(str(path), "extends", expected)
    base_path = _base_of(path, base_name.strip())
    if base_path is None:
        bases = sorted(
            {p.stem for p in path.parent.glob("*.yaml") if p != path} | set(profile_names())
        )
        raise ProfileError(
            str(path), "extends", f"{expected}; {base_name!r} is none of: {', '.join(bases)}"
        )
    base, files = _load_merged(base_path, (*chain, path), texts)
    return _merge(base, data), [path, *files]


# ----------------------------------------------------------------------------------------
# the cache of validated profiles (issue 13 item 4: a fresh board without re-parsing YAML)
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Cached:
    """A validated profile and what it was built from: the text of every file of its
    ``extends`` chain, and the device models known then (validation checks each device's
    model against the registry)."""

    texts: tuple[tuple[Path, str], ...]
    models: tuple[tuple[str, Any], ...] | None
    """``None`` when the profile has no devices (validation never consulted the registry)."""
    profile: BoardProfile


PROFILE_CACHE_SIZE: Final = 64
"""Profiles kept (most recently used); the fuzz tests load thousands of one-off files."""
_cache: dict[Path, _Cached] = {}


def _models_key() -> tuple[tuple[str, Any], ...]:
    return tuple(device_registry().DEVICE_MODELS.items())


def _cached(path: Path) -> BoardProfile | None:
    """The cached profile of ``path`` when every file it was built from still reads the same
    text (compared in full: a file rewritten within one mtime tick is still seen) and the
    device registry is unchanged; ``None`` otherwise."""
    entry = _cache.get(path)
    if entry is None:
        return None
    for file, text in entry.texts:
        try:
            if file.read_text(encoding="utf-8") != text:
                return None
        except (OSError, UnicodeDecodeError):
            return None
    if entry.models is not None and entry.models != _models_key():
        return None
    _cache[path] = _cache.pop(path)  # most recently used last
    return entry.profile


def clear_profile_cache() -> None:
    """Forget every cached profile (the next `load_profile` parses and validates again)."""
    _cache.clear()


def load_profile(name_or_path: str | Path) -> BoardProfile:
    """Load and validate a profile by name (``mirkopc``) or path; `ProfileError` when it is bad.

    A profile that validated is cached by its resolved path: loading it again costs reading
    its files and comparing their text with what was parsed (about 2 % of parsing and
    validating them). A changed file, or a device model registered or removed since, parses
    and validates again; errors are never cached. The `BoardProfile` is frozen, so every
    board built from the cache shares it.
    """
    path = _locate(name_or_path)
    key = path.resolve()
    hit = _cached(key)
    if hit is not None:
        return hit
    texts: list[tuple[Path, str]] = []
    data, files = _load_merged(path, texts=texts)
    file = str(path) if len(files) == 1 else f"{path} (with {', '.join(f.name for f in files[1:])})"
    profile = build_profile(data, file, path.stem)
    models = _models_key() if profile.devices else None
    _cache[key] = _Cached(tuple(texts), models, profile)
    while len(_cache) > PROFILE_CACHE_SIZE:
        del _cache[next(iter(_cache))]
    return profile
