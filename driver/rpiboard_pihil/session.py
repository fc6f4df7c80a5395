"""One driver session: the backend, the session lock, the device-error queue.

Every public call of the driver runs through `Session.call`, which takes the
session's lock for the whole operation (so calls from several threads never
interleave a transaction, IVI Driver Core "Multithread Safety") and refuses a
closed session. With query-instrument-status on it then asks the backend for
errors the board reported on its own and raises new ones (IVI Driver Core
"Query Instrument Status on API Call"). With it off, nothing is asked: the
backend keeps what the board reports and `collect` moves it to the queue when
``error_query`` looks, so status checking costs nothing until it is wanted.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn, ParamSpec, TypeVar

from .errors import InstrumentStatusError, SessionClosedError

if TYPE_CHECKING:
    from .backends.base import Backend
    from .utility import ErrorQueryResult

P = ParamSpec("P")
T = TypeVar("T")


class Session:
    """State shared by the root class and every capability object of one `RpiBoard`."""

    def __init__(self, backend: Backend, *, query_instrument_status: bool) -> None:
        self.backend = backend
        self.lock = threading.RLock()
        self.closed = False
        self.query_instrument_status = query_instrument_status
        self.errors: deque[ErrorQueryResult] = deque()

    def call(self, operation: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run one operation under the session lock, then (if enabled) check the board's status."""
        with self.lock:
            if self.closed:
                self.refuse_closed()
            if not self.query_instrument_status:
                return operation(*args, **kwargs)
            try:
                result = operation(*args, **kwargs)
            except BaseException:
                # the call's own error is what the caller needs; keep the board's for error_query
                self.errors.extend(self.backend.device_errors())
                raise
            self.check_status()
            return result

    @staticmethod
    def refuse_closed() -> NoReturn:
        raise SessionClosedError(
            "this RpiBoard session is closed; open a new RpiBoard(...) to continue"
        )

    def check_status(self) -> None:
        """Raise `InstrumentStatusError` for errors the board reported since the last look."""
        new = self.backend.device_errors()
        if not new:
            return
        self.errors.extend(new)
        raise InstrumentStatusError(
            "the board reported error(s): "
            + "; ".join(f"{e.code}: {e.message}" for e in new)
            + " (also queued for ivi_utility.error_query)",
            errors=new,
        )

    def collect(self) -> None:
        """Move what the board reported into the queue, without raising (for error_query)."""
        with self.lock:
            if not self.closed:
                self.errors.extend(self.backend.device_errors())
