"""What the PL011 and the mini UART have in common: one UART port of the SoC.

`UartPort` is the base of `Pl011Block` and `MiniUartBlock`. It wires a block to the
waveform engine (a `UartTransmitter` publishing on the pins GPFSEL routes to TXDn, a
`UartReceiver` sampling RXDn), keeps the hardware RX FIFO (entries ``value | flags << 8``),
moves received characters into it (or, once the port is open, into the tty buffer, as
the kernel's interrupt handler does), drives RTS and wakes itself when auto flow control
must de-assert RTS with nobody reading, and carries the Linux-driver-style entry points
(docs/emulator-api.md): ``read(n, timeout_ns)``/``write(data)`` beside the register
accesses ``read(reg)``/``write(reg, value)``, ``in_waiting``, ``flush``,
``discard_input``, ``send_break``, ``close``, ``error_counts``.

Each block supplies what really differs: ``configure`` (how it programs the divisor and
the line format, and what it refuses), its FIFO depth, how it fills the RX FIFO (the
PL011 keeps FE/PE/BE/OE per character and latches interrupts; the mini UART detects
nothing but overruns), its RTS and CTS rules, how it sets a break and how it shuts down.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, overload

from ..buses.uart_line import Alarm, LineSettings, UartLines
from ..buses.uart_rx import Chunk, ReceiverKind, UartReceiver
from ..buses.uart_rx_delivery import RxDelivery
from ..buses.uart_tty import ERROR_KINDS, UartTty
from ..buses.uart_tx import UartTransmitter
from ..errors import ConfigurationError
from ..world.net import Drive, Net
from .registers import RegisterBlock

if TYPE_CHECKING:
    from .soc import Soc


class UartPins:
    """A UART's signals reached through the GPIO block's routing (TXDn, RXDn, CTSn, RTSn)."""

    def __init__(self, soc: Soc, owner: str, tx: str, rx: str, cts: str, rts: str) -> None:
        self.gpio = soc.gpio
        self.owner = owner
        self.tx, self.rx, self.cts, self.rts = tx, rx, cts, rts

    def tx_nets(self) -> list[Net]:
        return self.gpio.signal_nets(self.tx)

    def rx_nets(self) -> list[Net]:
        return self.gpio.signal_nets(self.rx)

    def candidates(self, signal: str) -> list[Net]:
        """Every pin that GPFSEL could route to ``signal`` (watched for level changes)."""
        return [self.gpio.net(line) for line, _alt in self.gpio.candidates(signal)]

    def drive_tx(self, level: bool) -> None:
        self.gpio.drive_signal(self.tx, self.owner, Drive.push_pull(level))

    def drive_rts_low(self, low: bool) -> None:
        """Drive the RTS pin low (asserted, for an active-low nRTS) or high."""
        self.gpio.drive_signal(self.rts, f"{self.owner} RTS", Drive.push_pull(not low))

    def cts_low(self) -> bool:
        """True when the CTS pin is low; a CTS input no pin is routed to reads high [I]."""
        nets = self.gpio.signal_nets(self.cts)
        return bool(nets) and not nets[0].level


class UartPort(RegisterBlock, ABC):
    """A SoC UART block: FIFOs on the waveform engine, RTS/CTS, the driver's entry points."""

    def __init__(
        self,
        soc: Soc,
        name: str,
        pins: UartPins,
        settings: LineSettings,
        *,
        kind: ReceiverKind,
        rx_inputs: Callable[[], Iterable[Net]],
        drive_tx: Callable[[bool], None],
        unrouted_level: bool | Callable[[], bool],
    ) -> None:
        """Build the port; a subclass sets its own state first (the register reset uses it).

        ``rx_inputs`` gives the nets the receiver hears now, ``drive_tx`` puts a DC level
        on TX (idle, break), ``unrouted_level`` is what RX reads with no pin routed.
        """
        self.soc = soc
        self.world = soc.world
        self.pins = pins
        self.hub = UartLines.of(soc.circuit)
        self.hub.attachments = soc.attachments  # how UART devices find their wires
        self.tx = UartTransmitter(
            self.world,
            settings,
            name=f"{name}.tx",
            hub=self.hub,
            outputs=pins.tx_nets,
            drive_level=drive_tx,
        )
        self.rx = UartReceiver(
            self.world,
            settings,
            name=f"{name}.rx",
            kind=kind,
            inputs=rx_inputs,
            watch=pins.candidates(pins.rx),
            hub=self.hub,
            enabled=False,
            unrouted_level=unrouted_level,
        )
        self._rx_fifo: deque[int] = deque()
        self._last_rx_ns = 0.0
        """Completion time of the last character received (the PL011's receive timeout)."""
        self._rts_out: bool | None = None
        """RTS pin low (asserted) or high; None before the first drive."""
        self._tty: UartTty | None = None
        self._rts_alarm = Alarm(self.world, self._on_rts_wake)
        self.rx.subscribe(self._on_rx_news)
        self._cts_unwatch: list[Callable[[], None]] = [
            net.watch(self._on_cts_pin) for net in pins.candidates(pins.cts)
        ]
        super().__init__(name)
        pins.drive_tx(True)
        self._apply_control()

    # -- what each block supplies ---------------------------------------------------------
    @property
    @abstractmethod
    def fifo_depth(self) -> int:
        """Characters each FIFO holds now."""

    @abstractmethod
    def _apply_control(self) -> None:
        """Control registers → transmitter holds, receiver enable, break, CTS, RTS."""

    @abstractmethod
    def _reset_state(self) -> None:
        """The block's own state back to reset (FIFOs, tty and pending TX are done)."""

    @abstractmethod
    def _fill_rx_fifo(self, chunks: list[Chunk]) -> None:
        """Received characters into the hardware RX FIFO (port closed), overruns included."""

    @abstractmethod
    def _rts_rule(self) -> tuple[bool, int | None]:
        """(RTS pin low now, the RX FIFO fill at which auto flow de-asserts RTS or None)."""

    @abstractmethod
    def _rts_auto_flow(self) -> bool:
        """True when RTS follows the RX FIFO fill (PL011 CR.RTSEN, mini UART CNTL bit 2)."""

    @abstractmethod
    def _update_cts(self) -> None:
        """The CTS pin changed or its use did: hold or release the transmitter."""

    @abstractmethod
    def _set_break(self, on: bool) -> None:
        """Set or clear the break bit (the line held low after the character in progress)."""

    @abstractmethod
    def _shut_down(self) -> None:
        """What the Linux driver's shutdown writes when the port is closed."""

    @abstractmethod
    def configure(
        self, baud: float, data_bits: int = 8, parity: str = "none", stop_bits: int = 1
    ) -> LineSettings:
        """Open the port with these settings; returns what the divisor really gives."""

    def _rx_delivery(self) -> RxDelivery | None:
        """When the driver's interrupt handler takes received characters once the port is
        open (buses/uart_rx_delivery.py); None: each as it completes."""
        return None

    # -- reset ------------------------------------------------------------------------------
    def reset_registers(self) -> None:
        super().reset_registers()
        if not hasattr(self, "tx"):
            return  # the port's parts do not exist yet: nothing else to reset
        self._rx_fifo.clear()
        self._tty = None
        self.tx.discard_pending()
        self._reset_state()

    # -- access: registers, or the driver's read/write (docs/emulator-api.md) ---------------
    @overload
    def read(self, key: str | int) -> int: ...
    @overload
    def read(self, key: int, timeout_ns: int) -> bytes: ...
    def read(self, key: str | int, timeout_ns: int | None = None) -> int | bytes:
        """``read(register)``: a register read. ``read(n, timeout_ns)``: the driver's read of
        up to ``n`` received bytes, returning as soon as the driver has ``n`` (PL011: at its
        RX trigger or receive timeout; buses/uart_rx_delivery.py) or at the timeout."""
        if timeout_ns is not None:
            if not isinstance(key, int):
                raise ConfigurationError(
                    f"{self.name}.read(n, timeout_ns) takes a count; got {key!r}"
                )
            return self._require_tty().read(key, timeout_ns)
        self._sync()
        return self._register_read(key)

    @overload
    def write(self, key: str | int, value: int) -> None: ...
    @overload
    def write(
        self, key: bytes | bytearray, value: None = None, *, timeout_ns: int | None = None
    ) -> None: ...
    def write(
        self,
        key: str | int | bytes | bytearray,
        value: int | None = None,
        *,
        timeout_ns: int | None = None,
    ) -> None:
        """``write(register, value)``: a register write. ``write(data)``: the driver's write,
        returning once the last stop bit has left (simulated time)."""
        if isinstance(key, bytes | bytearray | memoryview):
            if value is not None:
                raise ConfigurationError(f"{self.name}.write(data) takes the bytes only")
            self._require_tty().write(bytes(key), timeout_ns)
            return
        if value is None:
            raise ConfigurationError(
                f"{self.name}.write(register, value) needs a value (or pass bytes to send data)"
            )
        self._sync()
        self._register_write(key, value)

    def _register_read(self, key: str | int) -> int:
        """A register read once the RX FIFO is up to date (a block may resolve names first)."""
        return super().read(key)

    def _register_write(self, key: str | int, value: int) -> None:
        super().write(key, value)

    # -- FIFOs ------------------------------------------------------------------------------
    def rx_level(self) -> int:
        """Characters in the hardware RX FIFO now."""
        self._sync()
        return len(self._rx_fifo)

    def tx_level(self) -> int:
        """Characters in the TX FIFO not started yet."""
        return min(self.tx.queued(), self.fifo_depth)

    def _push_tx(self, value: int) -> None:
        """A data register write: into the TX FIFO, or lost when it is full (as on the silicon)."""
        if self.tx.queued() >= self.fifo_depth:
            return
        self.tx.send(bytes((value & 0xFF,)))

    def _sync(self) -> None:
        """Move what the receiver completed by now into the tty buffer or the RX FIFO."""
        chunks = self.rx.take()
        if not chunks:
            if self._tty is not None and self._tty.delivery is not None:
                self._tty.feed(chunks)  # a receive timeout may have run out meanwhile
            return
        last = chunks[-1]
        self._last_rx_ns = last.time_of(len(last.data) - 1)
        if self._tty is not None:
            self._tty.feed(chunks)  # the interrupt handler drains the FIFO as it fills
            return
        self._fill_rx_fifo(chunks)
        self._update_rts()

    # -- flow control -----------------------------------------------------------------------
    def _on_cts_pin(self, _net: Net, _level: bool, _time_ns: int) -> None:
        self._update_cts()

    def _update_rts(self) -> None:
        """Drive RTS by the block's rule; under auto flow with nobody reading the FIFO,
        wake when it reaches the level where RTS de-asserts."""
        low, level = self._rts_rule()
        if low != self._rts_out:
            self._rts_out = low
            self.pins.drive_rts_low(low)
        if level is not None and self._tty is None:
            fill = len(self._rx_fifo)
            if fill < level:
                when = self.rx.time_of(level - fill - 1)
                if when is not None:
                    self._rts_alarm.at(when)

    def _on_rts_wake(self) -> None:
        self._sync()
        self._update_rts()

    def _on_rx_news(self) -> None:
        if self._tty is None and self._rts_auto_flow():
            self._update_rts()

    # -- driver entry points (docs/emulator-api.md) -------------------------------------------
    def _open_tty(self) -> None:
        """Opening the port: from now on the interrupt handler drains the FIFO into the tty
        buffer (what the FIFO held first, with its error flags)."""
        if self._tty is not None:
            return
        self._sync()
        self._tty = UartTty(
            self.world, self.name, self.rx, self.tx, self._sync, self._rx_delivery()
        )
        self._tty.feed_entries(self._rx_fifo)
        self._rx_fifo.clear()

    @property
    def tty(self) -> UartTty | None:
        """The open port's tty side (None while closed): what a tty layer above reads."""
        return self._tty

    def _require_tty(self) -> UartTty:
        if self._tty is None:
            raise ConfigurationError(
                f"{self.name} is not open: call configure(baud, ...) first (as opening the tty)"
            )
        return self._tty

    def close(self) -> None:
        """Close the port: the tty buffer is dropped and the block shut down as Linux does."""
        self._sync()
        self._tty = None
        self._shut_down()

    def write_bytes(self, data: bytes) -> None:
        """Queue ``data`` without waiting (the kernel's transmit buffer)."""
        self._require_tty()
        self.tx.send(bytes(data))

    def flush(self, timeout_ns: int | None = None) -> None:
        """``tcdrain``: wait until everything written has left."""
        self._require_tty().drain(timeout_ns)

    def in_waiting(self) -> int:
        return self._require_tty().in_waiting()

    def discard_input(self) -> None:
        self._require_tty().discard_input()

    def send_break(self, duration_ns: int) -> None:
        """``tcsendbreak``: wait for the transmitter to drain, set the break bit, hold, clear."""
        tty = self._require_tty()
        if duration_ns <= 0:
            raise ConfigurationError(f"a break lasts a positive time; got {duration_ns} ns")
        tty.drain()
        self._set_break(True)
        self.world.run_for(int(duration_ns))
        self._set_break(False)

    def error_counts(self) -> dict[str, int]:
        """Errors the interrupt handler counted since the port was first opened (icount)."""
        if self._tty is None:
            return dict.fromkeys(ERROR_KINDS, 0)
        return self._tty.error_counts()
