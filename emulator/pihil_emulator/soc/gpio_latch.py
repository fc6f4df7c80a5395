"""GPIO output latches (soc-facts §3.4): GPSET/GPCLR write a latch kept apart from the pin;
an output line drives its latch, a SET written while the pin is an input takes effect when
it becomes an output. Holds the direct path for one output line's round trip."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import ElectricalFault, RegisterError
from ..world.net import Net
from .gpio_map import _HIGH, _LOW, _bits
from .gpio_routing import GpioRouting


class GpioLatch(GpioRouting):
    """GPSET/GPCLR and the output latch of every line."""

    # GPSET / GPCLR --------------------------------------------------------------------
    def _change_latch(self, changed: int, level: bool) -> None:
        if not changed:
            return
        if level:
            self._latch |= changed
        else:
            self._latch &= ~changed
        driven = changed & self._outputs
        if not driven:
            return
        drive = _HIGH if level else _LOW
        if not driven & (driven - 1):  # one line: the common case, no list
            n = driven.bit_length() - 1
            try:
                self._nets[n].drive(self._out_owner[n], drive)
            except ElectricalFault:
                self._latch ^= driven
                raise
            return
        applied = 0
        try:
            for n in _bits(driven):
                self._nets[n].drive(self._out_owner[n], drive)
                applied |= 1 << n
        except ElectricalFault:
            # the lines not driven keep their old latch bit: the circuit is as before for them
            undo = changed & ~applied
            if level:
                self._latch &= ~undo
            else:
                self._latch |= undo
            raise

    def _latch_writer(self, reg: str, level: bool, shift: int) -> Callable[[int], None]:
        """GPSET/GPCLR of one bank. Checks its own value, so `writer` can hand it out as is.

        One output line whose latch flips (a GPIO round trip) is done by that line's
        `line_writer`; anything else goes through `_change_latch`. Bits above the bank's last
        line (GPSET1/GPCLR1 bits 22-31 on the BCM2835, 26-31 on the BCM2711: soc-facts §3.2) are reserved: the
        chip ignores them, and the SoC's `RegisterPolicy` records a warning (or raises when
        strict), on this mapped path as through `write`.
        """
        mask = self._bank_mask(shift)
        change = self._change_latch
        writers = self._line_writers
        whole_bank0 = not shift and mask == 0xFFFF_FFFF  # every bit a line: nothing to cut
        register = self.MAP.get(reg, self.name)

        def write(value: int) -> None:
            if not 0 <= value <= 0xFFFF_FFFF:
                raise RegisterError(
                    f"{self.name}.{reg}: a 32-bit register takes 0..0xffffffff, got {value:#x}"
                )
            if whole_bank0:
                bits = value
            else:
                if value & ~mask and self.policy is not None:
                    value = self.policy.undefined_bits(self.name, register, value)
                bits = (value & mask) << shift
            latch = self._latch
            changed = bits & ~latch if level else bits & latch
            if not changed:
                return
            if changed & (changed - 1) or not changed & self._outputs:
                change(changed, level)
                return
            writers[changed.bit_length() - 1](level)  # one output line: `line_writer`'s path

        return write

    def line_writer(self, line: int) -> Callable[[bool], None]:
        """One line's GPSET/GPCLR with the bank and bit resolved: ``write(True)`` is what
        ``GPSET<line // 32> = 1 << (line % 32)`` does, ``write(False)`` the same for GPCLR
        (the driver's per-line accessor, as the kernel keeps a line's mapped register and
        bit). ``level`` is a bool. Never a reserved bit, so never a `RegisterPolicy` warning."""
        return self._line_writers[self._check_line(line)]

    def _make_line_writers(self) -> None:
        self._line_writers: list[Callable[[bool], None]] = [
            self._one_line_writer(n) for n in range(self.count)
        ]

    def _one_line_writer(self, n: int) -> Callable[[bool], None]:
        bit = 1 << n
        net = self._nets[n]
        owner = self._out_owner[n]
        change = self._change_latch
        high, low = _HIGH, _LOW  # frozen: their volts are constants too
        high_volts, low_volts = high.volts, low.volts

        def write(level: bool) -> None:
            latch = self._latch
            if (latch & bit != 0) == level:
                return  # the latch holds it already: nothing changes
            if not bit & self._outputs:
                change(bit, level)  # an input: the latch only (soc-facts §3.4)
                return
            self._latch = latch ^ bit
            node = net.node
            memo = node.memo
            if (
                memo is not None
                and memo[2] is self
                and memo[0] == node.version
                and memo[1] is net._watchers
                and not bit & self._detect
            ):
                # the pin is its node's sole hard driver, alone on it (no wire), watched by
                # this block only, edge detection off: what `Net.drive`'s one-hard-driver path
                # and `_on_net_change` would do, without their calls (`_sole_driver`)
                version = node.version + 1
                node.version = version
                node.memo = (version, memo[1], self)
                if level:
                    net._drivers[owner] = high
                    node.volts = high_volts
                else:
                    net._drivers[owner] = low
                    node.volts = low_volts
                node.floating = False
                if node.level is not level:
                    node.level = level
                    self._level = self._level | bit if level else self._level & ~bit
                return
            try:
                net.drive(owner, high if level else low)
            except ElectricalFault:
                self._latch = latch
                raise
            self._sole_driver(net)

        return write

    def _sole_driver(self, net: Net) -> None:
        """Mark ``net``'s node for `_latch_writer`'s direct path when the output just driven is
        the node's only hard driver (pulls may be on it: the hard drive sets the voltage, as
        in `Net.drive`), the net has no wire to another and only this block watches it. The
        mark is exact while the node's drivers (`Node.version`) and the net's watchers (a
        tuple replaced on every change: compared by identity) stay as they were."""
        node = net.node
        watchers = net._watchers
        if node.hard == 1 and len(node.nets) == 1 and watchers == (self._on_net_change,):
            node.memo = (node.version, watchers, self)
