"""Held-back cases from the postal authorities, ICAO 9303 and company-name rules.

Each table holds, per class, statements an honest caller makes (they match)
and statements of another place or party (they never match: PRODUCT.md
section 4, "Never a stranger"). The source of each case is named beside it.
A match is checked both ways round (the addresses have the same components
filled, so matching is symmetric there).
"""

from __future__ import annotations

import pytest

from verification.address import Address, match_address
from verification.names import match_name
from verification.organization import match_organization


def _au(line1: str, line2: str = "") -> Address:
    return Address(line1, line2, "Sydney", "NSW", "2000", "AU")


def _glasgow(line1: str, line2: str = "") -> Address:
    return Address(line1, line2, "Glasgow", "", "G12 8QQ", "GB")


def _us(line1: str, line2: str = "") -> Address:
    return Address(line1, line2, "Springfield", "IL", "62704", "US")


def _montreal(line1: str, line2: str = "") -> Address:
    return Address(line1, line2, "Montréal", "QC", "H2X 1Y4", "CA")


def _toronto(line1: str, line2: str = "") -> Address:
    return Address(line1, line2, "Toronto", "ON", "M5V 2T6", "CA")


def _berlin(line1: str, line2: str = "") -> Address:
    return Address(line1, line2, "Berlin", "", "10115", "DE")


def _copenhagen(line1: str) -> Address:
    return Address(line1, "", "København", "", "1150", "DK")


# (source, stated, on file)
ADDRESS_MATCHES = [
    # Unit/number slashes: "3/12" is unit 3 of number 12.
    ("Australia Post: unit/number slash", _au("3/12 Smith St"), _au("3/12 Smith Street")),
    ("Australia Post: Unit 3, 12 = 3/12", _au("Unit 3, 12 Smith Street"), _au("3/12 Smith St")),
    ("Australia Post: unit on line 2", _au("12 Smith St", "Unit 3"), _au("3/12 Smith St")),
    (
        "Royal Mail: Glasgow flat position",
        _glasgow("10 Byres Road", "Flat 2/1"),
        _glasgow("Flat 2/1, 10 Byres Rd"),
    ),
    ("USPS Pub 28: fractional address", _us("123 1/2 Main Street"), _us("123 1/2 Main St")),
    # Ordinal words in street names.
    ("USPS Pub 28: numbered street", _us("1 Fifth Avenue"), _us("1 5th Ave")),
    ("USPS Pub 28: numbered street, compound", _us("100 Twenty-First St"), _us("100 21st Street")),
    ("Canada Post: numbered street", _toronto("100 Fifth Avenue"), _toronto("100 5th Ave")),
    # Rural routes and post office boxes.
    ("USPS Pub 28 ch. 2: rural route", _us("Rural Route 2 Box 152"), _us("RR 2 Box 152")),
    ("USPS Pub 28 ch. 2: rural route", _us("R R 2 Box 152"), _us("RR 2 Box 152")),
    ("USPS Pub 28 ch. 2: rural route", _us("R.R. 2, Box 152"), _us("Rural Route 2 Box 152")),
    ("USPS Pub 28 ch. 2: PO box", _us("Post Office Box 12"), _us("PO Box 12")),
    ("USPS Pub 28 ch. 2: PO box", _us("POB 12"), _us("P.O. Box 12")),
    ("USPS Pub 28 ch. 2: PO box", _us("P O Box 12"), _us("Post Office Box 12")),
    # Canadian French street types and directions, unit-civic numbers.
    (
        "Canada Post: boul",
        _montreal("1000 boul. Saint-Laurent"),
        _montreal("1000 boulevard Saint-Laurent"),
    ),
    ("Canada Post: av", _montreal("200 av. du Parc"), _montreal("200 avenue du Parc")),
    ("Canada Post: ch", _montreal("12 ch. des Bois"), _montreal("12 chemin des Bois")),
    (
        "Canada Post: Ouest = O",
        _montreal("50 rue Sherbrooke O"),
        _montreal("50 rue Sherbrooke Ouest"),
    ),
    ("Canada Post: Est = E", _montreal("50 rue Sherbrooke E"), _montreal("50, rue Sherbrooke Est")),
    (
        "Canada Post: Nord = N, Sud = S",
        _montreal("7 av. Papineau N"),
        _montreal("7 avenue Papineau Nord"),
    ),
    (
        "Canada Post: Nord-Est = NE",
        _montreal("7 av. Papineau NE"),
        _montreal("7 avenue Papineau Nord-Est"),
    ),
    (
        "Canada Post: English form",
        _montreal("1000 St Laurent Blvd"),
        _montreal("1000 boul. Saint-Laurent"),
    ),
    ("Canada Post: unit-civic", _toronto("345 Main St Unit 12"), _toronto("12-345 Main St")),
    ("Canada Post: unit-civic", _toronto("Unit 12, 345 Main Street"), _toronto("12-345 Main St")),
    ("Canada Post: unit-civic", _toronto("345 Main St", "Apt 12"), _toronto("12 - 345 Main St")),
    ("Canada Post: unit-civic", _toronto("345 Main St #12"), _toronto("12-345 Main St")),
    # "Saint"/"St" before a name outside the US.
    ("Canada Post: St-", _montreal("1000 boul. St-Laurent"), _montreal("1000 boul. Saint-Laurent")),
    ("Canada Post: St ", _montreal("1000 boul St Laurent"), _montreal("1000 boul. Saint-Laurent")),
    ("Canada Post: Ste-", _montreal("1 rue Ste-Catherine"), _montreal("1 rue Sainte-Catherine")),
    ("Royal Mail: St before a name", _glasgow("12 St Johns Road"), _glasgow("12 Saint Johns Road")),
    ("Australia Post: St before a name", _au("100 St Kilda Rd"), _au("100 Saint Kilda Road")),
    ("Royal Mail: St after a name", _glasgow("45 King St"), _glasgow("45 King Street")),
    # German house numbers.
    ("Deutsche Post: spaced suffix", _berlin("Hauptstraße 5 a"), _berlin("Hauptstr. 5a")),
    ("Deutsche Post: suffix case", _berlin("Hauptstrasse 5A"), _berlin("Hauptstraße 5a")),
    ("Deutsche Post: number first", _berlin("5a Hauptstraße"), _berlin("Hauptstraße 5a")),
    (
        "Deutsche Post: number first",
        _berlin("135 Straße des 17. Juni"),
        _berlin("Straße des 17. Juni 135"),
    ),
    # Letters with no decomposition (ICAO 9303 Part 3).
    ("ICAO 9303: ø = oe", _copenhagen("Søndergade 5"), _copenhagen("Soendergade 5")),
    ("ICAO 9303: ø = o", _copenhagen("Sondergade 5"), _copenhagen("Søndergade 5")),
    ("ICAO 9303: æ = ae", _copenhagen("Aebeltoftvej 5"), _copenhagen("Æbeltoftvej 5")),
]

ADDRESS_MISSES = [
    ("Australia Post: another house", _au("312 Smith Street"), _au("3/12 Smith St")),
    ("Australia Post: unit missing", _au("12 Smith Street"), _au("3/12 Smith St")),
    ("Australia Post: another unit", _au("4/12 Smith Street"), _au("3/12 Smith St")),
    ("Australia Post: unit and number swapped", _au("12/3 Smith Street"), _au("3/12 Smith St")),
    (
        "Royal Mail: another flat",
        _glasgow("Flat 21, 10 Byres Road"),
        _glasgow("Flat 2/1, 10 Byres Rd"),
    ),
    (
        "Royal Mail: another flat",
        _glasgow("Flat 1/2, 10 Byres Road"),
        _glasgow("Flat 2/1, 10 Byres Rd"),
    ),
    ("USPS Pub 28: fraction is not a number", _us("123 12 Main St"), _us("123 1/2 Main St")),
    ("USPS Pub 28: another numbered street", _us("1 Fourth Avenue"), _us("1 5th Ave")),
    ("USPS Pub 28: another numbered street", _us("1 Fifteenth Avenue"), _us("1 5th Ave")),
    ("USPS Pub 28 ch. 2: another route", _us("RR 3 Box 152"), _us("Rural Route 2 Box 152")),
    ("USPS Pub 28 ch. 2: another box", _us("RR 2 Box 153"), _us("Rural Route 2 Box 152")),
    ("USPS Pub 28 ch. 2: another box", _us("Post Office Box 13"), _us("PO Box 12")),
    ("Canada Post: another house", _toronto("12345 Main St"), _toronto("12-345 Main St")),
    ("Canada Post: unit missing", _toronto("345 Main St"), _toronto("12-345 Main St")),
    ("Canada Post: another unit", _toronto("13-345 Main St"), _toronto("12-345 Main St")),
    ("Canada Post: unit and civic swapped", _toronto("345-12 Main St"), _toronto("12-345 Main St")),
    (
        "Canada Post: unit and civic swapped",
        _toronto("12 Main St Unit 345"),
        _toronto("12-345 Main St"),
    ),
    (
        "Canada Post: another direction",
        _montreal("50 rue Sherbrooke E"),
        _montreal("50 rue Sherbrooke Ouest"),
    ),
    (
        "Canada Post: another street type",
        _montreal("1000 ch. Saint-Laurent"),
        _montreal("1000 boul. Saint-Laurent"),
    ),
    ("Royal Mail: saint dropped", _glasgow("12 Johns Road"), _glasgow("12 St Johns Road")),
    ("Deutsche Post: suffix missing", _berlin("Hauptstraße 5"), _berlin("Hauptstraße 5a")),
    ("Deutsche Post: another suffix", _berlin("Hauptstraße 5 b"), _berlin("Hauptstraße 5a")),
    ("Deutsche Post: another number", _berlin("Hauptstraße 51"), _berlin("Hauptstraße 5 1")),
    ("ICAO 9303: two ASCII spellings", _copenhagen("Sondergade 5"), _copenhagen("Soendergade 5")),
]


@pytest.mark.parametrize(
    ("source", "stated", "on_file"), ADDRESS_MATCHES, ids=[c[0] for c in ADDRESS_MATCHES]
)
def test_an_honest_address_matches(source: str, stated: Address, on_file: Address) -> None:
    assert match_address(stated, on_file, "US"), source
    assert match_address(on_file, stated, "US"), source


@pytest.mark.parametrize(
    ("source", "stated", "on_file"), ADDRESS_MISSES, ids=[c[0] for c in ADDRESS_MISSES]
)
def test_another_place_never_matches(source: str, stated: Address, on_file: Address) -> None:
    assert not match_address(stated, on_file, "US"), source


NAME_MATCHES = [
    ("ICAO 9303: ø = oe", "Soeren", "Søren"),
    ("ICAO 9303: ø = o", "Soren", "Søren"),
    ("ICAO 9303: æ = ae, ø = oe", "Aeroe", "Ærø"),
    ("ICAO 9303: æ = ae, ø = o", "Aero", "Ærø"),
    ("ICAO 9303: đ = d", "Dang", "Đặng"),
    ("ICAO 9303: ı = i", "Isik", "Işık"),
    ("ICAO 9303: ł = l", "Lukasz", "Łukasz"),
    ("ICAO 9303: þ = th", "Thorsson", "Þórsson"),
    ("ICAO 9303: ð = d", "Gudrun", "Guðrún"),
    ("ICAO 9303: ß = ss", "Strauss", "Strauß"),
    ("ICAO 9303: å = aa", "Haakon", "Håkon"),
    ("ICAO 9303: å = a", "Hakon", "Håkon"),
    ("ICAO 9303: œ = oe", "Oeuvray", "Œuvray"),
]

NAME_MISSES = [
    ("ICAO 9303: þ is not t", "Torsson", "Þórsson"),
    ("ICAO 9303: ł is not another letter", "Lucasz", "Łukasz"),
    ("ICAO 9303: two ASCII spellings", "Soren", "Soeren"),
    ("ICAO 9303: two ASCII spellings", "Aero", "Aeroe"),
]


@pytest.mark.parametrize(
    ("source", "stated", "on_file"), NAME_MATCHES, ids=[c[0] for c in NAME_MATCHES]
)
def test_an_honest_name_matches(source: str, stated: str, on_file: str) -> None:
    assert match_name(stated, on_file), source
    assert match_name(on_file, stated), source


@pytest.mark.parametrize(
    ("source", "stated", "on_file"), NAME_MISSES, ids=[c[0] for c in NAME_MISSES]
)
def test_another_name_never_matches(source: str, stated: str, on_file: str) -> None:
    assert not match_name(stated, on_file), source


ORG_MATCHES = [
    (
        "ISO 20275 TXVC: Proprietary Limited = Pty Ltd",
        "Contoso Proprietary Limited",
        "Contoso Pty Ltd",
    ),
    (
        "ISO 20275 2HBR: GmbH long form",
        "Fabrikam Gesellschaft mit beschränkter Haftung",
        "Fabrikam GmbH",
    ),
    ("ISO 20275: Incorporated = Inc", "Contoso Incorporated", "Contoso, Inc."),
    ("ISO 20275: Corporation = Corp", "Contoso Corporation", "Contoso Corp."),
    ("ISO 20275: Limited = Ltd", "Contoso Limited", "Contoso Ltd."),
    (
        "ISO 20275: Limited Liability Company = LLC",
        "Contoso Limited Liability Company",
        "Contoso L.L.C.",
    ),
    (
        "ISO 20275 B6ES: Public Limited Company = PLC",
        "Contoso Public Limited Company",
        "Contoso plc",
    ),
    ("ISO 20275: Aktiengesellschaft = AG", "Fabrikam Aktiengesellschaft", "Fabrikam AG"),
    ("ISO 20275: Company Limited = Co Ltd", "Contoso Company Limited", "Contoso Co., Ltd."),
    ("suffix the caller omits", "Fabrikam", "Fabrikam GmbH"),
    ("Companies House: leading The", "The Contoso Group", "Contoso Group Ltd"),
    ("Companies House: leading The", "Contoso Trading", "The Contoso Trading Company"),
    ("ICAO 9303: ø in a company name", "Oersted A/S", "Ørsted A/S"),
]

ORG_MISSES = [
    ("two legal forms", "Fabrikam GmbH", "Fabrikam, Inc."),
    ("two legal forms", "Contoso Ltd", "Contoso Inc"),
    ("two legal forms", "Contoso Pty Ltd", "Contoso Ltd"),
    ("two legal forms", "Contoso LLP", "Contoso LLC"),
    ("two legal forms", "Contoso Corporation", "Contoso Limited"),
    ("another name", "The Contoso Pharma", "Contoso Ltd"),
]


@pytest.mark.parametrize(
    ("source", "stated", "on_file"), ORG_MATCHES, ids=[c[0] for c in ORG_MATCHES]
)
def test_an_honest_organization_matches(source: str, stated: str, on_file: str) -> None:
    assert match_organization(stated, on_file), source
    assert match_organization(on_file, stated), source


@pytest.mark.parametrize(
    ("source", "stated", "on_file"), ORG_MISSES, ids=[c[0] for c in ORG_MISSES]
)
def test_another_organization_never_matches(source: str, stated: str, on_file: str) -> None:
    assert not match_organization(stated, on_file), source
    assert not match_organization(on_file, stated), source
