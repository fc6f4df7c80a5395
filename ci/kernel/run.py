"""Boot the kernel tier's guest and run a pytest selection inside it (issue 15).

``python ci/kernel/run.py [pytest args]`` runs ci/kernel/kernel_setup.py (cached), then QEMU/TCG with
the Debian kernel, the initramfs, the host root read-only over virtio-9p, a writable output
folder over virtio-9p, ttyS0 as the console (to ``console.log``), ttyS1 looped back (a UDP
chardev that sends to its own port) and ttyS2 fed by the emulator's GPS model
(ci/kernel/gps_bridge.py: a socket chardev, the model's fix in ``gps.json``). Inside,
``run.sh`` runs the host venv's ``python -m pytest --hil-target=local --hil-board=kernel-sim``
and writes ``guest-junit.xml``; the guest's exit code comes back through isa-debug-exit. For
the default selection, tests/twin also runs on the emulator beside the guest (same profile, by
path) into ``twin-sim-junit.xml``; tests/kernel/test_twin_table.py compares the two.
``PIHIL_KERNEL_PYTHONPATH`` becomes the guest's PYTHONPATH (a changed copy of a package).

The output folder is ``$PIHIL_KERNEL_OUT`` or ``<cache>/out``; the host-side step
(tests/kernel/test_guest_report.py) reads the JUnit from there.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import kernel_setup  # ci/kernel/kernel_setup.py, next to this file
from gps_bridge import GpsBridge  # ci/kernel/gps_bridge.py

REPO = Path(__file__).resolve().parents[2]
TWIN_SELECTION = "tests/twin"
"""Written once, run in the guest and on the emulator (tests/kernel/test_twin_table.py)."""
PROFILE = REPO / "ci/kernel/kernel-sim.yaml"
SIM_TIMEOUT_S = 240.0
DEFAULT_SELECTION = (
    "tests/kernel/test_kernel_gpio.py",
    "tests/kernel/test_kernel_i2c.py",
    "tests/kernel/test_kernel_uart.py",
    "tests/kernel/test_kernel_gps.py",
    TWIN_SELECTION,
)
GUEST_TIMEOUT_S = float(os.environ.get("PIHIL_KERNEL_TIMEOUT", "300"))


def out_dir() -> Path:
    env = os.environ.get("PIHIL_KERNEL_OUT")
    return Path(env) if env else kernel_setup.cache_dir() / "out"


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def python_path_line() -> list[str]:
    """``PIHIL_KERNEL_PYTHONPATH`` (host paths, seen in the guest through the 9p root) becomes
    the guest's PYTHONPATH: a changed copy of a package is tried in the guest without
    touching the checkout (docs/kernel-tier.md, the planted-defect proof)."""
    extra = os.environ.get("PIHIL_KERNEL_PYTHONPATH")
    return [f"export PYTHONPATH={shlex.quote(extra)}"] if extra else []


def guest_script(out: Path, args: list[str]) -> str:
    python = Path(sys.executable)
    pytest_cmd = [
        str(python),
        "-m",
        "pytest",
        "-p",
        "pytest_pihil.plugin",
        "-p",
        "no:cacheprovider",
        "-q",
        "-rA",
        "--hil-target=local",
        "--hil-board=kernel-sim",
        f"--junitxml={out / 'guest-junit.xml'}",
        f"--hil-report-dir={out / 'reports'}",  # the repository is read-only in the guest
        *(args or DEFAULT_SELECTION),
    ]
    return "\n".join(
        [
            "#!/bin/sh",
            "# written by ci/kernel/run.py; runs inside the guest's chroot",
            f"cd {shlex.quote(str(REPO))} || exit 121",
            "export PYTHONDONTWRITEBYTECODE=1 HOME=/run/pihil-tmp PIHIL_KERNEL_GUEST=1",
            "export PYTEST_DISABLE_PLUGIN_AUTOLOAD=1  # entry-point scans over 9p cost ~30 s",
            "export HYPOTHESIS_PROFILE=${HYPOTHESIS_PROFILE:-ci} TMPDIR=/run/pihil-tmp",
            f"export PIHIL_GPS_RECORD={shlex.quote(str(out / 'gps.json'))}",
            *python_path_line(),
            'echo "pihil-guest: pytest starts at $(cut -d" " -f1 /proc/uptime) s" > /dev/ttyS0',
            f"{shlex.join(pytest_cmd)} > {shlex.quote(str(out / 'guest-pytest.log'))} 2>&1",
            "code=$?",
            'echo "pihil-guest: pytest done at $(cut -d" " -f1 /proc/uptime) s" > /dev/ttyS0',
            f"tail -n 25 {shlex.quote(str(out / 'guest-pytest.log'))} > /dev/ttyS0",
            "exit $code",
            "",
        ]
    )


def qemu_command(
    kernel: Path, initramfs: Path, out: Path, console: Path, gps_chardev: str
) -> list[str]:
    port = _free_udp_port()
    return [
        "qemu-system-x86_64",
        "-accel",
        "tcg",
        "-cpu",
        os.environ.get("PIHIL_KERNEL_CPU", "max"),
        "-m",
        "512",
        "-smp",
        "1",
        "-display",
        "none",
        "-no-reboot",
        "-kernel",
        str(kernel),
        "-initrd",
        str(initramfs),
        "-append",
        f"console=ttyS0 quiet loglevel=3 panic=-1 pihil_out={out} pihil_repo={REPO}",
        "-serial",
        f"file:{console}",
        "-chardev",
        f"udp,id=loop,host=127.0.0.1,port={port},localaddr=127.0.0.1,localport={port}",
        "-serial",
        "chardev:loop",
        "-chardev",
        gps_chardev,  # ttyS2: the emulator's GPS model (ci/kernel/gps_bridge.py)
        "-serial",
        "chardev:gps",
        "-virtfs",
        "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
        "-virtfs",
        f"local,path={out},mount_tag=out,security_model=none,multidevs=remap",
        "-device",
        "isa-debug-exit,iobase=0xf4,iosize=0x04",
        "-monitor",
        "none",
    ]


def sim_twin_command(out: Path) -> list[str]:
    """The twin selection on the emulator, the same profile by path (runs beside the guest)."""
    return [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "-rA",
        "--hil-target=sim",
        f"--hil-board={PROFILE}",
        f"--junitxml={out / 'twin-sim-junit.xml'}",
        f"--hil-report-dir={out / 'sim-reports'}",
        TWIN_SELECTION,
    ]


def boot(args: list[str]) -> int:
    """Run the selection in the guest (and, for the default selection, the twin selection on
    the emulator beside it); return pytest's exit code in the guest (or 3 for a guest that did
    not report one)."""
    paths = kernel_setup.setup()
    out = out_dir()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / "run.sh").write_text(guest_script(out, args))
    console = out / "console.log"
    bridge = GpsBridge()
    bridge.write_record(out / "gps.json")
    cmd = qemu_command(paths["kernel"], paths["initramfs"], out, console, bridge.chardev())
    sim: subprocess.Popen[bytes] | None = None
    if not args:  # the twin table wants both sides
        with open(out / "twin-sim.log", "wb") as sim_log:
            sim = subprocess.Popen(
                sim_twin_command(out),
                cwd=REPO,
                stdout=sim_log,
                stderr=subprocess.STDOUT,
                env={
                    **os.environ,
                    "HYPOTHESIS_PROFILE": os.environ.get("HYPOTHESIS_PROFILE", "ci"),
                },
            )
    start = time.monotonic()
    bridge.start()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=GUEST_TIMEOUT_S)
    except FileNotFoundError as exc:
        raise kernel_setup.SetupError(
            "qemu-system-x86_64 is not installed: apt-get install qemu-system-x86"
        ) from exc
    except subprocess.TimeoutExpired:
        log = console.read_text(errors="replace") if console.exists() else ""
        print(log[-3000:], file=sys.stderr)
        progress = out / "guest-pytest.log"
        if progress.exists():
            print(progress.read_text(errors="replace")[-3000:], file=sys.stderr)
        raise kernel_setup.SetupError(
            f"the guest did not power off within {GUEST_TIMEOUT_S:.0f} s (console above; "
            "PIHIL_KERNEL_TIMEOUT sets the limit)"
        ) from None
    finally:
        bridge.stop()
        if sim is not None:
            _finish_sim(sim, out)
    elapsed = time.monotonic() - start
    log = console.read_text(errors="replace") if console.exists() else ""
    print(log[-4000:])
    print(
        f"gps bridge: {bridge.sent} characters sent to ttyS2, {bridge.dropped} dropped before "
        f"the guest listened" + (f"; error: {bridge.error}" if bridge.error else "")
    )
    if done.returncode % 2 == 0:  # not through isa-debug-exit
        raise kernel_setup.SetupError(
            f"QEMU exited {done.returncode} without the guest's exit code "
            f"({done.stderr.strip()[-800:] or 'see the console above'})"
        )
    code = (done.returncode - 1) // 2
    print(
        f"kernel tier: guest ran {' '.join(args or DEFAULT_SELECTION)} in {elapsed:.1f} s, "
        f"pytest exit {code}; JUnit in {out / 'guest-junit.xml'}"
    )
    if code >= 120:
        raise kernel_setup.SetupError(f"the guest's set-up failed (exit {code}): see the console")
    return code


def _finish_sim(sim: subprocess.Popen[bytes], out: Path) -> None:
    """Wait for the emulator's twin run (it is much faster than the guest) and say how it went."""
    try:
        code = sim.wait(timeout=SIM_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        sim.kill()
        sim.wait()
        code = -1
    tail = (out / "twin-sim.log").read_text(errors="replace").strip().splitlines()[-1:]
    print(
        f"twin selection on the emulator: exit {code} ({' '.join(tail)}); JUnit in "
        f"{out / 'twin-sim-junit.xml'}"
    )


def main(argv: list[str]) -> int:
    try:
        code = boot(argv)
    except kernel_setup.SetupError as exc:
        print(f"kernel tier failed: {exc}", file=sys.stderr)
        return 2
    # the host-side step judges the JUnit; a guest with failing tests still ran
    return 0 if code in (0, 1) else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
