"""Board profiles (YAML, validated) and pin-name resolution.

``profile_names()`` lists the shipped boards; ``load_profile(name_or_path)`` returns a
validated `BoardProfile` or raises `ProfileError(file, key, expected)`.
"""

from .pins import HeaderPin, PinInfo, PinMap
from .profile import (
    PARTS,
    PROFILES_DIR,
    BoardProfile,
    BusSpec,
    DeviceSpec,
    HeaderSpec,
    JumperSpec,
    PullSpec,
    is_profile_path,
    load_profile,
    profile_names,
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
