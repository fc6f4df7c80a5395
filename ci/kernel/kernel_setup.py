"""Set up the kernel tier: a Debian bookworm kernel, gpio-sim.ko and an initramfs, in a cache.

What it does (issue 15), every step bounded by a timeout and failing with a message that says
what to do:

1. ``apt-get install qemu-system-x86 busybox-static gcc make`` when they are missing (root).
2. ``apt-get download`` of the PINNED kernel packages (``linux-image-<ABI>-amd64``, its
   ``linux-headers-*``, ``linux-kbuild-6.1``, ``linux-source-6.1``) into the cache, unpacked there
   with ``dpkg -x`` (nothing is installed into the host's /boot or /lib/modules).
3. ``gpio-sim.ko`` built out of tree from the source package's ``drivers/gpio/gpio-sim.c`` with
   ``kernel/irq/irq_sim.c`` folded in (Debian sets neither CONFIG_GPIO_SIM nor CONFIG_IRQ_SIM)
   and one change: ``irq_to_desc`` is not exported to modules, so
   ``handle_simple_irq(irq_to_desc(irqnum))`` becomes ``generic_handle_irq(irqnum)``.
4. An initramfs (busybox-static, the modules, ci/kernel/init.sh as /init).

The cache is ``$PIHIL_KERNEL_CACHE`` or ``~/.cache/pihil-kernel``; what is there is reused.
Moving the pin: docs/kernel-tier.md ("Moving the kernel").
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

# -- the pin -------------------------------------------------------------------------------
KERNEL_ABI = "6.1.0-57"
"""The Debian ABI name (linux-image-<ABI>-amd64)."""
KERNEL_VERSION = "6.1.192-3"
"""The Debian package version of that ABI and of linux-kbuild-6.1 / linux-source-6.1."""

HERE = Path(__file__).resolve().parent
PACKAGES = (
    f"linux-image-{KERNEL_ABI}-amd64",
    f"linux-headers-{KERNEL_ABI}-amd64",
    f"linux-headers-{KERNEL_ABI}-common",
    "linux-kbuild-6.1",
    "linux-source-6.1",
)
HOST_TOOLS = {
    "qemu-system-x86_64": "qemu-system-x86",
    "busybox": "busybox-static",
    "gcc": "gcc",
    "make": "make",
}
# the modules the guest loads, in this order (issue 15: the order that worked)
GUEST_MODULES = (
    "drivers/virtio/virtio_ring.ko",
    "drivers/virtio/virtio.ko",
    "drivers/virtio/virtio_pci_legacy_dev.ko",
    "drivers/virtio/virtio_pci_modern_dev.ko",
    "drivers/virtio/virtio_pci.ko",
    "net/9p/9pnet.ko",
    "net/9p/9pnet_virtio.ko",
    "fs/netfs/netfs.ko",
    "fs/fscache/fscache.ko",
    "fs/9p/9p.ko",
    "fs/configfs/configfs.ko",
    "drivers/i2c/i2c-dev.ko",
    "drivers/i2c/i2c-stub.ko",
)
SOURCE_FILES = ("drivers/gpio/gpio-sim.c", "drivers/gpio/gpiolib.h", "kernel/irq/irq_sim.c")


class SetupError(RuntimeError):
    """A step of the set-up failed; the message says what to do."""


def cache_dir() -> Path:
    return Path(os.environ.get("PIHIL_KERNEL_CACHE", "~/.cache/pihil-kernel")).expanduser()


def run(cmd: list[str], what: str, timeout: float, cwd: Path | None = None) -> str:
    """Run ``cmd`` within ``timeout`` seconds, or raise SetupError naming ``what``."""
    try:
        done = subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError as exc:
        raise SetupError(f"{what}: {cmd[0]} is not installed ({exc})") from exc
    except subprocess.TimeoutExpired as exc:
        raise SetupError(f"{what}: `{' '.join(cmd)}` took more than {timeout:.0f} s") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise SetupError(f"{what}: `{' '.join(cmd)}` exited {done.returncode}:\n{tail}")
    return done.stdout


def ensure_host_tools() -> None:
    missing = [pkg for tool, pkg in HOST_TOOLS.items() if shutil.which(tool) is None]
    if not Path("/bin/busybox").exists() and "busybox-static" not in missing:
        missing.append("busybox-static")
    if not missing:
        return
    if os.geteuid() != 0:
        raise SetupError(
            f"the kernel tier needs {', '.join(missing)}; run as root (apt-get install) or "
            f"install them yourself: apt-get install {' '.join(missing)}"
        )
    if shutil.which("apt-get") is None:
        raise SetupError(
            f"no apt-get on this machine: install {', '.join(missing)} with its package manager"
        )
    env_cmd = ["env", "DEBIAN_FRONTEND=noninteractive"]
    run([*env_cmd, "apt-get", "update", "-q"], "apt-get update", 120)
    run(
        [*env_cmd, "apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
        f"apt-get install {' '.join(missing)}",
        300,
    )


def _static_busybox() -> Path:
    for p in (Path("/bin/busybox"), Path("/usr/bin/busybox")):
        if p.exists():
            out = run(["file", "-L", str(p)], "file busybox", 10) if shutil.which("file") else ""
            if not out or "statically linked" in out or "static-pie" in out:
                return p
    raise SetupError("no static busybox: apt-get install busybox-static")


def download(cache: Path) -> Path:
    """The .deb files of the pin in ``cache/debs`` (downloaded once)."""
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    for pkg in PACKAGES:
        if any(debs.glob(f"{pkg}_*.deb")):
            continue
        if shutil.which("apt-get") is None:
            raise SetupError("no apt-get: the kernel tier downloads Debian packages with it")
        try:
            run(
                ["apt-get", "download", "-q", f"{pkg}={KERNEL_VERSION}"],
                f"downloading {pkg}={KERNEL_VERSION}",
                240,
                cwd=debs,
            )
        except SetupError as exc:
            raise SetupError(
                f"{exc}\nIs {pkg} {KERNEL_VERSION} still in the archive? (`apt-get update` "
                "first; if bookworm moved on, move the pin: docs/kernel-tier.md)"
            ) from exc
    return debs


def unpack(cache: Path, debs: Path) -> Path:
    root = cache / "root"
    stamp = root / ".unpacked"
    if stamp.exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    for deb in sorted(debs.glob("*.deb")):
        if deb.name.startswith("linux-source-6.1"):
            continue
        run(["dpkg", "-x", str(deb), str(root)], f"unpacking {deb.name}", 120)
    src = next(debs.glob("linux-source-6.1_*.deb"))
    tmp = cache / "src-deb"
    if not (tmp / ".done").exists():
        tmp.mkdir(exist_ok=True)
        run(["dpkg", "-x", str(src), str(tmp)], f"unpacking {src.name}", 120)
        (tmp / ".done").touch()
    tarball = next((tmp / "usr/src").glob("linux-source-6.1.tar.*"))
    wanted = {f"linux-source-6.1/{f}": f for f in SOURCE_FILES}
    out = cache / "gpio-sim-src"
    out.mkdir(exist_ok=True)
    # only three files from the 139 MB tarball; stream it (xz: the tar module reads it)
    with tarfile.open(tarball, "r:*") as tar:
        for member in tar:
            name = wanted.get(member.name)
            if name is None:
                continue
            data = tar.extractfile(member)
            assert data is not None
            (out / Path(name).name).write_bytes(data.read())
            del wanted[member.name]
            if not wanted:
                break  # the rest of the tarball is not needed
    missing = [f for f in SOURCE_FILES if not (out / Path(f).name).exists()]
    if missing:
        raise SetupError(f"{tarball.name} lacks {', '.join(missing)}")
    stamp.touch()
    return root


def build_gpio_sim(cache: Path, root: Path) -> Path:
    ko = cache / "gpio-sim-src" / "gpio-sim.ko"
    if ko.exists():
        return ko
    src = cache / "gpio-sim-src"
    text = (src / "irq_sim.c").read_text()
    old = "handle_simple_irq(irq_to_desc(irqnum));"
    if old not in text:
        raise SetupError(f"irq_sim.c no longer has `{old}`: the fold-in needs a new change")
    (src / "irq_sim_mod.c").write_text(text.replace(old, "generic_handle_irq(irqnum);"))
    (src / "Kbuild").write_text(
        "obj-m := gpio-sim.o\ngpio-sim-y := gpio-sim-core.o irq_sim_mod.o\nccflags-y := -I$(src)\n"
    )
    shutil.copy(src / "gpio-sim.c", src / "gpio-sim-core.c")
    kdir = root / "usr/src" / f"linux-headers-{KERNEL_ABI}-amd64"
    # the headers package's scripts link to linux-kbuild-6.1 under /usr/lib: use the unpacked one
    make = [
        "make",
        "-C",
        str(kdir),
        f"M={src}",
        "modules",
    ]
    # the headers' Makefile includes the common headers by their absolute /usr/src path: point
    # it at the unpacked copy (scripts/ and tools/ are relative links, already inside the cache)
    common = root / "usr/src" / f"linux-headers-{KERNEL_ABI}-common"
    (kdir / "Makefile").write_text(f"include {common}/Makefile\n")
    run(make, "building gpio-sim.ko", 300)
    if not ko.exists():
        raise SetupError("make succeeded but gpio-sim.ko is missing")
    return ko


def make_initramfs(cache: Path, root: Path, ko: Path) -> Path:
    image = cache / "initramfs.cpio.gz"
    init = (HERE / "init.sh").read_bytes()
    moddir = root / "lib/modules" / f"{KERNEL_ABI}-amd64/kernel"
    files: dict[str, bytes] = {"init": init, "bin/busybox": _static_busybox().read_bytes()}
    for rel in GUEST_MODULES:
        path = moddir / rel
        comp = [p for p in (path, Path(str(path) + ".xz")) if p.exists()]
        if not comp:
            raise SetupError(f"the kernel package has no {rel}")
        data = comp[0].read_bytes()
        if comp[0].suffix == ".xz":
            import lzma

            data = lzma.decompress(data)
        files[f"lib/mod/{Path(rel).name}"] = data
    files["lib/mod/gpio-sim.ko"] = ko.read_bytes()
    buf = io.BytesIO()
    ino = 1
    dirs = sorted(
        {str(a) for n in files for a in Path(n).parents if str(a) != "."}
        | {"proc", "sys", "dev", "mnt"}
    )
    entries: list[tuple[str, int, bytes]] = [(d, 0o040755, b"") for d in dirs]
    entries += [(n, 0o100755, d) for n, d in files.items()]
    for name, mode, data in [*entries, ("TRAILER!!!", 0, b"")]:
        raw = name.encode() + b"\0"
        hdr = "070701" + "".join(
            f"{v:08x}" for v in (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(raw), 0)
        )
        ino += 1
        buf.write(hdr.encode() + raw)
        buf.write(b"\0" * (-(110 + len(raw)) % 4))
        buf.write(data)
        buf.write(b"\0" * (-len(data) % 4))
    image.write_bytes(gzip.compress(buf.getvalue(), compresslevel=1))
    return image


def setup() -> dict[str, Path]:
    """Everything the guest needs; returns the kernel, initramfs and dtb paths."""
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    ensure_host_tools()
    debs = download(cache)
    root = unpack(cache, debs)
    ko = build_gpio_sim(cache, root)
    initramfs = make_initramfs(cache, root, ko)
    kernel = root / "boot" / f"vmlinuz-{KERNEL_ABI}-amd64"
    return {"kernel": kernel, "initramfs": initramfs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    try:
        paths = setup()
    except SetupError as exc:
        print(f"kernel tier set-up failed: {exc}", file=sys.stderr)
        return 2
    for k, v in paths.items():
        print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
