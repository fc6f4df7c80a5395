"""What an I2C master is asked to do: the message list of one combined transfer.

`I2cMessage` is Linux's ``struct i2c_msg`` (7-bit address, read flag, buffer or
length); a transfer is a list of them joined by repeated STARTs and ended by a
STOP. Bad messages are refused with a clear error before anything reaches the
wire: nothing is silently truncated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ConfigurationError

MAX_MESSAGE_LENGTH = 0xFFFF
"""``struct i2c_msg.len`` is a u16, and so is the BSC's DLEN (soc-facts §2)."""


@dataclass(frozen=True, init=False)
class I2cMessage:
    """One message: a write of ``data`` (bytes) or a read of ``length`` bytes from ``address``.

    Built as ``I2cMessage(address, read, data_or_length)``: a write takes bytes, a
    read takes its length.
    """

    address: int
    read: bool
    data: bytes
    length: int

    def __init__(self, address: int, read: bool, data: bytes | bytearray | int) -> None:
        if isinstance(address, bool) or not isinstance(address, int):
            raise ConfigurationError(f"an I2C address is an int 0x00..0x7f, got {address!r}")
        if not 0 <= address <= 0x7F:
            raise ConfigurationError(
                f"I2C address 0x{address:x} is outside 7 bits (valid: 0x00..0x7f)"
            )
        if not isinstance(read, bool):
            raise ConfigurationError(f"read must be True or False, got {read!r}")
        if read:
            if isinstance(data, bool) or not isinstance(data, int):
                raise ConfigurationError(
                    f"a read message takes its length as an int, got {type(data).__name__}"
                )
            length = data
            payload = b""
        else:
            if not isinstance(data, (bytes, bytearray)):
                raise ConfigurationError(
                    f"a write message takes its data as bytes, got {type(data).__name__}"
                )
            payload = bytes(data)
            length = len(payload)
        if length < 0:
            raise ConfigurationError(f"a message length cannot be negative, got {length}")
        if length > MAX_MESSAGE_LENGTH:
            raise ConfigurationError(
                f"a message of {length} bytes is too long: an i2c_msg (and the BSC's DLEN) "
                f"holds at most {MAX_MESSAGE_LENGTH} bytes"
            )
        object.__setattr__(self, "address", address)
        object.__setattr__(self, "read", read)
        object.__setattr__(self, "data", payload)
        object.__setattr__(self, "length", length)

    @classmethod
    def checked(cls, address: int, read: bool, data: bytes, length: int) -> I2cMessage:
        """A message from fields a caller has already checked as ``__init__`` would (a driver's
        own message type: 7-bit address, bool read, bytes of a write, length 0..0xFFFF that
        is the write's size). Not checked again: for the driver's hot path."""
        if type(data) is not bytes:
            data = bytes(data)  # (a bytearray the caller kept: frozen means immutable here too)
        m = cls.__new__(cls)
        m.__dict__.update(address=address, read=read, data=data, length=length)
        return m

    @staticmethod
    def write(address: int, data: bytes) -> I2cMessage:
        return I2cMessage(address, False, data)

    @staticmethod
    def read_of(address: int, length: int) -> I2cMessage:
        return I2cMessage(address, True, length)

    def __repr__(self) -> str:
        if self.read:
            return f"I2cMessage(0x{self.address:02x}, read {self.length})"
        return f"I2cMessage(0x{self.address:02x}, write {self.data.hex(' ') or '-'})"


def check_messages(msgs: Sequence[I2cMessage]) -> list[I2cMessage]:
    """The messages as a list, or a clear error when it is not a non-empty list of I2cMessage."""
    if isinstance(msgs, I2cMessage):
        raise ConfigurationError("transfer takes a list of I2cMessage, not a single message")
    out = list(msgs)
    if not out:
        raise ConfigurationError("a transfer needs at least one I2cMessage")
    for i, m in enumerate(out):
        if not isinstance(m, I2cMessage):
            raise ConfigurationError(f"message {i} is a {type(m).__name__}, not an I2cMessage")
    return out
