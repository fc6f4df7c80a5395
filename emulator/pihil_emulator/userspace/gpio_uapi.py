"""The GPIO character device's user ABI as data: ioctl numbers, flags, struct layouts.

Everything here is transcribed from include/uapi/linux/gpio.h (torvalds/linux): the v2 ABI
(``struct gpio_v2_line_request`` and friends) and the deprecated v1 ABI that pure-Python
libraries still use (python-periphery's ``Cdev1GPIO``). Layouts are little-endian with the
explicit padding of the header, so a ctypes structure of the header's fields has the same
bytes. The line names are the Raspberry Pi device trees' ``gpio-line-names``
(raspberrypi/linux arch/arm/boot/dts/broadcom: bcm2711-rpi-4-b.dts, bcm2711-rpi-cm4.dts,
bcm2708-rpi-b.dts, bcm2708-rpi-b-rev1.dts, bcm2708-rpi-b-plus.dts, the downstream
``&gpio`` override that Raspberry Pi OS boots with).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

# -- sizes (gpio.h) -------------------------------------------------------------------------
GPIO_MAX_NAME_SIZE = 32
GPIO_V2_LINES_MAX = 64
GPIO_V2_LINE_NUM_ATTRS_MAX = 10
GPIOHANDLES_MAX = 64
V1_EVENT_FIFO = 16
"""lineevent_state's ``DECLARE_KFIFO(events, struct gpioevent_data, 16)``."""
INFO_EVENT_FIFO = 32
"""gpio_chardev_data's ``DECLARE_KFIFO(events, struct gpio_v2_line_info_changed, 32)``."""

# -- enum gpio_v2_line_flag -------------------------------------------------------------------
FLAG_USED = 1 << 0
FLAG_ACTIVE_LOW = 1 << 1
FLAG_INPUT = 1 << 2
FLAG_OUTPUT = 1 << 3
FLAG_EDGE_RISING = 1 << 4
FLAG_EDGE_FALLING = 1 << 5
FLAG_OPEN_DRAIN = 1 << 6
FLAG_OPEN_SOURCE = 1 << 7
FLAG_BIAS_PULL_UP = 1 << 8
FLAG_BIAS_PULL_DOWN = 1 << 9
FLAG_BIAS_DISABLED = 1 << 10
FLAG_EVENT_CLOCK_REALTIME = 1 << 11
FLAG_EVENT_CLOCK_HTE = 1 << 12

BIAS_FLAGS = FLAG_BIAS_PULL_UP | FLAG_BIAS_PULL_DOWN | FLAG_BIAS_DISABLED
DIRECTION_FLAGS = FLAG_INPUT | FLAG_OUTPUT
DRIVE_FLAGS = FLAG_OPEN_DRAIN | FLAG_OPEN_SOURCE
EDGE_FLAGS = FLAG_EDGE_RISING | FLAG_EDGE_FALLING
VALID_FLAGS = (
    FLAG_ACTIVE_LOW
    | DIRECTION_FLAGS
    | DRIVE_FLAGS
    | EDGE_FLAGS
    | FLAG_EVENT_CLOCK_REALTIME
    | FLAG_EVENT_CLOCK_HTE
    | BIAS_FLAGS
)
"""GPIO_V2_LINE_VALID_FLAGS (gpiolib-cdev.c)."""
EDGE_DETECTOR_FLAGS = FLAG_ACTIVE_LOW | FLAG_EVENT_CLOCK_HTE | EDGE_FLAGS

# enum gpio_v2_line_attr_id, gpio_v2_line_changed_type, gpio_v2_line_event_id
ATTR_ID_FLAGS = 1
ATTR_ID_OUTPUT_VALUES = 2
ATTR_ID_DEBOUNCE = 3
CHANGED_REQUESTED = 1
CHANGED_RELEASED = 2
CHANGED_CONFIG = 3
EVENT_RISING_EDGE = 1
EVENT_FALLING_EDGE = 2

# -- ABI v1 flags ------------------------------------------------------------------------------
GPIOLINE_FLAG_KERNEL = 1 << 0
GPIOLINE_FLAG_IS_OUT = 1 << 1
GPIOLINE_FLAG_ACTIVE_LOW = 1 << 2
GPIOLINE_FLAG_OPEN_DRAIN = 1 << 3
GPIOLINE_FLAG_OPEN_SOURCE = 1 << 4
GPIOLINE_FLAG_BIAS_PULL_UP = 1 << 5
GPIOLINE_FLAG_BIAS_PULL_DOWN = 1 << 6
GPIOLINE_FLAG_BIAS_DISABLE = 1 << 7

HANDLE_INPUT = 1 << 0
HANDLE_OUTPUT = 1 << 1
HANDLE_ACTIVE_LOW = 1 << 2
HANDLE_OPEN_DRAIN = 1 << 3
HANDLE_OPEN_SOURCE = 1 << 4
HANDLE_BIAS_PULL_UP = 1 << 5
HANDLE_BIAS_PULL_DOWN = 1 << 6
HANDLE_BIAS_DISABLE = 1 << 7
HANDLE_VALID_FLAGS = 0xFF
"""GPIOHANDLE_REQUEST_VALID_FLAGS: every bit above."""

EVENT_REQUEST_RISING_EDGE = 1 << 0
EVENT_REQUEST_FALLING_EDGE = 1 << 1
EVENT_REQUEST_VALID_FLAGS = EVENT_REQUEST_RISING_EDGE | EVENT_REQUEST_FALLING_EDGE
GPIOEVENT_EVENT_RISING_EDGE = 0x01
GPIOEVENT_EVENT_FALLING_EDGE = 0x02

# -- struct layouts ------------------------------------------------------------------------------
CHIP_INFO = struct.Struct("<32s32sI")  # struct gpiochip_info (68)
LINE_VALUES = struct.Struct("<QQ")  # struct gpio_v2_line_values: bits, mask
LINE_ATTRIBUTE = struct.Struct("<IIQ")  # struct gpio_v2_line_attribute: id, padding, union
CONFIG_ATTRIBUTE = struct.Struct("<IIQQ")  # struct gpio_v2_line_config_attribute (+ mask)
LINE_CONFIG_HEAD = struct.Struct("<QI20s")  # flags, num_attrs, padding[5]
LINE_CONFIG_SIZE = LINE_CONFIG_HEAD.size + GPIO_V2_LINE_NUM_ATTRS_MAX * CONFIG_ATTRIBUTE.size
LINE_REQUEST = struct.Struct(f"<{GPIO_V2_LINES_MAX}I32s{LINE_CONFIG_SIZE}sII20si")
LINE_INFO = struct.Struct(f"<32s32sIIQ{GPIO_V2_LINE_NUM_ATTRS_MAX * LINE_ATTRIBUTE.size}s16s")
LINE_INFO_CHANGED = struct.Struct(f"<{LINE_INFO.size}sQI20s")
LINE_EVENT = struct.Struct("<QIIII24s")  # struct gpio_v2_line_event (48)
U32 = struct.Struct("<I")
# v1
LINE_INFO_V1 = struct.Struct("<II32s32s")  # struct gpioline_info (72)
LINE_INFO_CHANGED_V1 = struct.Struct(f"<{LINE_INFO_V1.size}sQI20s")  # (104)
HANDLE_REQUEST = struct.Struct(f"<{GPIOHANDLES_MAX}II{GPIOHANDLES_MAX}s32sIi")  # (364)
HANDLE_CONFIG = struct.Struct(f"<I{GPIOHANDLES_MAX}s16s")  # struct gpiohandle_config (84)
HANDLE_DATA = struct.Struct(f"<{GPIOHANDLES_MAX}s")  # struct gpiohandle_data (64)
EVENT_REQUEST = struct.Struct("<III32si")  # struct gpioevent_request (48)
EVENT_DATA = struct.Struct("<QI4x")  # struct gpioevent_data: 16 bytes on arm64/armhf (u64 aligned)

assert LINE_REQUEST.size == 592
assert LINE_INFO.size == 256
assert LINE_CONFIG_SIZE == 272
assert LINE_INFO_CHANGED.size == 288
assert HANDLE_REQUEST.size == 364


# -- ioctl numbers (include/uapi/asm-generic/ioctl.h) ------------------------------------------
def _ioc(direction: int, nr: int, size: int) -> int:
    return (direction << 30) | (size << 16) | (0xB4 << 8) | nr


def _ior(nr: int, size: int) -> int:
    return _ioc(2, nr, size)


def _iowr(nr: int, size: int) -> int:
    return _ioc(3, nr, size)


GPIO_GET_CHIPINFO_IOCTL = _ior(0x01, CHIP_INFO.size)
GPIO_GET_LINEINFO_UNWATCH_IOCTL = _iowr(0x0C, U32.size)
GPIO_V2_GET_LINEINFO_IOCTL = _iowr(0x05, LINE_INFO.size)
GPIO_V2_GET_LINEINFO_WATCH_IOCTL = _iowr(0x06, LINE_INFO.size)
GPIO_V2_GET_LINE_IOCTL = _iowr(0x07, LINE_REQUEST.size)
GPIO_V2_LINE_SET_CONFIG_IOCTL = _iowr(0x0D, LINE_CONFIG_SIZE)
GPIO_V2_LINE_GET_VALUES_IOCTL = _iowr(0x0E, LINE_VALUES.size)
GPIO_V2_LINE_SET_VALUES_IOCTL = _iowr(0x0F, LINE_VALUES.size)
GPIO_GET_LINEINFO_IOCTL = _iowr(0x02, LINE_INFO_V1.size)
GPIO_GET_LINEHANDLE_IOCTL = _iowr(0x03, HANDLE_REQUEST.size)
GPIO_GET_LINEEVENT_IOCTL = _iowr(0x04, EVENT_REQUEST.size)
GPIOHANDLE_GET_LINE_VALUES_IOCTL = _iowr(0x08, HANDLE_DATA.size)
GPIOHANDLE_SET_LINE_VALUES_IOCTL = _iowr(0x09, HANDLE_DATA.size)
GPIOHANDLE_SET_CONFIG_IOCTL = _iowr(0x0A, HANDLE_CONFIG.size)
GPIO_GET_LINEINFO_WATCH_IOCTL = _iowr(0x0B, LINE_INFO_V1.size)

assert GPIO_V2_GET_LINE_IOCTL == 0xC250B407
assert GPIO_GET_LINEHANDLE_IOCTL == 0xC16CB403


# -- parsed structures ------------------------------------------------------------------------------
def cstr(raw: bytes) -> str:
    """A NUL-terminated char array as text (kstrndup of ``sizeof - 1`` bytes)."""
    return raw[: GPIO_MAX_NAME_SIZE - 1].split(b"\0", 1)[0].decode("utf-8", "replace")


def name_bytes(text: str) -> bytes:
    """strscpy into a char[32]: at most 31 bytes and the NUL."""
    return text.encode()[: GPIO_MAX_NAME_SIZE - 1]


@dataclass
class ConfigAttr:
    id: int
    value: int
    """flags, output values bitmap, or debounce_period_us (the union)."""
    mask: int


@dataclass
class LineConfig:
    """struct gpio_v2_line_config."""

    flags: int
    attrs: list[ConfigAttr]
    num_attrs: int
    padding: bytes

    def flags_of(self, index: int) -> int:
        """gpio_v2_line_config_flags(): the first FLAGS attribute for the line, else the default."""
        for a in self.attrs[: self.num_attrs]:
            if a.id == ATTR_ID_FLAGS and a.mask >> index & 1:
                return a.value
        return self.flags

    def output_value(self, index: int) -> bool:
        for a in self.attrs[: self.num_attrs]:
            if a.id == ATTR_ID_OUTPUT_VALUES and a.mask >> index & 1:
                return bool(a.value >> index & 1)
        return False

    def debounce_of(self, index: int) -> int | None:
        """The line's debounce period in µs if an attribute sets one (0 is a setting too)."""
        for a in self.attrs[: self.num_attrs]:
            if a.id == ATTR_ID_DEBOUNCE and a.mask >> index & 1:
                return a.value & 0xFFFFFFFF
        return None


def unpack_config(raw: bytes) -> LineConfig:
    flags, num_attrs, padding = LINE_CONFIG_HEAD.unpack_from(raw)
    attrs = []
    for i in range(GPIO_V2_LINE_NUM_ATTRS_MAX):
        a_id, _pad, value, mask = CONFIG_ATTRIBUTE.unpack_from(
            raw, LINE_CONFIG_HEAD.size + i * CONFIG_ATTRIBUTE.size
        )
        if a_id == ATTR_ID_DEBOUNCE:
            value &= 0xFFFFFFFF  # the u32 member of the union
        attrs.append(ConfigAttr(a_id, value, mask))
    return LineConfig(flags, attrs, num_attrs, padding)


def pack_config(config: LineConfig) -> bytes:
    out = bytearray(LINE_CONFIG_HEAD.pack(config.flags, config.num_attrs, config.padding))
    attrs = list(config.attrs) + [ConfigAttr(0, 0, 0)] * GPIO_V2_LINE_NUM_ATTRS_MAX
    for a in attrs[:GPIO_V2_LINE_NUM_ATTRS_MAX]:
        out += CONFIG_ATTRIBUTE.pack(a.id, 0, a.value, a.mask)
    return bytes(out)


@dataclass
class LineRequestArgs:
    """struct gpio_v2_line_request."""

    offsets: list[int]
    consumer: str
    config: LineConfig
    num_lines: int
    event_buffer_size: int
    padding: bytes
    fd: int = 0


def unpack_request(raw: bytes) -> LineRequestArgs:
    fields = LINE_REQUEST.unpack(raw[: LINE_REQUEST.size])
    offsets = list(fields[:GPIO_V2_LINES_MAX])
    consumer, config, num_lines, buffer_size, padding, fd = fields[GPIO_V2_LINES_MAX:]
    return LineRequestArgs(
        offsets, cstr(consumer), unpack_config(config), num_lines, buffer_size, padding, fd
    )


def with_fd(raw: bytes, fd: int) -> bytes:
    """The caller's request with its last field, ``int fd``, filled in (linereq_create,
    linehandle_create and lineevent_create copy the struct back with it)."""
    return raw[:-4] + struct.pack("<i", fd)


@dataclass
class LineInfo:
    """struct gpio_v2_line_info as the kernel fills it."""

    offset: int
    name: str
    consumer: str
    flags: int
    debounce_us: int | None = None
    attrs: list[tuple[int, int]] = field(default_factory=list)

    def pack(self) -> bytes:
        attrs = b""
        num = 0
        if self.debounce_us is not None:
            attrs += LINE_ATTRIBUTE.pack(ATTR_ID_DEBOUNCE, 0, self.debounce_us)
            num += 1
        attrs = attrs.ljust(GPIO_V2_LINE_NUM_ATTRS_MAX * LINE_ATTRIBUTE.size, b"\0")
        return LINE_INFO.pack(
            name_bytes(self.name), name_bytes(self.consumer), self.offset, num, self.flags,
            attrs, b"",
        )  # fmt: skip

    def pack_v1(self) -> bytes:
        """gpio_v2_line_info_to_v1()."""
        v1 = 0
        for v2_flag, v1_flag in (
            (FLAG_USED, GPIOLINE_FLAG_KERNEL),
            (FLAG_OUTPUT, GPIOLINE_FLAG_IS_OUT),
            (FLAG_ACTIVE_LOW, GPIOLINE_FLAG_ACTIVE_LOW),
            (FLAG_OPEN_DRAIN, GPIOLINE_FLAG_OPEN_DRAIN),
            (FLAG_OPEN_SOURCE, GPIOLINE_FLAG_OPEN_SOURCE),
            (FLAG_BIAS_PULL_UP, GPIOLINE_FLAG_BIAS_PULL_UP),
            (FLAG_BIAS_PULL_DOWN, GPIOLINE_FLAG_BIAS_PULL_DOWN),
            (FLAG_BIAS_DISABLED, GPIOLINE_FLAG_BIAS_DISABLE),
        ):
            if self.flags & v2_flag:
                v1 |= v1_flag
        return LINE_INFO_V1.pack(self.offset, v1, name_bytes(self.name), name_bytes(self.consumer))


def flags_validate(flags: int) -> int:
    """gpio_v2_line_flags_validate(): 0, or the errno (the Pi kernels have no CONFIG_HTE)."""
    import errno

    if flags & ~VALID_FLAGS:
        return errno.EINVAL
    if flags & FLAG_EVENT_CLOCK_HTE:
        return errno.EOPNOTSUPP
    if flags & FLAG_INPUT and flags & FLAG_OUTPUT:
        return errno.EINVAL
    if flags & EDGE_FLAGS and not flags & FLAG_INPUT:
        return errno.EINVAL
    if flags & FLAG_OPEN_DRAIN and flags & FLAG_OPEN_SOURCE:
        return errno.EINVAL
    if flags & DRIVE_FLAGS and not flags & FLAG_OUTPUT:
        return errno.EINVAL
    if flags & BIAS_FLAGS and not flags & DIRECTION_FLAGS:
        return errno.EINVAL
    if bin(flags & BIAS_FLAGS).count("1") > 1:
        return errno.EINVAL
    return 0


def config_validate(config: LineConfig, num_lines: int) -> int:
    """gpio_v2_line_config_validate()."""
    import errno

    if config.num_attrs > GPIO_V2_LINE_NUM_ATTRS_MAX or any(config.padding):
        return errno.EINVAL
    for i in range(num_lines):
        flags = config.flags_of(i)
        code = flags_validate(flags)
        if code:
            return code
        if config.debounce_of(i) is not None and not flags & FLAG_INPUT:
            return errno.EINVAL  # debounce requires explicit input
    return 0


def handle_flags_validate(flags: int) -> int:
    """linehandle_validate_flags()."""
    import errno

    if flags & ~HANDLE_VALID_FLAGS:
        return errno.EINVAL
    if flags & HANDLE_INPUT and flags & HANDLE_OUTPUT:
        return errno.EINVAL
    if flags & HANDLE_OPEN_DRAIN and flags & HANDLE_OPEN_SOURCE:
        return errno.EINVAL
    if not flags & HANDLE_OUTPUT and flags & (HANDLE_OPEN_DRAIN | HANDLE_OPEN_SOURCE):
        return errno.EINVAL
    bias = flags & (HANDLE_BIAS_DISABLE | HANDLE_BIAS_PULL_UP | HANDLE_BIAS_PULL_DOWN)
    if bias and not flags & (HANDLE_INPUT | HANDLE_OUTPUT):
        return errno.EINVAL
    if bin(bias).count("1") > 1:
        return errno.EINVAL
    return 0


def v2_flags_of_handle(flags: int) -> int:
    """The v2 line flags a v1 handle's flags stand for (linehandle_flags_to_desc_flags)."""
    out = 0
    for v1, v2 in (
        (HANDLE_INPUT, FLAG_INPUT),
        (HANDLE_OUTPUT, FLAG_OUTPUT),
        (HANDLE_ACTIVE_LOW, FLAG_ACTIVE_LOW),
        (HANDLE_OPEN_DRAIN, FLAG_OPEN_DRAIN),
        (HANDLE_OPEN_SOURCE, FLAG_OPEN_SOURCE),
        (HANDLE_BIAS_PULL_UP, FLAG_BIAS_PULL_UP),
        (HANDLE_BIAS_PULL_DOWN, FLAG_BIAS_PULL_DOWN),
        (HANDLE_BIAS_DISABLE, FLAG_BIAS_DISABLED),
    ):
        if flags & v1:
            out |= v2
    return out


def roundup_pow_of_two(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


# -- the device trees' gpio-line-names ---------------------------------------------------------------
def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_BCM2711_HIGH = _words(
    "RGMII_MDIO RGMIO_MDC CTS0 RTS0 TXD0 RXD0 SD1_CLK SD1_CMD SD1_DATA0 SD1_DATA1 SD1_DATA2 "
    "SD1_DATA3 PWM0_MISO PWM1_MOSI STATUS_LED_G_CLK SPIFLASH_CE_N SDA0 SCL0 RGMII_RXCLK "
    "RGMII_RXCTL RGMII_RXD0 RGMII_RXD1 RGMII_RXD2 RGMII_RXD3 RGMII_TXCLK RGMII_TXCTL "
    "RGMII_TXD0 RGMII_TXD1 RGMII_TXD2 RGMII_TXD3"
)
BCM2711_RPI = ("ID_SDA", "ID_SCL", *(f"GPIO{n}" for n in range(2, 28)), *_BCM2711_HIGH)
"""bcm2711-rpi-4-b.dts and bcm2711-rpi-cm4.dts (identical downstream lists)."""

_B_LOW = _words(
    "SDA0 SCL0 SDA1 SCL1 GPIO_GCLK CAM_GPIO1 LAN_RUN SPI_CE1_N SPI_CE0_N SPI_MISO SPI_MOSI "
    "SPI_SCLK NC NC TXD0 RXD0 STATUS_LED_N GPIO17 GPIO18 NC NC"
)
_B_HIGH = _words(
    "NC NC NC NC NC NC NC NC PWM0_OUT NC NC NC NC PWM1_OUT HDMI_HPD_P SD_CARD_DET SD_CLK_R "
    "SD_CMD_R SD_DATA0_R SD_DATA1_R SD_DATA2_R SD_DATA3_R"
)
RPI_B_REV1 = (
    *_B_LOW,
    *_words("GPIO21 GPIO22 GPIO23 GPIO24 GPIO25 NC CAM_GPIO0 CONFIG0 CONFIG1 CONFIG2 CONFIG3"),
    *_B_HIGH,
)
"""bcm2708-rpi-b-rev1.dts (Raspberry-Pi-Rev-1.0-Model-AB-Schematics)."""
RPI_B_REV2 = (
    *_B_LOW,
    *_words("CAM_GPIO0 GPIO22 GPIO23 GPIO24 GPIO25 NC GPIO27 GPIO28 GPIO29 GPIO30 GPIO31"),
    *_B_HIGH,
)
"""bcm2708-rpi-b.dts (Raspberry-Pi-Rev-2.0-Model-AB-Schematics)."""
RPI_B_PLUS = (
    *_words(
        "ID_SDA ID_SCL SDA1 SCL1 GPIO_GCLK GPIO5 GPIO6 SPI_CE1_N SPI_CE0_N SPI_MISO SPI_MOSI "
        "SPI_SCLK GPIO12 GPIO13 TXD0 RXD0"
    ),
    *(f"GPIO{n}" for n in range(16, 28)),
    *_words(
        "SDA0 SCL0 NC LAN_RUN CAM_GPIO1 NC NC PWR_LOW_N NC NC USB_LIMIT NC PWM0_OUT CAM_GPIO0 "
        "NC NC ETH_CLK PWM1_OUT HDMI_HPD_N STATUS_LED SD_CLK_R SD_CMD_R SD_DATA0_R SD_DATA1_R "
        "SD_DATA2_R SD_DATA3_R"
    ),
)
"""bcm2708-rpi-b-plus.dts (Raspberry-Pi-B-Plus-V1.2-Schematics)."""

assert len(BCM2711_RPI) == 58
assert len(RPI_B_REV1) == len(RPI_B_REV2) == len(RPI_B_PLUS) == 54

_NAMES_BY_MODEL: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Raspberry Pi 4", BCM2711_RPI),
    ("Raspberry Pi Compute Module 4", BCM2711_RPI),
    ("Raspberry Pi Model B Plus", RPI_B_PLUS),
    ("Raspberry Pi Model B+", RPI_B_PLUS),
    ("Raspberry Pi Model B Rev 1", RPI_B_REV1),
    ("Raspberry Pi Model B Rev 2", RPI_B_REV2),
)


def line_names(models: Sequence[str], soc: str, count: int) -> tuple[str, ...]:
    """The ``gpio-line-names`` of the device tree the firmware loads for a board whose
    ``/proc/device-tree/model`` is one of ``models``; a board none matches gets the SoC's
    Raspberry Pi list (BCM2711: the Pi 4's; BCM2835: the B+'s, the 40-pin layout)."""
    for model in models:
        for prefix, names in _NAMES_BY_MODEL:
            if model.startswith(prefix):
                return names[:count]
    fallback = BCM2711_RPI if soc == "BCM2711" else RPI_B_PLUS
    return (fallback + tuple(f"GPIO{n}" for n in range(len(fallback), count)))[:count]
