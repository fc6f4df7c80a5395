"""Stand-in for the ``RPi`` package of RPi.GPIO 0.7.1 (``RPi/__init__.py``).

The real package holds ``RPi.GPIO`` (``from RPi._GPIO import *`` and ``VERSION``) and the C
extension ``RPi._GPIO``; both are `standin_rpi_gpio` here. This module is a package
(``__path__``) so that ``import RPi.GPIO`` finds the submodule through the stand-in finder
(`standins.StandinFinder`) as well as in ``sys.modules``.
"""

from __future__ import annotations

from . import standin_rpi_gpio as GPIO  # noqa: N812 - the package's attribute name
from . import standin_rpi_gpio as _GPIO  # noqa: N812

__path__: list[str] = []
__all__ = ["GPIO", "_GPIO"]
