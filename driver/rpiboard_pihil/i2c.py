"""I2C buses: the ``i2c_buses`` repeated capability (`I2cBusCollection` of `I2cBus`).

Transfers behave as Linux ``I2C_RDWR`` does on the Pi: one combined transfer
whose messages are joined by repeated starts (soc-facts §1.6), a NACK is
`I2cNackError` (EREMOTEIO), a clock-stretch timeout is
`I2cClockStretchTimeoutError` (EIO), an overall timeout `BusTimeoutError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from .backends.base import I2cMessage
from .board_info import I2cBusInfo
from .capability import SessionInterface
from .collection import NumberedCollection
from .enums import I2cBusId
from .errors import ConfigurationError, I2cNackError
from .validate import ByteData, data_bytes, integer

if TYPE_CHECKING:
    from .session import Session

MAX_MESSAGE = 65535
"""BSC DLEN and the kernel's i2c_msg.len are 16 bits (soc-facts §2)."""

SCAN_FIRST, SCAN_LAST = 0x08, 0x77
"""The address range ``i2cdetect`` probes by default (the rest is reserved by the I2C spec)."""


class I2cBus(SessionInterface[I2cBusInfo]):
    """One I2C bus (``i2c1``). Addresses are 7-bit (0x00..0x7f)."""

    __slots__ = ("_address_label", "_length_label")

    def __init__(self, session: Session, info: I2cBusInfo) -> None:
        super().__init__(session, info)
        # what a refused argument is called in the error (made once: every call checks)
        self._address_label = f"{info.name} address"
        self._length_label = f"{info.name} read length"

    @property
    def frequency_hz(self) -> int:
        """SCL frequency in Hz (100 kHz by default, as the Linux driver uses)."""
        return self._session.call(self._backend.i2c_get_frequency, self._info.number)

    @frequency_hz.setter
    def frequency_hz(self, hz: int) -> None:
        value = integer(hz, f"{self.name}.frequency_hz", 1, 1_000_000)
        self._session.call(self._backend.i2c_set_frequency, self._info.number, value)

    def write(self, address: int, data: ByteData) -> None:
        """Write ``data`` to the target at ``address`` (START, address+W, data, STOP)."""
        out = data_bytes(data, "write data", MAX_MESSAGE)
        msg = I2cMessage.checked(self._address(address), False, out, len(out))  # as .write
        self._session.call(self._backend.i2c_transfer, self._info.number, (msg,))

    def read(self, address: int, length: int) -> bytes:
        """Read ``length`` bytes from the target at ``address``."""
        msg = I2cMessage.checked(self._address(address), True, b"", self._length(length))
        return self._session.call(self._backend.i2c_transfer, self._info.number, (msg,))[0]

    def write_read(self, address: int, data: ByteData, length: int) -> bytes:
        """Write ``data`` then, after a repeated start, read ``length`` bytes (a register read)."""
        # checked here as I2cMessage.write/read_of would check them (the same ranges, once, in
        # the same order); a plain int or bytes in range is what the check would give back
        a = address if type(address) is int and 0 <= address <= 0x7F else self._address(address)
        out = (
            data
            if type(data) is bytes and len(data) <= MAX_MESSAGE
            else data_bytes(data, "write_read data", MAX_MESSAGE)
        )
        n = length if type(length) is int and 1 <= length <= MAX_MESSAGE else self._length(length)
        message = I2cMessage.checked
        msgs = (message(a, False, out, len(out)), message(a, True, b"", n))
        return self._session.call(self._backend.i2c_transfer, self._info.number, msgs)[0]

    def transfer(self, messages: Sequence[I2cMessage]) -> list[bytes]:
        """Run several messages as one combined transfer; the data of each read message, in order.

        The Linux i2c-bcm2835 driver accepts a read only as the last message
        ("only one read message supported, has to be last", soc-facts §1.6);
        other orders raise `ConfigurationError`.
        """
        if isinstance(messages, I2cMessage | str | bytes | bytearray) or not isinstance(
            messages, Iterable
        ):
            raise ConfigurationError(
                "transfer takes a non-empty sequence of I2cMessage (I2cMessage.write(address, "
                f"data), I2cMessage.read_of(address, length)); got {type(messages).__name__}"
            )
        msgs = tuple(messages)
        if not msgs or not all(isinstance(m, I2cMessage) for m in msgs):
            odd = next((m for m in msgs if not isinstance(m, I2cMessage)), None)
            raise ConfigurationError(
                "transfer takes a non-empty sequence of I2cMessage; "
                + ("got an empty one" if not msgs else f"got {type(odd).__name__} {odd!r:.60}")
            )
        for i, m in enumerate(msgs):
            self._check_message(i, m)
        if any(m.read for m in msgs[:-1]):
            raise ConfigurationError(
                "the BCM2835 I2C driver supports only one read message, and it has to be last"
            )
        return self._session.call(self._backend.i2c_transfer, self._info.number, msgs)

    def scan(self) -> list[int]:
        """Addresses 0x08..0x77 that acknowledge a one-byte read (``i2cdetect -r``)."""
        return self._session.call(self._scan)

    def _scan(self) -> list[int]:
        found = []
        for address in range(SCAN_FIRST, SCAN_LAST + 1):
            try:
                self._backend.i2c_transfer(self._info.number, (I2cMessage.read_of(address, 1),))
            except I2cNackError:
                continue
            found.append(address)
        return found

    def _check_message(self, index: int, m: I2cMessage) -> None:
        """One message of a transfer: the fields `I2cMessage.write`/`read_of` would give."""
        what = f"{self.name} transfer message {index}"
        self._address(m.address)
        if not isinstance(m.read, bool):
            raise ConfigurationError(f"{what}: read takes True or False; got {m.read!r}")
        if m.read:
            self._length(m.length)
            if not isinstance(m.data, bytes) or m.data:
                raise ConfigurationError(
                    f"{what} is a read and carries data {m.data!r:.40}; a read message has "
                    "none (I2cMessage.read_of(address, length))"
                )
            return
        data = data_bytes(m.data, f"{what} data", MAX_MESSAGE)
        if isinstance(m.length, bool) or not isinstance(m.length, int) or m.length != len(data):
            raise ConfigurationError(
                f"{what} is a write of {len(data)} bytes whose length says {m.length!r}; "
                "I2cMessage.write(address, data) sets it"
            )

    def _address(self, address: int) -> int:
        return integer(address, self._address_label, 0x00, 0x7F)

    def _length(self, length: int) -> int:
        return integer(length, self._length_label, 1, MAX_MESSAGE)

    def __repr__(self) -> str:
        return f"I2cBus({self.name})"


class I2cBusCollection(NumberedCollection[I2cBus]):
    """``board.i2c_buses``: by name (``i2c1``), bus number, `I2cBusId` or profile alias."""

    _kind = "I2C bus"
    _enums = (I2cBusId,)
    _prefix = "I2C"

    def __init__(self, session: Session, buses: tuple[I2cBusInfo, ...], owner: str) -> None:
        super().__init__(
            buses,
            lambda b: I2cBus(session, b),
            aliases={f"i2c-{b.number}": b.name for b in buses}
            | {b.linux_device: b.name for b in buses}
            | {  # a controller serving one bus only (not i2c-gpio, not BSC0 behind its mux)
                b.controller: b.name
                for b in buses
                if b.controller and sum(o.controller == b.controller for o in buses) == 1
            },
            owner=owner,
        )
