"""The board's userspace: what a program on the emulated board sees of Linux.

``Userspace(kernel, lock)`` installs, for the length of a ``with`` block, the board's
clock (``time.sleep`` and friends on simulated time), its device files (``/dev/i2c-N``
and the others the profile has) and stand-ins for C extensions. Users reach it through
the ``userspace`` pytest fixture or ``board.simulation.userspace()``.
"""

from .clock import SimClock, UserspaceDeadlock
from .session import Userspace, UserspaceError, active, current

__all__ = ["SimClock", "Userspace", "UserspaceDeadlock", "UserspaceError", "active", "current"]
