"""The agent's answers as the remote backend reads them: error lines rebuilt as the driver
exception the agent raised (`rebuild_error`), comma-separated fields and SCPI strings."""

from __future__ import annotations

import json
import re
from typing import Any

from ..agent.protocol import ERROR_CODES
from ..errors import (
    BusError,
    ConfigurationError,
    ElectricalFaultError,
    IdQueryError,
    InstrumentStatusError,
    PihilError,
    ResourceNotFoundError,
    SelectorError,
)

_CLASS_OF_CODE = {code: cls for cls, code in ERROR_CODES}
_ERROR = re.compile(r'^!?(-?\d+),"(.*)"$', re.S)


def rebuild_error(line: str) -> PihilError:
    """The driver exception for an agent error line ``[!]<code>,"<text>[;<json>]"``."""
    m = _ERROR.match(line.strip())
    if m is None:
        return PihilError(f"the agent answered something unexpected: {line[:200]!r}")
    code = int(m.group(1))
    text = m.group(2).replace('""', '"')
    details: dict[str, Any] = {}
    head, sep, tail = text.rpartition(";")
    if sep and tail.startswith("{"):
        try:
            details = json.loads(tail)
            text = head
        except ValueError:
            details = {}
    if code < 0:
        # a protocol-level refusal (SCPI code): the agent did not run the command
        return ConfigurationError(f"the agent refused the command ({code}): {text}")
    cls = _CLASS_OF_CODE.get(code, PihilError)
    d = details
    try:
        if issubclass(cls, BusError):
            return cls(
                text,
                bus=str(d.get("bus", "")),
                kind=str(d.get("kind", "io")),
                address=d.get("address"),
                phase=d.get("phase"),
                transferred=int(d.get("transferred", 0)),
                errno_name=d.get("errno_name"),
            )
        if cls is ElectricalFaultError:
            return cls(
                text,
                net=str(d.get("net", "")),
                drivers=d.get("drivers", ()),
                time_ns=d.get("time_ns"),
            )
        if cls is SelectorError:
            return cls(text, legal=d.get("legal", ()))
        if cls is ResourceNotFoundError:
            return cls(text, path=str(d.get("path", "")))
        if cls is IdQueryError:
            return cls(text, found=str(d.get("found", "")), supported=d.get("supported", ()))
        if cls is InstrumentStatusError:
            return cls(text, errors=())
        return cls(text)
    except (TypeError, ValueError):
        return PihilError(text)


def _fields(text: str) -> list[str]:
    """Split a response on commas outside SCPI strings."""
    out: list[str] = []
    cur: list[str] = []
    inside = False
    for ch in text:
        if ch == '"':
            inside = not inside
        if ch == "," and not inside:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def _unquote(text: str) -> str:
    t = text.strip()
    if len(t) >= 2 and t[0] == t[-1] == '"':
        t = t[1:-1]
    return t.replace('""', '"')


def _strings(text: str) -> list[str]:
    parts = [_unquote(p) for p in _fields(text)]
    if len(parts) != 3:
        raise PihilError(f"the agent's SYST:IDEN? answer is malformed: {text[:200]!r}")
    return parts
