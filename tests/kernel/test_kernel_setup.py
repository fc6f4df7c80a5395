"""Host-side checks of ci/kernel/kernel_setup.py: each step that cannot be done says what to do.

No apt, no root, no qemu, a download that fails, a command that hangs: these run on the host
(not in the guest) and touch nothing (the environment is faked with monkeypatch).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "ci" / "kernel"))
import kernel_setup as ks  # ci/kernel/kernel_setup.py


def _no_tools(monkeypatch: pytest.MonkeyPatch, *, root: bool, apt: bool) -> None:
    def which(name: str) -> str | None:
        return "/usr/bin/apt-get" if (name == "apt-get" and apt) else None

    monkeypatch.setattr(ks.shutil, "which", which)
    monkeypatch.setattr(ks.os, "geteuid", lambda: 0 if root else 1000)


def test_missing_tools_without_root_name_the_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_tools(monkeypatch, root=False, apt=True)
    with pytest.raises(ks.SetupError, match=r"qemu-system-x86.*run as root.*apt-get install"):
        ks.ensure_host_tools()


def test_missing_tools_without_apt(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_tools(monkeypatch, root=True, apt=False)
    with pytest.raises(ks.SetupError, match=r"no apt-get on this machine: install"):
        ks.ensure_host_tools()


def test_a_command_that_is_missing_or_hangs_or_fails() -> None:
    with pytest.raises(ks.SetupError, match=r"probe: no-such-tool-pihil is not installed"):
        ks.run(["no-such-tool-pihil"], "probe", 5)
    with pytest.raises(ks.SetupError, match=r"took more than 0 s"):
        ks.run([sys.executable, "-c", "import time; time.sleep(5)"], "probe", 0.2)
    with pytest.raises(ks.SetupError, match=r"exited 3:\nboom"):
        ks.run([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"], "probe", 10)


def test_a_failed_download_says_to_move_the_pin(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(ks.shutil, "which", lambda name: "/usr/bin/apt-get")

    def run(cmd: list[str], what: str, timeout: float, cwd: Path | None = None) -> str:
        raise ks.SetupError(f"{what}: `{' '.join(cmd)}` exited 100:\nE: Can't find package")

    monkeypatch.setattr(ks, "run", run)
    with pytest.raises(ks.SetupError, match=r"still in the archive.*move the pin"):
        ks.download(tmp_path)


def test_the_cache_folder_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PIHIL_KERNEL_CACHE", str(tmp_path / "k"))
    assert ks.cache_dir() == tmp_path / "k"
    monkeypatch.delenv("PIHIL_KERNEL_CACHE")
    assert ks.cache_dir() == Path.home() / ".cache/pihil-kernel"


def _kernel_sim_copy(tmp_path: Path) -> Path:
    """ci/kernel/kernel-sim.yaml next to its base (``extends`` reads the same folder)."""
    repo = Path(__file__).resolve().parents[2]
    shutil.copy(repo / "emulator/pihil_emulator/boards/profiles/_j8-40.yaml", tmp_path)
    return Path(shutil.copy(repo / "ci/kernel/kernel-sim.yaml", tmp_path))


def test_the_kernel_sim_profile_loads_in_the_emulator(tmp_path: Path) -> None:
    """The guest's board is an emulator board too: loaded by path (it is not shipped)."""
    from pihil_emulator.board import Board
    from pihil_emulator.boards import load_profile, profile_names
    from rpiboard_pihil.backends.simulated import describe_board

    assert "kernel-sim" not in profile_names()
    path = _kernel_sim_copy(tmp_path)
    profile = load_profile(path)
    info = describe_board(profile)
    assert (info.model, info.soc, info.kernel_models) == (
        "pihil kernel-sim",
        "BCM2711",
        ("pihil kernel-sim",),
    )
    i2c0 = next(b for b in info.i2c_buses if b.name == "i2c0")
    assert i2c0.linux_device == "/dev/i2c-0"  # i2c-stub, the guest's only adapter
    assert [u.linux_device for u in info.uarts] == ["/dev/ttyS1"]  # QEMU's second 16550
    board = Board.from_profile(path)
    assert board.profile.name == "kernel-sim"
