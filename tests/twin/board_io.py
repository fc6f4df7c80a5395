"""Helpers the twin selection and the kernel tier's own tests share (public driver API only)."""

from __future__ import annotations

from rpiboard_pihil import RpiBoard
from rpiboard_pihil.enums import Direction, Edge, Pull


def set_input(board: RpiBoard, line: int, edge: Edge = Edge.NONE) -> None:
    """``line`` as an input without bias, its edge detection ``edge`` (set last)."""
    g = board.gpios[line]
    g.edge_detection = Edge.NONE
    g.direction = Direction.INPUT
    g.pull = Pull.NONE
    g.edge_detection = edge


def loop(board: RpiBoard, uart: str, payload: bytes, timeout_s: float) -> bytes:
    """Write ``payload`` on ``uart`` and read as many bytes back (a TXD-RXD loopback)."""
    u = board.uarts[uart]
    u.discard_input()
    u.write(payload)
    u.flush()
    return u.read(len(payload), timeout_s=timeout_s)
