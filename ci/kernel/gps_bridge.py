"""The emulator's GPS model on a QEMU serial port: NMEA into a real kernel tty (issue 15).

The bridge builds the emulator's ``nmea-gps`` device model (emulator/pihil_emulator/devices/
nmea_gps.py, the same `NmeaGps` a profile or ``sim.attach`` puts on a UART) off a board, on
two nets of its own circuit, with a receiver (`LineTap`, a `UartTarget` at the GPS's line
settings) listening on the GPS's TX net. The simulated clock runs in step with the wall
clock, so each character leaves the bridge when its stop bit is sampled in the model: the
model's baud rate (9600 8N1, ~1.04 ms a character) paced to real time, RMC + GGA once a
second. The bytes go to a TCP socket that QEMU's ``-chardev socket`` connects to, so the
guest's 16550 (``/dev/ttyS2``) receives them in real time, as it would from a GPS module.

``GpsBridge.start()`` listens on 127.0.0.1 (a free port: ``port``) and streams from a
thread once QEMU connects. The line counts as connected from the first byte the guest sends
on its TX (the test opens the port and sends a newline; a GPS takes commands on its RX):
before that the model's characters are dropped, because a closed 8250 port stops QEMU
reading the chardev and the socket would pile up a backlog that floods the port at open.
``fix_record()`` is what the guest test checks the sentences against (written to
``gps.json`` in the output folder by ci/kernel/run.py).

``python ci/kernel/gps_bridge.py`` serves one connection for ``PIHIL_GPS_SECONDS`` (default
60) and prints its port first: ``nc 127.0.0.1 <port>`` then a newline shows the stream.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

from pihil_emulator.buses.uart_rx import RxChar
from pihil_emulator.buses.uart_target import UartTarget
from pihil_emulator.devices.nmea_gps import NmeaGps
from pihil_emulator.devices.registry import create_device
from pihil_emulator.world.clock import World
from pihil_emulator.world.net import Circuit

STEP_S = 0.005
"""Wall-clock step of the pacing loop: characters completed in the model up to now are sent."""
CONNECT_TIMEOUT_S = 120.0
"""How long the bridge waits for QEMU to connect before it gives up."""
DEFAULT_PARAMS: dict[str, object] = {
    "latitude": 50.0614,
    "longitude": 19.9366,
    "altitude_m": 219.0,
    "satellites": 7,
    "quality": 1,
}
"""The fix the guest's test expects (``nmea-gps`` profile parameters; any others work)."""


class LineTap(UartTarget):
    """The QEMU side of the wire: decodes the GPS's waveform at the GPS's line settings and
    keeps each character with its completion time (simulated ns)."""

    model = "qemu-chardev"

    def __init__(self, gps: NmeaGps) -> None:
        super().__init__(gps.settings, "qemu")
        self.chars: list[RxChar] = []

    def receive(self, char: RxChar) -> None:
        self.chars.append(char)


class GpsBridge:
    """The GPS model, a tap on its TX line and a TCP server QEMU's chardev connects to."""

    def __init__(self, params: dict[str, object] | None = None, utc: dt.datetime | None = None):
        now = dt.datetime.now(dt.UTC)
        self._t0 = time.monotonic() - now.microsecond / 1e6
        self.utc_at_zero = (utc or now.replace(microsecond=0)).astimezone(dt.UTC)
        merged = {**DEFAULT_PARAMS, **(params or {}), "utc": self.utc_at_zero.isoformat()}
        self.world = World()
        circuit = Circuit(self.world)
        to_gps, from_gps = circuit.add_net("QEMU_TXD"), circuit.add_net("GPS_TXD")
        gps = create_device("nmea-gps", name="gps", params=merged)
        assert isinstance(gps, NmeaGps)
        self.gps = gps
        self.tap = LineTap(gps)
        # roles from the listener's side: each listens on ``tx`` and talks on ``rx``
        self.tap.connect(circuit, tx=from_gps, rx=to_gps)
        gps.connect(circuit, tx=to_gps, rx=from_gps)
        self.sent = 0
        """Characters sent to QEMU."""
        self.dropped = 0
        """Characters the model sent before the guest listened (the line not connected yet)."""
        self.listening = False
        """True once the guest has sent a byte on its TX (the test opened the port)."""
        self.error: BaseException | None = None
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._server.getsockname()[1])
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def fix_record(self) -> dict[str, Any]:
        """What the guest checks: the model's position, fix and start time, its line settings."""
        f, s = self.gps.fix, self.gps.settings
        return {
            "device": "/dev/ttyS2",
            "baud": s.baud,
            "format": s.describe(),
            "utc_at_zero": self.utc_at_zero.isoformat(),
            "latitude": f.latitude,
            "longitude": f.longitude,
            "altitude_m": f.altitude_m,
            "satellites": f.satellites,
            "quality": f.quality,
        }

    def write_record(self, path: Path) -> None:
        path.write_text(json.dumps(self.fix_record(), indent=1) + "\n")

    def chardev(self) -> str:
        """QEMU's ``-chardev`` argument (a client of this bridge's server)."""
        return f"socket,id=gps,host=127.0.0.1,port={self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._serve, name="gps-bridge", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._server.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _serve(self) -> None:
        try:
            self._server.settimeout(CONNECT_TIMEOUT_S)
            conn, _ = self._server.accept()
        except OSError as exc:  # closed by stop() or timed out: no guest to feed
            if not self._stop.is_set():
                self.error = exc
            return
        with conn:
            try:
                self.stream(conn)
            except (ConnectionResetError, BrokenPipeError):
                pass  # QEMU closed the chardev: the guest powered off
            except OSError as exc:
                if not self._stop.is_set():
                    self.error = exc

    def stream(self, conn: socket.socket) -> None:
        """Run the model in step with the wall clock until stop(); once the guest has sent a
        byte, send each character at its completion time (before that the line is not
        connected and the characters are dropped)."""
        conn.setblocking(False)
        while not self._stop.is_set():
            due = self.pump(self.wall_ns())
            if not self.listening:
                try:
                    got = conn.recv(256)
                except BlockingIOError:
                    got = None
                if got == b"":
                    return  # QEMU closed the chardev
                self.listening = got is not None
                self.dropped += len(due)
            elif due:
                conn.setblocking(True)
                conn.sendall(bytes(c.value for c in due))
                conn.setblocking(False)
                self.sent += len(due)
            self._stop.wait(STEP_S)

    def wall_ns(self) -> int:
        """Simulated time now: the wall time since ``utc_at_zero`` (a whole UTC second, so the
        model's top of a second is UTC's, as a GPS's is)."""
        return int((time.monotonic() - self._t0) * 1e9)

    def pump(self, until_ns: int) -> list[RxChar]:
        """Run the model to simulated ``until_ns``; return the characters completed since the
        last call (their stop bits sampled by the tap), with their completion times."""
        if until_ns > self.world.now_ns:
            self.world.run_for(until_ns - self.world.now_ns)
        due, self.tap.chars = self.tap.chars, []
        return due


def main() -> int:
    """Stand-alone: print the port, serve one QEMU for ``PIHIL_GPS_SECONDS`` (default 60)."""
    import os

    bridge = GpsBridge()
    print(json.dumps({"port": bridge.port, **bridge.fix_record()}), flush=True)
    bridge.start()
    time.sleep(float(os.environ.get("PIHIL_GPS_SECONDS", "60")))
    bridge.stop()
    return 0 if bridge.error is None else 1


if __name__ == "__main__":
    raise SystemExit(main())
