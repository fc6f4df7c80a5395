"""GPIO pin functions and routing (soc-facts §3.3): GPFSEL with the ALT0..ALT5 encodings,
an unused alternate tied to ground, and the peripheral signals routed through the selected
alternates (`drive_signal`, `signal_level`, `signal_nets`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..errors import BusError, ConfigurationError, ElectricalFault
from ..world.net import Drive, Net
from .alt_functions import AltRow, lines_with_signal
from .gpio_events import GpioEventDetect
from .gpio_map import (
    _HIGH,
    _LOW,
    ALT_OF_FSEL,
    FSEL_INPUT,
    FSEL_OF_FUNCTION,
    FSEL_OUTPUT,
    FUNCTION_NAMES,
)


class GpioRouting(GpioEventDetect):
    """GPFSEL and the routing of peripheral signals to pins."""

    alt_table: Mapping[int, AltRow]
    _known_signals: frozenset[str]
    _fsel: list[int]
    _line_signal: list[str | None]
    _latch: int
    _outputs: int
    _out_owner: list[str]
    _routed: dict[str, list[int]]
    routing_generation: int
    _signal_nets: dict[str, list[Net]]
    _signal_drives: dict[str, dict[str, Drive]]

    # GPFSEL ---------------------------------------------------------------------------
    def _fsel_writer(self, index: int) -> Callable[[int], None]:
        first = 10 * index
        lines = range(first, min(first + 10, self.count))

        def write(value: int) -> None:
            for n in lines:
                self._apply_fsel(n, (value >> (3 * (n - first))) & 0b111)

        return write

    def _fsel_reader(self, index: int) -> Callable[[], int]:
        first = 10 * index
        lines = range(first, min(first + 10, self.count))

        def read() -> int:
            value = 0
            for n in lines:
                value |= self._fsel[n] << (3 * (n - first))
            return value

        return read

    def _apply_fsel(self, n: int, code: int) -> None:
        """Switch line ``n`` to FSEL ``code``; on an electrical fault put the old function back."""
        old = self._fsel[n]
        if old == code:
            return
        self._leave_function(n)
        self._fsel[n] = code
        try:
            self._enter_function(n)
        except ElectricalFault:
            self._leave_function(n)
            self._fsel[n] = old
            self._enter_function(n)
            raise

    def _leave_function(self, n: int) -> None:
        code = self._fsel[n]
        net = self._nets[n]
        if code == FSEL_OUTPUT:
            self._outputs &= ~(1 << n)
            net.release(self._out_owner[n])
        elif code != FSEL_INPUT:
            signal = self._line_signal[n]
            if signal is None:
                net.release(self._out_owner[n])  # the unused alternate's tie to ground
            else:
                routed = self._routed[signal]
                routed.remove(n)
                if not routed:
                    del self._routed[signal]
                self._rerouted()
                for owner in self._signal_drives.get(signal, {}):
                    net.release(owner)
                self._line_signal[n] = None

    def _enter_function(self, n: int) -> None:
        code = self._fsel[n]
        net = self._nets[n]
        if code == FSEL_OUTPUT:
            self._outputs |= 1 << n
            net.drive(self._out_owner[n], _HIGH if self._latch >> n & 1 else _LOW)
        elif code != FSEL_INPUT:
            signal = self.alt_table[n][ALT_OF_FSEL[code]] if n in self.alt_table else None
            if signal is None:
                # §3.3: "unused alternative function lines are tied to ground and will output a 0"
                net.drive(self._out_owner[n], _LOW)
            else:
                self._line_signal[n] = signal
                routed = self._routed.setdefault(signal, [])
                routed.append(n)
                routed.sort()
                self._rerouted()
                for owner, drive in self._signal_drives.get(signal, {}).items():
                    net.drive(owner, drive)

    def function(self, line: int) -> str:
        """``"input"``, ``"output"`` or ``"ALT0"``..``"ALT5"``, from GPFSEL."""
        return FUNCTION_NAMES[self._fsel[self._check_line(line)]]

    def set_function(self, line: int, function: str) -> None:
        """Select a function as a GPFSEL write would (read-modify-write of one field)."""
        code = FSEL_OF_FUNCTION.get(function.strip().lower() if function else "")
        if code is None:
            code = FSEL_OF_FUNCTION.get(function.strip().upper())
        if code is None:
            raise ConfigurationError(
                f"unknown GPIO function {function!r}; valid: {', '.join(FSEL_OF_FUNCTION)}"
            )
        self._apply_fsel(self._check_line(line), code)

    def signal(self, line: int) -> str | None:
        """The peripheral signal the pin is routed to now (soc-facts §3.9 names), if any."""
        return self._line_signal[self._check_line(line)]

    def alternates(self, line: int) -> AltRow:
        """The pin's ALT0..ALT5 signals (None: unused)."""
        return self.alt_table[self._check_line(line)]

    def alt_for(self, line: int, signal: str) -> str:
        """The function (``"ALT0"``...) that routes ``line`` to ``signal``; a clear error if none."""
        row = self.alternates(line)
        for alt, name in enumerate(row):
            if name == signal:
                return f"ALT{alt}"
        where = ", ".join(f"GPIO{n} ALT{a}" for n, a in lines_with_signal(self.alt_table, signal))
        raise ConfigurationError(
            f"GPIO{line} has no {signal} function on the {self.soc.variant.name}; "
            f"{signal} is on: {where or 'no pin'}"
        )

    def lines_for(self, signal: str) -> list[int]:
        """The lines routed to ``signal`` now, lowest first."""
        return list(self._routed.get(signal, ()))

    def candidates(self, signal: str) -> list[tuple[int, int]]:
        """Every (line, ALT number) that could carry ``signal`` on this chip."""
        return lines_with_signal(self.alt_table, signal)

    def _check_signal(self, signal: str) -> None:
        if signal not in self._known_signals:
            import difflib

            close = difflib.get_close_matches(signal, sorted(self._known_signals), n=4)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ConfigurationError(
                f"{signal!r} is not a {self.soc.variant.name} alternate-function signal{hint}"
            )

    def drive_signal(self, signal: str, owner: str, drive: Drive | None) -> None:
        """A peripheral drives (or with None releases) its output ``signal``.

        Applied to every line routed to the signal now and re-applied when GPFSEL
        routes it elsewhere. Raises `ElectricalFault` (and keeps the old drive) on a
        broken electrical rule.
        """
        drives = self._signal_drives.get(signal)
        if drives is None:
            self._check_signal(signal)
            drives = self._signal_drives[signal] = {}
        old = drives.get(owner)
        if drive is None:
            drives.pop(owner, None)
        else:
            drives[owner] = drive
        lines = self._routed.get(signal)
        if not lines:
            return
        done: list[Net] = []
        try:
            for n in lines:
                net = self._nets[n]
                net.drive(owner, drive)
                done.append(net)
        except ElectricalFault:
            if old is None:
                drives.pop(owner, None)
            else:
                drives[owner] = old
            for net in done:
                net.drive(owner, old)
            raise

    def signal_level(self, signal: str) -> bool:
        """The level a peripheral input sees: the pin routed to ``signal`` (the lowest if several).

        Raises `BusError` (kind ``not_routed``) when GPFSEL routes no pin to it.
        """
        lines = self._routed.get(signal)
        if not lines:
            self._check_signal(signal)
            where = ", ".join(f"GPIO{n} ALT{a}" for n, a in self.candidates(signal))
            raise BusError(
                f"no GPIO is routed to {signal} (select one of: {where})",
                bus=signal,
                kind="not_routed",
                time_ns=self.world.now_ns,
            )
        return bool(self._level >> lines[0] & 1)

    def signal_nets(self, signal: str) -> list[Net]:
        """The nets routed to ``signal`` now (empty when none), lowest line first.

        Kept per routing generation (every transfer and every UART byte asks): the list is
        shared with the next callers until the routing changes, so it must not be modified.
        """
        nets = self._signal_nets.get(signal)
        if nets is None:
            nets = [self._nets[n] for n in self._routed.get(signal, ())]
            self._signal_nets[signal] = nets
        return nets

    def _rerouted(self) -> None:
        """`_routed` changed: a new routing generation, the kept `signal_nets` answers dropped."""
        self.routing_generation += 1
        self._signal_nets = {}
