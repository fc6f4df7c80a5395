"""``/dev/i2c-N``: the kernel's i2c-dev character device over an emulated I2C adapter.

The ioctls and their checks follow drivers/i2c/i2c-dev.c; SMBus calls become I2C
messages as i2c_smbus_xfer_emulated() in drivers/i2c/i2c-core-smbus.c builds them (the
BCM2835 adapter has no native SMBus), PEC included. The adapter's functionality is
i2c-bcm2835's ``I2C_FUNC_I2C | I2C_FUNC_SMBUS_EMUL | I2C_FUNC_PROTOCOL_MANGLING``.
Structures are read and written at the addresses the caller's ctypes objects hold,
as copy_from_user/copy_to_user do.
"""

from __future__ import annotations

import errno
import struct
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .devfs import DevFile, oserror
from .user_memory import copy_in, copy_out, read_user, write_user

if TYPE_CHECKING:
    from .session import Userspace

# include/uapi/linux/i2c-dev.h
I2C_RETRIES = 0x0701
I2C_TIMEOUT = 0x0702
I2C_SLAVE = 0x0703
I2C_TENBIT = 0x0704
I2C_FUNCS = 0x0705
I2C_SLAVE_FORCE = 0x0706
I2C_RDWR = 0x0707
I2C_PEC = 0x0708
I2C_SMBUS = 0x0720
I2C_RDWR_IOCTL_MAX_MSGS = 42
MAX_MESSAGE_LENGTH = 8192  # i2c-dev refuses longer messages (and clamps read/write counts)

# include/uapi/linux/i2c.h
I2C_M_RD = 0x0001
I2C_M_TEN = 0x0010
I2C_M_RECV_LEN = 0x0400
I2C_FUNC_I2C = 0x00000001
I2C_FUNC_PROTOCOL_MANGLING = 0x00000004
I2C_FUNC_SMBUS_PEC = 0x00000008
I2C_FUNC_SMBUS_QUICK = 0x00010000
I2C_FUNC_SMBUS_BYTE = 0x00060000
I2C_FUNC_SMBUS_BYTE_DATA = 0x00180000
I2C_FUNC_SMBUS_WORD_DATA = 0x00600000
I2C_FUNC_SMBUS_PROC_CALL = 0x00800000
I2C_FUNC_SMBUS_WRITE_BLOCK_DATA = 0x02000000
I2C_FUNC_SMBUS_I2C_BLOCK = 0x0C000000
I2C_FUNC_SMBUS_EMUL = (
    I2C_FUNC_SMBUS_QUICK
    | I2C_FUNC_SMBUS_BYTE
    | I2C_FUNC_SMBUS_BYTE_DATA
    | I2C_FUNC_SMBUS_WORD_DATA
    | I2C_FUNC_SMBUS_PROC_CALL
    | I2C_FUNC_SMBUS_WRITE_BLOCK_DATA
    | I2C_FUNC_SMBUS_I2C_BLOCK
    | I2C_FUNC_SMBUS_PEC
)
BCM2835_FUNCS = I2C_FUNC_I2C | I2C_FUNC_SMBUS_EMUL | I2C_FUNC_PROTOCOL_MANGLING

I2C_SMBUS_READ = 1
I2C_SMBUS_WRITE = 0
I2C_SMBUS_QUICK = 0
I2C_SMBUS_BYTE = 1
I2C_SMBUS_BYTE_DATA = 2
I2C_SMBUS_WORD_DATA = 3
I2C_SMBUS_PROC_CALL = 4
I2C_SMBUS_BLOCK_DATA = 5
I2C_SMBUS_I2C_BLOCK_BROKEN = 6
I2C_SMBUS_BLOCK_PROC_CALL = 7
I2C_SMBUS_I2C_BLOCK_DATA = 8
I2C_SMBUS_BLOCK_MAX = 32

POINTER = struct.calcsize("P")
I2C_MSG = struct.Struct("HHH" + ("xx" if POINTER == 8 else "") + "P")  # struct i2c_msg
RDWR_DATA = struct.Struct("PI")  # struct i2c_rdwr_ioctl_data
SMBUS_DATA = struct.Struct("BBxxIP")  # struct i2c_smbus_ioctl_data

Message = tuple[int, bool, bytes | int]
"""(address, read, data to write | length to read)."""
Transfer = Callable[[Sequence[Message]], list[bytes]]
"""The adapter: messages in one combined transfer -> the data of each read message; raises
OSError with the errno the Linux adapter driver gives."""


def crc8_smbus(data: bytes, crc: int = 0) -> int:
    """SMBus PEC: CRC-8, polynomial x^8 + x^2 + x + 1 (0x07), as crc8() in i2c-core-smbus.c."""
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _pec_of(address: int, read: bool, data: bytes, crc: int = 0) -> int:
    return crc8_smbus(bytes([(address << 1) | int(read)]) + data, crc)


class I2cDevFile(DevFile):
    """One open ``/dev/i2c-N``: the client's address, ten-bit and PEC flags."""

    def __init__(self, flags: int, transfer: Transfer, busy: Callable[[int], bool]) -> None:
        super().__init__(flags)
        self._transfer = transfer
        self._busy = busy
        self.address = 0
        self.tenbit = False
        self.pec = False

    # -- read/write: one plain message to the client's address --------------------------------
    def read(self, n: int) -> bytes:
        n = min(n, MAX_MESSAGE_LENGTH)
        return self._transfer([(self.address, True, n)])[0]

    def write(self, data: bytes) -> int:
        data = data[:MAX_MESSAGE_LENGTH]
        self._transfer([(self.address, False, data)])
        return len(data)

    # -- ioctl ----------------------------------------------------------------------------------
    def ioctl(self, request: int, arg: int | memoryview) -> int:
        if request in (I2C_SLAVE, I2C_SLAVE_FORCE):
            address = self._int(arg)
            if address > 0x3FF or (not self.tenbit and address > 0x7F):
                raise oserror(errno.EINVAL)
            if request == I2C_SLAVE and self._busy(address):
                raise oserror(errno.EBUSY)
            self.address = address
            return 0
        if request == I2C_TENBIT:
            self.tenbit = bool(self._int(arg))
            if self.tenbit:  # i2c-bcm2835 has no I2C_FUNC_10BIT_ADDR
                self.tenbit = False
                raise oserror(errno.EINVAL)
            return 0
        if request == I2C_PEC:
            self.pec = bool(self._int(arg))
            return 0
        if request == I2C_FUNCS:
            self._out(arg, struct.pack("L", BCM2835_FUNCS))
            return 0
        if request in (I2C_RETRIES, I2C_TIMEOUT):
            if self._int(arg) > 0x7FFFFFFF:
                raise oserror(errno.EINVAL)
            return 0
        if request == I2C_RDWR:
            return self._rdwr(self._in(arg, RDWR_DATA.size))
        if request == I2C_SMBUS:
            return self._smbus(self._in(arg, SMBUS_DATA.size))
        raise oserror(errno.ENOTTY)

    @staticmethod
    def _int(arg: int | memoryview) -> int:
        if isinstance(arg, int):
            return arg & 0xFFFFFFFFFFFFFFFF
        return int.from_bytes(bytes(arg[:POINTER]), "little")

    _in = staticmethod(copy_in)
    _out = staticmethod(copy_out)

    def _rdwr(self, raw: bytes) -> int:
        msgs_at, count = RDWR_DATA.unpack(raw)
        if count > I2C_RDWR_IOCTL_MAX_MSGS:
            raise oserror(errno.EINVAL)
        table = read_user(msgs_at, I2C_MSG.size * count) if count else b""
        messages: list[Message] = []
        reads: list[tuple[int, int]] = []
        for i in range(count):
            address, flags, length, buf = I2C_MSG.unpack_from(table, i * I2C_MSG.size)
            if length > MAX_MESSAGE_LENGTH:
                raise oserror(errno.EINVAL)
            if flags & I2C_M_RECV_LEN:
                raise oserror(errno.EOPNOTSUPP)  # i2c-bcm2835 cannot read an SMBus block count
            if flags & I2C_M_TEN:
                raise oserror(errno.EOPNOTSUPP)
            if flags & I2C_M_RD:
                messages.append((address, True, length))
                reads.append((buf, length))
            else:
                messages.append((address, False, read_user(buf, length) if length else b""))
        if not messages:
            return 0
        results = self._transfer(messages)
        for (buf, length), data in zip(reads, results, strict=True):
            if length:
                write_user(buf, data[:length])
        return int(count)

    def _smbus(self, raw: bytes) -> int:
        read_write, command, size, data_at = SMBUS_DATA.unpack(raw)
        if size not in range(I2C_SMBUS_I2C_BLOCK_DATA + 1):
            raise oserror(errno.EINVAL)
        if read_write not in (I2C_SMBUS_READ, I2C_SMBUS_WRITE):
            raise oserror(errno.EINVAL)
        read = read_write == I2C_SMBUS_READ
        if size in (I2C_SMBUS_PROC_CALL, I2C_SMBUS_BLOCK_PROC_CALL):
            read = True  # i2c-dev: "these are special: we do a read after the write"
        needs_data = not (size == I2C_SMBUS_QUICK or (size == I2C_SMBUS_BYTE and not read))
        if needs_data and data_at == 0:
            raise oserror(errno.EINVAL)
        block = read_user(data_at, I2C_SMBUS_BLOCK_MAX + 2) if needs_data else b""
        if size == I2C_SMBUS_I2C_BLOCK_BROKEN:  # i2c-dev: "Convert old I2C block commands"
            size = I2C_SMBUS_I2C_BLOCK_DATA
            if read:
                block = bytes([I2C_SMBUS_BLOCK_MAX]) + block[1:]
        out = self.smbus_xfer(read, command, size, block)
        if out is not None and read:
            write_user(data_at, out)
        return 0

    def smbus_xfer(self, read: bool, command: int, size: int, block: bytes) -> bytes | None:
        """i2c_smbus_xfer_emulated(); returns the new ``union i2c_smbus_data`` for reads."""
        addr = self.address
        wants_pec = self.pec and size not in (I2C_SMBUS_QUICK, I2C_SMBUS_I2C_BLOCK_DATA)
        write0 = bytes([command])
        read_len = 0
        if size == I2C_SMBUS_QUICK:
            msgs: list[Message] = [(addr, read, 0 if read else b"")]
        elif size == I2C_SMBUS_BYTE:
            msgs = [(addr, True, 1)] if read else [(addr, False, write0)]
            read_len = 1 if read else 0
        elif size == I2C_SMBUS_BYTE_DATA:
            if read:
                msgs, read_len = [(addr, False, write0), (addr, True, 1)], 1
            else:
                msgs = [(addr, False, write0 + block[:1])]
        elif size == I2C_SMBUS_WORD_DATA:
            if read:
                msgs, read_len = [(addr, False, write0), (addr, True, 2)], 2
            else:
                msgs = [(addr, False, write0 + block[:2])]
        elif size == I2C_SMBUS_PROC_CALL:
            msgs, read_len = [(addr, False, write0 + block[:2]), (addr, True, 2)], 2
        elif size == I2C_SMBUS_BLOCK_DATA:
            if read:
                raise oserror(errno.EOPNOTSUPP)  # needs I2C_M_RECV_LEN
            length = block[0]
            if length > I2C_SMBUS_BLOCK_MAX or length == 0:
                raise oserror(errno.EINVAL)
            msgs = [(addr, False, write0 + block[: length + 1])]
        elif size == I2C_SMBUS_BLOCK_PROC_CALL:
            raise oserror(errno.EOPNOTSUPP)
        elif size == I2C_SMBUS_I2C_BLOCK_DATA:
            length = block[0]
            if length > I2C_SMBUS_BLOCK_MAX or (not read and length == 0):
                raise oserror(errno.EINVAL)
            if read:
                msgs, read_len = [(addr, False, write0), (addr, True, length)], length
            else:
                msgs = [(addr, False, write0 + block[1 : length + 1])]
        else:  # I2C_SMBUS_I2C_BLOCK_BROKEN
            raise oserror(errno.EOPNOTSUPP)
        if wants_pec:
            first_addr, first_read, first = msgs[0]
            if not first_read:
                assert isinstance(first, bytes)
                if len(msgs) == 1:  # a write: the PEC byte goes after the data
                    msgs[0] = (first_addr, False, first + bytes([_pec_of(addr, False, first)]))
            last_addr, last_read, last = msgs[-1]
            if last_read:
                assert isinstance(last, int)
                msgs[-1] = (last_addr, True, last + 1)
        results = self._transfer(msgs)
        if not read_len:
            return None
        data = results[-1]
        if wants_pec:
            partial = 0
            if len(msgs) == 2:
                w = msgs[0][2]
                assert isinstance(w, bytes)
                partial = _pec_of(addr, False, w)
            body, received = data[:-1], data[-1]
            if _pec_of(addr, True, body, partial) != received:
                raise oserror(errno.EBADMSG)
            data = body
        union = bytearray(block) if block else bytearray(I2C_SMBUS_BLOCK_MAX + 2)
        if size in (I2C_SMBUS_BYTE, I2C_SMBUS_BYTE_DATA):
            union[0] = data[0]
        elif size in (I2C_SMBUS_WORD_DATA, I2C_SMBUS_PROC_CALL):
            union[0:2] = data[:2]
        else:  # I2C block data: block[0] is the length asked for, the data follows
            union[1 : 1 + len(data)] = data
        return bytes(union)


def attach(userspace: Userspace) -> None:
    """Serve ``/dev/i2c-N`` for each I2C bus of the board's profile."""
    for bus in userspace.info.i2c_buses:
        transfer = userspace.i2c_adapter(bus.number)

        def opener(flags: int, transfer: Transfer = transfer) -> DevFile:
            return I2cDevFile(flags, transfer, _free)

        userspace.add_device(bus.linux_device, opener)


def _free(_address: int) -> bool:
    """No kernel driver binds a client address on the emulated boards (no EBUSY)."""
    return False
