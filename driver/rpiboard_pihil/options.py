"""Driver options: the `Options` TypedDict and the IVI option-string form.

IVI-Python lets ``options`` be a dict (a `TypedDict` is recommended) or an
option string. Both are accepted and checked the same way: an unknown key, a
value of the wrong type or an unknown board is an `OptionError` whose message
lists what is valid. Simulation is off unless asked for (IVI Driver Core,
"Initialization").

Option-string form: comma-separated ``Key=Value`` pairs, keys
case-insensitive, underscores optional, e.g. ``"Simulate=True, Board=mirkopc,
Seed=7, QueryInstrStatus=True"``; booleans are ``True``/``False``/``1``/``0``;
``Devices=uart0:/dev/ttyUSB0;i2c1:/dev/i2c-1`` overrides device nodes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypedDict

from .errors import OptionError

DEFAULT_SIMULATED_BOARD = "mirkopc"
"""The board simulated when ``simulate`` is on and no ``board`` is given (the project's main board)."""


class Options(TypedDict, total=False):
    """Options of `RpiBoard` (all optional).

    - ``simulate``: run against the emulator instead of this machine's kernel devices
      (default False).
    - ``board``: the board profile (``"mirkopc"``, ``"rpi-4b"``...). In simulation it
      chooses the emulated board (default ``"mirkopc"``); on hardware it picks the
      carrier when the kernel cannot tell (a CM4 on ``"cm4-io"`` or ``"mirkopc"``).
    - ``seed``: seed of the emulator's random source (default 0); same seed, same run.
    - ``query_instrument_status``: start with query-instrument-status on (default False).
    - ``devices``: Linux device node per capability name, overriding the profile's
      (``{"uart0": "/dev/ttyUSB0"}``); names must be ones the board has.
    """

    simulate: bool
    board: str
    seed: int
    query_instrument_status: bool
    devices: dict[str, str]


@dataclass(frozen=True)
class ResolvedOptions:
    """Options after validation, with defaults filled in."""

    simulate: bool = False
    board: str | None = None
    seed: int = 0
    query_instrument_status: bool = False
    devices: Mapping[str, str] = field(default_factory=dict)


_EXPECTED: dict[str, str] = {
    "simulate": "bool",
    "board": "str",
    "seed": "int",
    "query_instrument_status": "bool",
    "devices": "dict[str, str]",
}

# option-string keys, compared lower-case without underscores or dashes
_STRING_KEYS: dict[str, str] = {
    "simulate": "simulate",
    "board": "board",
    "seed": "seed",
    "queryinstrumentstatus": "query_instrument_status",
    "queryinstrstatus": "query_instrument_status",
    "devices": "devices",
}


def _valid_keys_text() -> str:
    return ", ".join(f"{k} ({t})" for k, t in _EXPECTED.items())


def parse_options(
    options: Mapping[str, object] | str | None,
    *,
    boards: Sequence[str],
    is_profile_file: Callable[[str], bool] | None = None,
) -> ResolvedOptions:
    """Validate ``options`` (dict, option string or None) against the known ``boards``;
    a ``board`` that ``is_profile_file`` accepts (a path to a profile YAML) passes too,
    and is loaded by the caller."""
    if options is None:
        raw: dict[str, object] = {}
    elif isinstance(options, str):
        raw = _parse_option_string(options)
    elif isinstance(options, Mapping):
        raw = dict(options)
    else:
        raise OptionError(
            f"options must be a dict (Options), an option string such as "
            f"'Simulate=True, Board=mirkopc', or None; got {type(options).__name__}"
        )
    for key in raw:
        if key not in _EXPECTED:
            raise OptionError(f"unknown option {key!r}; valid options: {_valid_keys_text()}")

    simulate = _bool(raw, "simulate", False)
    query = _bool(raw, "query_instrument_status", False)
    seed = raw.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise OptionError(f"option 'seed' must be an int, got {seed!r} ({type(seed).__name__})")
    if seed < 0:
        raise OptionError(f"option 'seed' must be zero or positive, got {seed}")
    board = raw.get("board")
    if board is not None:
        if not isinstance(board, str):
            raise OptionError(
                f"option 'board' must be a str naming a board profile ({', '.join(boards)}), "
                f"got {board!r} ({type(board).__name__})"
            )
        if board not in boards and not (is_profile_file is not None and is_profile_file(board)):
            raise OptionError(
                f"unknown board {board!r}; known boards: {', '.join(boards)}; or a profile "
                "file's path (./myboard.yaml, which may `extends: mirkopc`)"
            )
    devices = raw.get("devices", {})
    if not isinstance(devices, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in devices.items()
    ):
        raise OptionError(
            "option 'devices' must be a dict of capability name to device node, "
            f"e.g. {{'uart0': '/dev/ttyUSB0'}}; got {devices!r}"
        )
    return ResolvedOptions(
        simulate=simulate,
        board=board,
        seed=seed,
        query_instrument_status=query,
        devices=dict(devices),
    )


def _bool(raw: Mapping[str, object], key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise OptionError(
            f"option {key!r} must be a bool (True or False), got {value!r} ({type(value).__name__})"
        )
    return value


def _pairs(text: str, between: str, within: str) -> Iterator[tuple[str, str, str, str]]:
    """The non-empty items of ``text`` split on ``between``, each stripped and partitioned on
    ``within``: (item, key, separator or "", value)."""
    for item in text.split(between):
        item = item.strip()
        if item:
            yield (item, *item.partition(within))


def _parse_option_string(text: str) -> dict[str, object]:
    """Parse the IVI option string form into the dict form (typed values)."""
    out: dict[str, object] = {}
    for item, key_text, sep, value_text in _pairs(text, ",", "="):
        if not sep:
            raise OptionError(
                f"option string item {item!r} is not Key=Value; "
                "example: 'Simulate=True, Board=mirkopc'"
            )
        norm = key_text.strip().lower().replace("_", "").replace("-", "")
        key = _STRING_KEYS.get(norm)
        if key is None:
            names = "Simulate, Board, Seed, QueryInstrStatus, Devices"
            raise OptionError(
                f"unknown option {key_text.strip()!r} in option string; valid keys: {names}"
            )
        if key in out:
            raise OptionError(f"option {key_text.strip()!r} given twice in the option string")
        out[key] = _string_value(key, value_text.strip())
    return out


def _string_value(key: str, text: str) -> object:
    kind = _EXPECTED[key]
    if kind == "bool":
        low = text.lower()
        if low in ("true", "1"):
            return True
        if low in ("false", "0"):
            return False
        raise OptionError(f"option {key!r} takes True, False, 1 or 0; got {text!r}")
    if kind == "int":
        try:
            return int(text, 0)
        except ValueError:
            raise OptionError(f"option {key!r} takes an integer; got {text!r}") from None
    if kind == "dict[str, str]":
        devices: dict[str, str] = {}
        for pair, name, sep, path in _pairs(text, ";", ":"):
            if not sep or not name.strip() or not path.strip():
                raise OptionError(
                    f"option 'devices' takes name:path pairs separated by ';' "
                    f"(Devices=uart0:/dev/ttyUSB0;i2c1:/dev/i2c-1); got {pair!r}"
                )
            devices[name.strip()] = path.strip()
        return devices
    return text
