"""Option parsing: the TypedDict form and the IVI option-string form, with errors that list what is valid."""

from __future__ import annotations

import pytest

from rpiboard_pihil.errors import OptionError
from rpiboard_pihil.options import Options, ResolvedOptions, parse_options

BOARDS = ("rpi-b-rev1", "rpi-4b", "mirkopc")


def test_defaults_simulation_off() -> None:
    """IVI Driver Core "Initialization": by default Simulate shall be false."""
    assert parse_options(None, boards=BOARDS) == ResolvedOptions()
    assert parse_options({}, boards=BOARDS).simulate is False
    assert parse_options("", boards=BOARDS).query_instrument_status is False


def test_typed_dict_form() -> None:
    opts: Options = {
        "simulate": True,
        "board": "rpi-4b",
        "seed": 7,
        "query_instrument_status": True,
    }
    r = parse_options(opts, boards=BOARDS)
    assert (r.simulate, r.board, r.seed, r.query_instrument_status) == (True, "rpi-4b", 7, True)


def test_option_string_form_is_equivalent() -> None:
    r = parse_options(
        "Simulate=True, Board=mirkopc, Seed=0x10, QueryInstrStatus=1, "
        "Devices=uart0:/dev/ttyUSB0;i2c1:/dev/i2c-1",
        boards=BOARDS,
    )
    assert r == ResolvedOptions(
        simulate=True,
        board="mirkopc",
        seed=16,
        query_instrument_status=True,
        devices={"uart0": "/dev/ttyUSB0", "i2c1": "/dev/i2c-1"},
    )
    assert parse_options("simulate = false , query_instrument_status=TRUE", boards=BOARDS) == (
        ResolvedOptions(simulate=False, query_instrument_status=True)
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"simulation": True},
            r"unknown option 'simulation'; valid options: simulate \(bool\), board",
        ),
        ({"simulate": 1}, r"option 'simulate' must be a bool .* got 1 \(int\)"),
        ({"seed": "3"}, r"option 'seed' must be an int"),
        ({"seed": True}, r"option 'seed' must be an int"),
        ({"seed": -1}, r"zero or positive"),
        ({"board": "pi5"}, r"unknown board 'pi5'; known boards: rpi-b-rev1, rpi-4b, mirkopc"),
        ({"board": 4}, r"option 'board' must be a str naming a board profile \(rpi-b-rev1"),
        ({"devices": {"uart0": 3}}, r"option 'devices' must be a dict"),
        ("Simulate=yes", r"takes True, False, 1 or 0; got 'yes'"),
        ("Simulate", r"is not Key=Value"),
        ("Cache=True", r"unknown option 'Cache' in option string; valid keys: Simulate, Board"),
        ("Simulate=1, simulate=0", r"given twice"),
        ("Seed=x", r"takes an integer; got 'x'"),
        ("Devices=uart0", r"name:path pairs"),
        (42, r"options must be a dict \(Options\), an option string"),
    ],
)
def test_bad_options_are_rejected_with_what_is_valid(options: object, message: str) -> None:
    with pytest.raises(OptionError, match=message):
        parse_options(options, boards=BOARDS)  # type: ignore[arg-type]


def test_option_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"unknown option"):
        parse_options({"bogus": 1}, boards=BOARDS)
