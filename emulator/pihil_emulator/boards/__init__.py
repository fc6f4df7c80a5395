"""Board profiles (YAML, validated) and pin-name resolution.

``profile_names()`` lists the shipped boards; ``load_profile(name_or_path)`` returns a
validated `BoardProfile` or raises `ProfileError(file, key, expected)`. The parts: `schema`
(what a profile holds), `loader` (YAML, ``extends:``, the cache), `resolve` (pins, buses, boot
state), `build` (devices and the whole profile).
"""

from .loader import PROFILES_DIR, is_profile_path, load_profile, profile_names
from .pins import HeaderPin, PinInfo, PinMap
from .schema import (
    PARTS,
    BoardProfile,
    BusSpec,
    DeviceSpec,
    HeaderSpec,
    JumperSpec,
    PullSpec,
)

__all__ = [
    "PARTS",
    "PROFILES_DIR",
    "BoardProfile",
    "BusSpec",
    "DeviceSpec",
    "HeaderPin",
    "HeaderSpec",
    "JumperSpec",
    "PinInfo",
    "PinMap",
    "PullSpec",
    "is_profile_path",
    "load_profile",
    "profile_names",
]
