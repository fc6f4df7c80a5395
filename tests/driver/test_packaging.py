"""IVI-Python "Package Requirements", naming, versioning and the documents the core spec requires."""

from __future__ import annotations

import re
import tarfile
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

import rpiboard_pihil
from rpiboard_pihil import DRIVER_IDENTIFIER, DRIVER_VERSION, RpiBoard
from rpiboard_pihil.backends.simulated import board_infos
from rpiboard_pihil.utility import DRIVER_VENDOR, is_valid_driver_version

ROOT = Path(__file__).resolve().parents[2]
DRIVER_DIR = ROOT / "driver"
INTRO = DRIVER_DIR / f"Introduction to {DRIVER_IDENTIFIER}.md"
COMPLIANCE = DRIVER_DIR / "COMPLIANCE.md"
HELP = DRIVER_DIR / "HELP.md"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"
)


def supported_models() -> tuple[str, ...]:
    return tuple(dict.fromkeys(i.model for i in board_infos().values()))


def manufacturers() -> tuple[str, ...]:
    return tuple(dict.fromkeys(i.manufacturer for i in board_infos().values()))


# -- identity and versioning ---------------------------------------------------------------------


def test_names_follow_the_driver_identifier() -> None:
    """IVI-Python: <DriverIdentifier>, lower-case import package, distribution, root class."""
    assert DRIVER_IDENTIFIER == "RpiBoard_Pihil"
    assert rpiboard_pihil.__name__ == DRIVER_IDENTIFIER.lower()
    normalized = re.sub(r"[-_\.]+", "-", DRIVER_IDENTIFIER).lower()
    assert PYPROJECT["name"] == normalized == "rpiboard-pihil"
    assert PYPROJECT["name"].replace("-", "_") == rpiboard_pihil.__name__
    assert RpiBoard.__name__ == DRIVER_IDENTIFIER.split("_")[0]
    assert "_" not in "Board"  # the model token has no underscore


def test_version_is_semver_a_file_version_and_the_distribution_version() -> None:
    """IVI-Python "Package Versioning" (semver); IVI Driver Core "File Versioning"."""
    assert SEMVER.match(DRIVER_VERSION)
    assert is_valid_driver_version(DRIVER_VERSION)
    assert DRIVER_VERSION == PYPROJECT["version"] == metadata.version("rpiboard-pihil")
    assert rpiboard_pihil.__version__ == DRIVER_VERSION


@pytest.mark.parametrize(
    "text",
    ["1.0.0", "2.00.00", "01.02.03", "11.22.33", "5.0.1", "3.14.159", "4.0.1000.0",
     "0001.1.1.00005", "02.0001.12345.1 This version adds XYZ capability to the component",
     "65535.65535.65535.65535"],
)  # fmt: skip
def test_file_version_examples_of_the_core_spec_are_valid(text: str) -> None:
    assert is_valid_driver_version(text)


@pytest.mark.parametrize(
    "text",
    ["1.0", "1", "65536.0.0", "1.0.0.0.0", "123456.1.1", "1.0.0\tbeta", "1.0.0 caf\u00e9",
     "1.0.0 ", " 1.0.0", "v1.0.0", "1.-1.0"],
)  # fmt: skip
def test_invalid_file_versions_are_refused(text: str) -> None:
    assert not is_valid_driver_version(text)


# -- package metadata and contents ------------------------------------------------------------------


def test_keywords_hold_manufacturers_and_models_as_the_api_returns_them() -> None:
    """IVI-Python "Package Metadata": the same forms as the driver's API returns."""
    keywords = set(PYPROJECT["keywords"])
    with RpiBoard("local", options={"simulate": True}) as board:
        api_models = board.ivi_utility.supported_instrument_models
    assert api_models == supported_models()
    assert set(api_models) <= keywords
    assert set(manufacturers()) <= keywords
    for name, info in board_infos().items():
        with RpiBoard("local", options={"simulate": True, "board": name}) as b:
            assert b.ivi_utility.instrument_manufacturer == info.manufacturer
            assert b.ivi_utility.instrument_model == info.model


def test_ivi_conformant_classifier() -> None:
    assert (
        "Topic :: Scientific/Engineering :: Instrument Drivers :: IVI Conformant"
        in PYPROJECT["classifiers"]
    )


def test_py_typed_at_the_top_of_the_package() -> None:
    """IVI-Python "Package Type-Hinting": an empty py.typed at the package's top level."""
    marker = Path(rpiboard_pihil.__file__).parent / "py.typed"
    assert marker.is_file()
    assert marker.read_bytes() == b""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], list[str]]:
    from hatchling.builders.sdist import SdistBuilder
    from hatchling.builders.wheel import WheelBuilder

    out = tmp_path_factory.mktemp("dist")
    wheel = next(iter(WheelBuilder(str(ROOT)).build(directory=str(out), versions=["standard"])))
    sdist = next(iter(SdistBuilder(str(ROOT)).build(directory=str(out), versions=["standard"])))
    with zipfile.ZipFile(wheel) as z:
        wheel_names = z.namelist()
    with tarfile.open(sdist) as t:
        sdist_names = [n.split("/", 1)[1] for n in t.getnames() if "/" in n]
    return wheel_names, sdist_names


def test_wheel_and_sdist_carry_the_driver_documents(built: tuple[list[str], list[str]]) -> None:
    """IVI-Python "Package Contents": driver, README, py.typed, documentation, compliance."""
    wheel, sdist = built
    docs = [INTRO.name, HELP.name, COMPLIANCE.name]
    for doc in docs:
        assert f"rpiboard_pihil/{doc}" in wheel
        assert f"driver/{doc}" in sdist
    assert "rpiboard_pihil/py.typed" in wheel
    assert "rpiboard_pihil/__init__.py" in wheel
    assert "README.md" in sdist
    assert any(n.endswith(".dist-info/METADATA") for n in wheel)  # the README is its description


# -- the documents --------------------------------------------------------------------------------


def test_introduction_has_the_sections_the_core_spec_names() -> None:
    """IVI Driver Core "Driver Introduction Documentation": file name and sections."""
    text = INTRO.read_text()
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    for section in (
        "Driver Documentation",
        "Driver Source Code and Examples",
        "Connecting to the Instrument",
        "Configuring Instrument Settings",
        "Configuring Driver Settings",
        "Known Issues",
        "Contacting Support",
    ):
        assert section in headings
    for doc in (HELP.name, COMPLIANCE.name):
        assert doc in text


def test_compliance_document_items_match_the_api() -> None:
    """IVI Driver Core "Compliance Documentation": sections, items, and the API's values."""
    text = COMPLIANCE.read_text()
    for section in (
        "Compliance Category",
        "Driver Identification",
        "Hardware Information",
        "Software Prerequisites",
        "Unit Testing",
        "Driver Installation Testing",
        "Driver Buildability",
        "Driver Test Failures",
    ):
        assert f"## {section}" in text
    for item in (
        "Driver Version",
        "Driver Vendor",
        "Driver Bitness",
        "Source Code",
        "Instrument Manufacturer",
        "Supported Instrument Models",
        "Supported Bus Interfaces",
        "Supported Operating Systems",
        "Driver Dependencies",
        "Instrument Model (Firmware Version)",
        "Bus Interface",
        "Operating System",
        "Known Issues",
    ):
        assert f"**{item}:**" in text
    assert "IVI Driver Core Specification" in text
    assert "IVI Driver Python Specification" in text
    flat = " ".join(text.split())
    assert f"**Driver Version:** {DRIVER_VERSION}" in flat
    assert f"**Driver Vendor:** {DRIVER_VENDOR}" in flat
    listed = flat.split("**Supported Instrument Models:** ", 1)[1].split(" - ", 1)[0]
    assert sorted(m.strip() for m in listed.split(", ")) == sorted(supported_models())
    for manufacturer in manufacturers():
        assert manufacturer in flat.split("**Instrument Manufacturer:**", 1)[1].split("\n")[0]


def test_readme_has_the_ivi_sections_and_the_compliance_text() -> None:
    """IVI Driver Core "README.md Documentation"; IVI-Python: where the documentation is."""
    readme = (ROOT / "README.md").read_text()
    assert readme.startswith("# pihil")
    assert INTRO.name in readme
    assert HELP.name in readme
    body = COMPLIANCE.read_text().split("\n", 1)[1].strip()
    demoted = re.sub(r"^(#+) ", lambda m: "#" + m.group(1) + " ", body, flags=re.M)
    assert demoted in readme, "README's compliance text differs from driver/COMPLIANCE.md"


def test_help_carries_the_ivi_copyright_notice() -> None:
    """IVI Driver Core "Copyright Notice", in a visible place of the help documentation."""
    flat = " ".join(HELP.read_text().split())
    assert (
        "Content from the IVI specifications reproduced with permission from the IVI Foundation."
        in flat
    )
    assert (
        "The IVI Foundation and its member companies make no warranty of any kind with regard "
        "to this material" in flat
    )


def test_help_documents_every_public_member() -> None:
    """IVI Driver Core "Help Documentation": every method and property is documented."""
    from sim_helpers import public_members
    from test_conformance import API_CLASSES, MAPPING_METHODS

    text = HELP.read_text()
    missing = [
        f"{cls_name}.{m}"
        for cls_name, cls in API_CLASSES.items()
        if not cls_name.endswith("Collection")
        for m in public_members(cls) - MAPPING_METHODS
        if f"`{m}" not in text
    ]
    assert not missing, f"not in HELP.md: {missing}"
