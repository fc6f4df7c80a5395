"""8250_bcm2835aux and the 8250 core's register sequences against the mini UART model.

Sources (read through the library's stored copies):
- raspberrypi/linux drivers/tty/serial/8250/8250_bcm2835aux.c ``bcm2835aux_serial_probe``:
  ``regshift = 2`` from the resource at AUX_MU_IO (so 8250 register n is AUX_MU_IO + 4n: RBR/THR,
  IER, IIR/FCR, LCR, MCR, LSR, MSR, SCR, and ``BCM2835_AUX_UART_CNTL 8``), ``PORT_16550``,
  ``UART_CAP_FIFO | UART_CAP_MINI``, ``fifosize = 8``, the clock enabled last ("get the clock -
  this also enables the HW": the AUX gate, AUX_ENABLES bit 0) and ``uartclk = clk_get_rate * 2``
  ("the HW-clock divider for bcm2835aux is 8, but 8250 expects a divider of 16").
- drivers/tty/serial/8250/8250_port.c (a stored copy of a current tree; ``serial8250_clear_fifos``
  is ported from its well-known three FCR writes, that part of the file was not read):
  ``serial8250_do_startup`` (clear FIFOs, the clearing
  reads, the THRE re-assert test, LCR = WLEN8, MCR with OUT2, the TX-enable test, ``up->ier =
  RLSI | RDI``), ``serial8250_do_set_termios`` (UART_CAP_MINI drops CSTOPB/PARENB/PARODD/CMSPAR
  and turns CS5/CS6 into CS7; ``serial8250_compute_lcr`` sets EPAR whenever PARODD is clear;
  IER; ``serial8250_do_set_divisor``: LCR | DLAB, DLL/DLM = quot; LCR; FCR), ``uart_get_divisor``
  (``DIV_ROUND_CLOSEST(uartclk, 16 * baud)``), ``serial8250_handle_irq`` → ``serial8250_rx_chars``
  / ``serial8250_tx_chars`` ("The BCM2835 MINI UART THRE bit is really a not-full bit";
  ``tx_loadsz`` stays PORT_16550's 1).

So the 8250 core writes bits the mini UART does not have: LCR bit 4 (EPAR) on every set_termios,
IER bit 2 (RLSI), MCR bit 3 (OUT2). The chip ignores them; the model drops them and records one
register warning each (soc-facts §4.2 lists the mini UART's fields), without failing the driver.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pihil_emulator.buses.uart_line import LineSettings
from pihil_emulator.buses.uart_vcd import UartVcdTap
from pihil_emulator.soc.mini_uart import MiniUartBlock, mini_uart_baud
from pihil_emulator.soc.variants import BCM2711, BCM2835, SocVariant
from pihil_emulator.vcd import VcdRecorder

from ..emulator.test_mini_uart import Rig
from ..emulator.test_uart_vcd import needs_sigrok, sigrok_bytes

# include/uapi/linux/serial_reg.h
UART_RX = UART_TX = 0
UART_IER, UART_IIR, UART_FCR, UART_LCR, UART_MCR, UART_LSR, UART_MSR, UART_SCR = (
    1,
    2,
    2,
    3,
    4,
    5,
    6,
    7,
)
BCM2835_AUX_UART_CNTL = 8
UART_IER_RDI, UART_IER_THRI, UART_IER_RLSI = 0x01, 0x02, 0x04
UART_IIR_NO_INT = 0x01
UART_FCR_ENABLE_FIFO, UART_FCR_CLEAR_RCVR, UART_FCR_CLEAR_XMIT = 0x01, 0x02, 0x04
UART_LCR_DLAB, UART_LCR_EPAR, UART_LCR_WLEN8, UART_LCR_WLEN7 = 0x80, 0x10, 0x03, 0x02
UART_MCR_OUT2 = 0x08
UART_LSR_TEMT, UART_LSR_THRE, UART_LSR_BI, UART_LSR_DR = 0x40, 0x20, 0x10, 0x01
REGS = (
    "AUX_MU_IO_REG",
    "AUX_MU_IER_REG",
    "AUX_MU_IIR_REG",
    "AUX_MU_LCR_REG",
    "AUX_MU_MCR_REG",
    "AUX_MU_LSR_REG",
    "AUX_MU_MSR_REG",
    "AUX_MU_SCRATCH",
    "AUX_MU_CNTL_REG",
)


class Serial8250:
    """The 8250 core driving the mini UART through its 16550 register file."""

    def __init__(self, uart: MiniUartBlock, core_clock_hz: int) -> None:
        self.uart = uart
        self.uartclk = core_clock_hz * 2
        self.ier = 0
        self.lcr = 0
        self.mcr = 0
        self.fcr = 0  # uart_config[PORT_16550] has no .fcr
        self.tx_loadsz = 1  # uart_config[PORT_16550].tx_loadsz
        self.bugs: set[str] = set()
        self.xmit = bytearray()
        self.rx = bytearray()
        self.irqs: list[int] = []  # IIR of every serial8250_handle_irq that found one

    def serial_in(self, offset: int) -> int:
        return self.uart.read(REGS[offset])

    def serial_out(self, offset: int, value: int) -> None:
        self.uart.write(REGS[offset], value)

    def probe(self) -> None:
        """bcm2835aux_serial_probe's hardware effect: clk_prepare_enable opens the AUX gate."""
        self.uart.write("AUX_ENABLES", self.uart.read("AUX_ENABLES") | 1)

    def clear_fifos(self) -> None:
        """serial8250_clear_fifos (UART_CAP_FIFO)."""
        self.serial_out(UART_FCR, UART_FCR_ENABLE_FIFO)
        self.serial_out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT)
        self.serial_out(UART_FCR, 0)

    def startup(self) -> int:
        self.mcr = 0
        self.clear_fifos()
        for reg in (UART_LSR, UART_RX, UART_IIR, UART_MSR):
            self.serial_in(reg)
        if self.serial_in(UART_LSR) == 0xFF:
            return -19  # -ENODEV: "LSR safety check engaged!"
        # the THRE test (port->irq set, no UPF_NO_THRE_TEST)
        self.serial_out(UART_IER, UART_IER_THRI)
        iir1 = self.serial_in(UART_IIR)
        self.serial_out(UART_IER, 0)
        self.serial_out(UART_IER, UART_IER_THRI)
        iir = self.serial_in(UART_IIR)
        self.serial_out(UART_IER, 0)
        if not iir1 & UART_IIR_NO_INT and iir & UART_IIR_NO_INT:
            self.bugs.add("UART_BUG_THRE")
        self.serial_out(UART_LCR, UART_LCR_WLEN8)
        self.set_mctrl(UART_MCR_OUT2)  # "Most PC uarts need OUT2 raised to enable interrupts"
        # the TX-enable test
        self.serial_out(UART_IER, UART_IER_THRI)
        lsr = self.serial_in(UART_LSR)
        iir = self.serial_in(UART_IIR)
        self.serial_out(UART_IER, 0)
        if lsr & UART_LSR_TEMT and iir & UART_IIR_NO_INT:
            self.bugs.add("UART_BUG_TXEN")
        for reg in (UART_LSR, UART_RX, UART_IIR, UART_MSR):
            self.serial_in(reg)
        self.ier = UART_IER_RLSI | UART_IER_RDI
        return 0

    def set_mctrl(self, mcr: int) -> None:
        self.serial_out(UART_MCR, mcr | self.mcr)

    def set_termios(self, baud: int, data_bits: int = 8) -> int:
        """serial8250_do_set_termios for ``baud`` 8N1 (or CS5-CS7); returns quot."""
        if data_bits in (5, 6):  # UART_CAP_MINI
            data_bits = 7
        cval = {7: UART_LCR_WLEN7, 8: UART_LCR_WLEN8}[data_bits]
        cval |= UART_LCR_EPAR  # !(c_cflag & PARODD): PARODD was just cleared
        quot = (self.uartclk + 8 * baud) // (16 * baud)  # DIV_ROUND_CLOSEST
        self.lcr = cval
        self.serial_out(UART_IER, self.ier)
        self.serial_out(UART_LCR, self.lcr | UART_LCR_DLAB)  # serial8250_do_set_divisor
        self.serial_out(UART_RX, quot & 0xFF)  # serial_dl_write: DLL
        self.serial_out(UART_IER, quot >> 8 & 0xFF)  # DLM
        self.serial_out(UART_LCR, self.lcr)  # reset DLAB
        self.serial_out(UART_FCR, self.fcr)
        self.set_mctrl(UART_MCR_OUT2)
        return quot

    def start_tx(self, data: bytes) -> None:
        """uart_write → serial8250_start_tx → __start_tx: IER.THRI on."""
        self.xmit += data
        if not self.ier & UART_IER_THRI:
            self.ier |= UART_IER_THRI
            self.serial_out(UART_IER, self.ier)

    def tx_chars(self) -> None:
        count = self.tx_loadsz
        while True:
            self.serial_out(UART_TX, self.xmit.pop(0))
            if not self.xmit:
                break
            if not self.serial_in(UART_LSR) & UART_LSR_THRE:
                break
            count -= 1
            if count <= 0:
                break
        if not self.xmit:  # __stop_tx
            self.ier &= ~UART_IER_THRI
            self.serial_out(UART_IER, self.ier)

    def handle_irq(self) -> bool:
        iir = self.serial_in(UART_IIR)
        if iir & UART_IIR_NO_INT:
            return False
        self.irqs.append(iir)
        status = self.serial_in(UART_LSR)
        if status & (UART_LSR_DR | UART_LSR_BI):
            max_count = 256
            lsr = status
            while lsr & (UART_LSR_DR | UART_LSR_BI):
                self.rx.append(self.serial_in(UART_RX))
                max_count -= 1
                if max_count == 0:
                    break
                lsr = self.serial_in(UART_LSR)
        self.serial_in(UART_MSR)  # serial8250_modem_status
        if status & UART_LSR_THRE and self.ier & UART_IER_THRI and self.xmit:
            self.tx_chars()
        return True


def opened(variant: SocVariant = BCM2711, baud: int = 115_200) -> tuple[Rig, Serial8250, int]:
    core = variant.core_clock_hz
    quot = (2 * core + 8 * baud) // (16 * baud)
    rig = Rig(far=LineSettings(mini_uart_baud(core, quot)), variant=variant)
    drv = Serial8250(rig.uart, core)
    drv.probe()
    assert drv.startup() == 0
    assert drv.set_termios(baud) == quot
    return rig, drv, quot


def cpu(rig: Rig, drv: Serial8250, ns: float) -> None:
    """The AUX interrupt (AUX_IRQ bit 0) runs serial8250_handle_irq, looked at each bit time."""
    step = max(1, int(1e9 / rig.uart.baud_rate()))
    end = rig.world.now_ns + int(ns)
    while rig.world.now_ns < end:
        if rig.uart.read("AUX_IRQ") & 1:
            assert drv.handle_irq()
        rig.run(min(step, end - rig.world.now_ns))


def test_registers_need_the_aux_gate_the_clock_driver_opens() -> None:
    rig = Rig()
    drv = Serial8250(rig.uart, BCM2711.core_clock_hz)
    assert drv.serial_in(UART_LSR) == 0  # gate closed: no access at all (soc-facts §4.2)
    drv.probe()
    assert (
        drv.serial_in(UART_LSR) & (UART_LSR_TEMT | UART_LSR_THRE) == UART_LSR_TEMT | UART_LSR_THRE
    )


def test_startup_finds_no_thre_or_txen_bug() -> None:
    """The mini UART re-asserts THRE when IER.THRI is set again and reports the TX interrupt
    with TEMT: the 8250 core sets neither UART_BUG_THRE nor UART_BUG_TXEN."""
    rig = Rig()
    drv = Serial8250(rig.uart, BCM2711.core_clock_hz)
    drv.probe()
    assert drv.startup() == 0
    assert drv.bugs == set()
    assert rig.uart.read("AUX_MU_IER_REG") == 0  # interrupts deferred until set_termios
    assert rig.uart.read("AUX_MU_LCR_REG") == UART_LCR_WLEN8


@pytest.mark.parametrize(
    ("variant", "baud", "quot"),
    [
        (BCM2711, 115_200, 271),  # soc-facts §4.2: the 250 MHz core; 114890 baud (-0.27 %)
        # BCM2835 ARM Peripherals §2.2.2 (AUX_MU_IER_REG with DLAB: "the MS 8 bits of the baud
        # rate"); 8250_port.c serial_dl_write writes DLM = quot >> 8 = 0x0C here
        (BCM2711, 9_600, 3255),
        (BCM2835, 115_200, 271),
        (BCM2835.with_overrides(core_clock_hz=400_000_000), 115_200, 434),  # Pi 3 core 400 MHz
    ],
)
def test_set_termios_divisor_from_the_core_clock(variant: SocVariant, baud: int, quot: int) -> None:
    rig, _drv, got = opened(variant, baud)
    u = rig.uart
    assert got == quot
    assert u.read("AUX_MU_BAUD_REG") == quot
    assert u.baud_rate() == pytest.approx(variant.core_clock_hz / (8 * (quot + 1)))
    assert abs(u.baud_rate() - baud) / baud < 0.01
    assert u.read("AUX_MU_LCR_REG") == UART_LCR_WLEN8  # DLAB off; bit 4 (EPAR) dropped
    assert u.read("AUX_MU_IER_REG") == UART_IER_RDI  # RLSI (bit 2) dropped


def test_the_8250_cores_extra_bits_are_ignored_and_recorded() -> None:
    rig, _drv, _quot = opened()
    got = {(w.register, w.kind) for w in rig.soc.register_policy.warnings}
    assert got == {
        ("AUX_MU_LCR_REG", "reserved bits"),  # 0x13 / 0x93: EPAR
        ("AUX_MU_IER_REG", "reserved bits"),  # 0x05: RLSI
        ("AUX_MU_MCR_REG", "reserved bits"),  # 0x08: OUT2
    }
    lcr = next(w for w in rig.soc.register_policy.warnings if w.register == "AUX_MU_LCR_REG")
    assert lcr.written & UART_LCR_EPAR
    assert not lcr.kept & UART_LCR_EPAR


def test_cs5_and_cs6_become_cs7() -> None:
    """UART_CAP_MINI: "(termios->c_cflag & CSIZE) == CS5 || CS6 → CS7" (7-bit mode, LCR 0x02)."""
    rig, drv, _ = opened()
    drv.set_termios(115_200, data_bits=5)
    assert rig.uart.read("AUX_MU_LCR_REG") & 0x03 == UART_LCR_WLEN7
    assert rig.uart.line_settings.data_bits == 7


@needs_sigrok
@pytest.mark.parametrize("variant", [BCM2711, BCM2835])
def test_tx_and_rx_through_the_interrupt_handler_decode(
    tmp_path: Path, variant: SocVariant
) -> None:
    """40 characters out (one per THRE interrupt: tx_loadsz 1, the not-full THRE) and 30 in
    (RDI, drained while LSR.DR); the far end and the tty got every byte; sigrok decodes both
    pins to exactly those bytes; IER.THRI is off again at the end (__stop_tx)."""
    rig, drv, _ = opened(variant)
    out = bytes((i * 29 + 3) & 0xFF for i in range(40))
    inc = bytes((i * 41 + 9) & 0xFF for i in range(30))
    path = tmp_path / "mini.vcd"
    rec = VcdRecorder(rig.world, path, [rig.tx_pin, rig.rx_pin])
    baud = rig.uart.baud_rate()
    with rec, UartVcdTap(rec, rig.circuit):
        rig.run(50_000)
        drv.start_tx(out)
        rig.far_tx.send(inc)
        cpu(rig, drv, 50 * 10 * 1e9 / baud)
        rig.run(50_000)
    assert bytes(c.value for c in rig.heard()) == out
    assert bytes(drv.rx) == inc
    assert not rig.uart.read("AUX_MU_IER_REG") & UART_IER_THRI
    assert not rig.uart.read("AUX_IRQ") & 1
    kinds = {iir & 0x06 for iir in drv.irqs}
    assert kinds == {0x02, 0x04}  # THRE and RX data interrupts both came
    assert sigrok_bytes(path, "GPIO14", baud) == out
    assert sigrok_bytes(path, "GPIO15", baud) == inc


def test_the_models_own_configure_at_9600_baud() -> None:
    """The model-side entry point (docs/emulator-api.md) writes the divisor as Linux does."""
    rig = Rig(far=LineSettings(mini_uart_baud(250e6, 3255)))
    line = rig.uart.configure(9_600)
    assert rig.uart.read("AUX_MU_BAUD_REG") == 3255
    assert line.baud == pytest.approx(250e6 / (8 * 3256))


def test_with_dlab_the_io_and_ier_offsets_take_whole_divisor_bytes() -> None:
    """BCM2835 ARM Peripherals §2.2.2: with DLAB set AUX_MU_IO_REG is the baud register's
    bits 7:0 and AUX_MU_IER_REG its bits 15:8; only the bits above 7 are reserved (dropped
    and recorded once), IER's own interrupt enables are untouched."""
    rig = Rig()
    u = rig.uart
    u.write("AUX_ENABLES", 1)
    u.write("AUX_MU_IER_REG", UART_IER_RDI)
    u.write("AUX_MU_LCR_REG", UART_LCR_DLAB | UART_LCR_WLEN8)
    u.write("AUX_MU_IO_REG", 0xA5)
    u.write("AUX_MU_IER_REG", 0x1FE)  # bit 8 is reserved
    assert u.read("AUX_MU_IO_REG") == 0xA5
    assert u.read("AUX_MU_IER_REG") == 0xFE
    assert u.read("AUX_MU_BAUD_REG") == 0xFEA5
    u.write("AUX_MU_LCR_REG", UART_LCR_WLEN8)
    assert u.read("AUX_MU_IER_REG") == UART_IER_RDI
    warned = [w for w in rig.soc.register_policy.warnings if w.register == "AUX_MU_IER_REG"]
    assert [(w.written, w.kept) for w in warned] == [(0x1FE, 0xFE)]
