"""The board agent: serves a backend over TCP with a SCPI-like text protocol (docs/agent.md).

`protocol` is the framing and the error codes, `commands` checks each command's arguments
and runs it on a `Backend`, `server` is the threaded TCP server behind ``pihil agent``.
"""
