"""The labgrid resource, driver registration and the reservation glue's checks, without
a coordinator (the farm itself is tests/farm/test_farm.py)."""

from __future__ import annotations

import pytest

pytest.importorskip("labgrid", reason="the farm tests need labgrid: tox -e farm")

from labgrid import Target
from labgrid.factory import target_factory

from pytest_pihil.labgrid import PihilAgent, PihilBoardDriver
from pytest_pihil.labgrid.resource import visa_resource
from pytest_pihil.labgrid.session import LabgridError, parse_tags


def test_registered_with_labgrid_by_name() -> None:
    """An environment YAML names them: target_factory knows both classes by name."""
    assert target_factory.resources["PihilAgent"] is PihilAgent
    assert target_factory.drivers["PihilBoardDriver"] is PihilBoardDriver


def test_the_driver_gives_the_agents_resource_and_export_vars() -> None:
    target = Target("t")
    PihilAgent(target, None, host="[::1]", port=5101, board="mirkopc", emulated=True)
    driver = PihilBoardDriver(target, None)
    target.activate(driver)
    assert driver.resource == "TCPIP::[::1]::5101::SOCKET"
    assert target.export() == {
        "LG__PIHILBOARDDRIVER_RESOURCE": "TCPIP::[::1]::5101::SOCKET",
        "LG__PIHILBOARDDRIVER_BOARD": "mirkopc",
        "LG__PIHILBOARDDRIVER_EMULATED": "1",
    }
    target.deactivate(driver)
    assert driver.resource is None


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"host": "pi", "port": 0}, "port must be 1..65535"),
        ({"host": "pi", "port": 70000}, "port must be 1..65535"),
        ({"host": "pi", "port": True}, "port must be 1..65535"),
        ({"host": "pi", "port": "5025"}, "must be <class 'int'>"),
        ({"host": 5}, "must be <class 'str'>"),
        ({"host": "::1"}, "IPv6 one in brackets"),
        ({"host": " "}, "a name or an address"),
        ({"host": "pi", "emulated": "yes"}, "must be <class 'bool'>"),
    ],
)
def test_bad_resource_fields_are_refused(fields: dict[str, object], match: str) -> None:
    with pytest.raises((TypeError, ValueError), match=match):
        PihilAgent(Target("t"), None, **fields)


def test_visa_resource_brackets_ipv6() -> None:
    assert visa_resource("pi4-lab1.lab", 5025) == "TCPIP::pi4-lab1.lab::5025::SOCKET"
    assert visa_resource("[fe80::1]", 5025) == "TCPIP::[fe80::1]::5025::SOCKET"


def test_reservation_tags_are_checked() -> None:
    assert parse_tags("board=mirkopc, rack=2") == {"board": "mirkopc", "rack": "2"}
    for bad in ("", "board", "Board=x", "board=a b=", "board=x;y"):
        with pytest.raises(LabgridError, match="give tags as key=value"):
            parse_tags(bad)
