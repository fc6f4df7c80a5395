"""Board profiles: the names of the former single module, re-exported from where they live.

The profile loader is three parts: the schema (`pihil_emulator.boards.schema`: the frozen
`BoardProfile` and its parts, the keys a file may have, the field checks), the reading of the
YAML files with ``extends:`` and the cache (`pihil_emulator.boards.loader`), and the
resolution of pins, buses and boot state (`pihil_emulator.boards.resolve`) with the devices
and the whole profile (`pihil_emulator.boards.build`). This module keeps the imports
``pihil_emulator.boards.profile.<name>`` of earlier code working; new code imports from
`pihil_emulator.boards` or from the part itself.
"""

from __future__ import annotations

from ..errors import ProfileError
from .build import build_profile, device_registry
from .loader import (
    PROFILE_CACHE_SIZE,
    PROFILES_DIR,
    _load_merged,
    clear_profile_cache,
    is_profile_path,
    load_profile,
    profile_names,
)
from .schema import (
    I2C_GPIO,
    I2C_GPIO_DELAY_US,
    PARTS,
    BoardProfile,
    BusSpec,
    DeviceSpec,
    HeaderSpec,
    JumperSpec,
    PartInfo,
    PullSpec,
)

__all__ = [
    "I2C_GPIO",
    "I2C_GPIO_DELAY_US",
    "PARTS",
    "PROFILES_DIR",
    "PROFILE_CACHE_SIZE",
    "BoardProfile",
    "BusSpec",
    "DeviceSpec",
    "HeaderSpec",
    "JumperSpec",
    "PartInfo",
    "ProfileError",
    "PullSpec",
    "_load_merged",
    "build_profile",
    "clear_profile_cache",
    "device_registry",
    "is_profile_path",
    "load_profile",
    "profile_names",
]
