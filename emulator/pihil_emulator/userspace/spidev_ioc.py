"""What the ``spidev`` stand-in (`standin_spidev`) hands the kernel: ``struct spi_ioc_transfer``
(include/uapi/linux/spi/spidev.h) and the block size of ``xfer3``/``writebytes2``
(spidev_module.c's ``get_xfer3_block_size``: ``/sys/module/spidev/parameters/bufsiz``, read once
per process, 4096 by default, at most 65535).
"""

from __future__ import annotations

import builtins
import ctypes

SPIDEV_MAXPATH = 4096
BLOCK_SIZE_CONTROL_FILE = "/sys/module/spidev/parameters/bufsiz"
XFER3_DEFAULT_BLOCK_SIZE = SPIDEV_MAXPATH
XFER3_MAX_BLOCK_SIZE = 65535

_xfer3_block_size = 0


def get_xfer3_block_size() -> int:
    """``get_xfer3_block_size``: spidev's bufsiz, read once, capped at 65535."""
    global _xfer3_block_size
    if _xfer3_block_size:
        return _xfer3_block_size
    _xfer3_block_size = XFER3_DEFAULT_BLOCK_SIZE
    try:
        with builtins.open(BLOCK_SIZE_CONTROL_FILE) as file:
            value = int(file.read().split()[0])
    except (OSError, ValueError, IndexError):
        return _xfer3_block_size
    if value > 0:
        _xfer3_block_size = min(value, XFER3_MAX_BLOCK_SIZE)
    return _xfer3_block_size


class _IocTransfer(ctypes.Structure):
    """``struct spi_ioc_transfer`` (include/uapi/linux/spi/spidev.h)."""

    _fields_ = [
        ("tx_buf", ctypes.c_uint64),
        ("rx_buf", ctypes.c_uint64),
        ("len", ctypes.c_uint32),
        ("speed_hz", ctypes.c_uint32),
        ("delay_usecs", ctypes.c_uint16),
        ("bits_per_word", ctypes.c_uint8),
        ("cs_change", ctypes.c_uint8),
        ("tx_nbits", ctypes.c_uint8),
        ("rx_nbits", ctypes.c_uint8),
        ("word_delay_usecs", ctypes.c_uint8),
        ("pad", ctypes.c_uint8),
    ]
