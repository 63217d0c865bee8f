from datetime import UTC, datetime

import pytest

from importers.normalize import (
    berlin_to_utc,
    country_code,
    country_from_tld,
    domain_from_url,
    fix_mojibake,
    normalize_company_name,
    normalize_email,
    normalize_vat,
    person_key,
    split_full_name,
    team_key,
    vat_checksum_ok,
)

# --------------------------------------------------------------------------- e-mail


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  MHOVEL@PLATFORM.INTERNAL ", "mhovel@platform.internal"),
        ("Georgia.Morgan@PolarForgeMedia.co.uk", "georgia.morgan@polarforgemedia.co.uk"),
        ("mailto:a.b@example.de", "a.b@example.de"),
    ],
)
def test_normalize_email_trims_and_lower_cases(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw", [None, "", "   ", "n/a", "max mustermann", "a@", "@b.de", "a@b@c.de"]
)
def test_normalize_email_returns_none_for_non_addresses(raw: str | None) -> None:
    assert normalize_email(raw) is None


def test_person_key_is_equal_for_addresses_differing_in_case_and_spaces() -> None:
    assert person_key(" Anna@Example.DE") == person_key("anna@example.de ")


def test_team_key_ignores_case_and_surrounding_and_repeated_spaces() -> None:
    assert team_key("  MARKETING ") == team_key("marketing") == "marketing"
    assert team_key("R&D  Team") == team_key("r&d team")


def test_team_key_is_none_for_blank_names() -> None:
    assert team_key("   ") is None


# --------------------------------------------------------------------------- VAT


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("DE 811 569 869", None, "DE811569869"),
        ("de811569869", None, "DE811569869"),
        ("811569869", "Deutschland", "DE811569869"),
        ("SE-606883106701", None, "SE606883106701"),
        ("NL 060 710 431 B01", None, "NL060710431B01"),
        ("276842684B01", "Netherlands", "NL276842684B01"),
        ("esk2970852g", None, "ESK2970852G"),
        ("M4644604X", "Espana", "ESM4644604X"),
        ("ESE6186489D", None, "ESE6186489D"),
        ("172888181", "UK", "GB172888181"),
        ("U12345678", "Österreich", "ATU12345678"),
        ("CHE-123.456.789 MWST", None, "CHE123456789"),
    ],
)
def test_normalize_vat_removes_separators_and_restores_the_prefix(
    raw: str, country: str | None, expected: str
) -> None:
    assert normalize_vat(raw, country) == expected


def test_normalize_vat_uses_el_for_greece_from_country_and_from_gr_prefix() -> None:
    assert normalize_vat("094259216", "Greece") == "EL094259216"
    assert normalize_vat("GR094259216", None) == "EL094259216"


def test_normalize_vat_keeps_a_number_without_prefix_when_the_country_is_unknown() -> None:
    assert normalize_vat("8137343373", None) == "8137343373"


def test_normalize_vat_adds_no_prefix_for_a_country_without_vat_prefix() -> None:
    assert normalize_vat("98-7654321", "USA") == "987654321"


def test_normalize_vat_keeps_a_number_whose_checksum_fails() -> None:
    assert vat_checksum_ok("DE652941307") is False
    assert normalize_vat("DE652941307") == "DE652941307"


def test_normalize_vat_keeps_the_stated_prefix_over_the_country() -> None:
    assert normalize_vat("ATU12345678", "Germany") == "ATU12345678"


@pytest.mark.parametrize(
    "raw", [None, "", "  ", "n/a", "-", "000000000", "DE 000 000 000", "123456789"]
)
def test_normalize_vat_returns_none_for_placeholders(raw: str | None) -> None:
    assert normalize_vat(raw, "DE") is None


def test_normalize_vat_is_idempotent() -> None:
    once = normalize_vat("nl 060.710.431 b01", None)
    assert normalize_vat(once, "Netherlands") == once


def test_vat_checksum_ok_accepts_a_valid_number_and_cannot_tell_without_prefix() -> None:
    assert vat_checksum_ok("PL 815 908 30 16") is True
    assert vat_checksum_ok("8159083016") is None


# --------------------------------------------------------------------------- domains


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://polarforgemedia.co.uk", "polarforgemedia.co.uk"),
        ("www.brightpeakretail.co.uk", "brightpeakretail.co.uk"),
        ("https://www.primemeadowaerospace.es/", "primemeadowaerospace.es"),
        ("https://silverquarryconsulting.fr/en/", "silverquarryconsulting.fr"),
        ("HTTPS://WWW.Example.DE:8443/path?q=1#x", "example.de"),
        ("example.com.", "example.com"),
        ("zabierekradzio.pl", "zabierekradzio.pl"),
        ("https://müller.de/", "xn--mller-kva.de"),
    ],
)
def test_domain_from_url_returns_the_host_without_www_port_or_path(url: str, expected: str) -> None:
    assert domain_from_url(url) == expected


@pytest.mark.parametrize(
    "url", [None, "", "   ", "n/a", "http://", "localhost", "http://10.0.0.1/"]
)
def test_domain_from_url_returns_none_for_non_domains(url: str | None) -> None:
    assert domain_from_url(url) is None


# --------------------------------------------------------------------------- mojibake


@pytest.mark.parametrize(
    ("stored", "meant"),
    [
        ("MÃ¼ller", "Müller"),
        ("GrÃ¶ttner Robotics GmbH", "Gröttner Robotics GmbH"),
        ("Kristoffersen-& Ã˜stergaard SL", "Kristoffersen-& Østergaard SL"),
        ("VallÃ©s-Capital SL", "Vallés-Capital SL"),
    ],
)
def test_fix_mojibake_repairs_utf8_read_as_windows_1252(stored: str, meant: str) -> None:
    assert fix_mojibake(stored) == meant


def test_fix_mojibake_leaves_correct_text_and_quotes_alone() -> None:
    assert fix_mojibake("Żabierek & Radzio “Müller’s”") == "Żabierek & Radzio “Müller’s”"


# --------------------------------------------------------------------------- company names


@pytest.mark.parametrize(
    "spellings",
    [
        ("Gröttner Robotics GmbH", "GrÃ¶ttner Robotics GmbH", "  gröttner-robotics g.m.b.h. "),
        ("Coastal Forge Consulting", "COASTAL FORGE CONSULTING GMBH"),
        ("Prime Meadow Aerospace", "Prime-Meadow Aerospace SL", "Prime Meadow Aerospace S.L."),
        ("Kristoffersen & Østergaard", "Kristoffersen-& Ã˜stergaard SL"),
        ("Żabierek & Radzio", "Żabierek & Radzio Sp. z o.o.", "ZABIEREK & RADZIO SP. Z O.O."),
        ("Lunar Orbit Media", "Lunar Orbit Media Aktiebolag", "Lunar-Orbit Media BV"),
        ("Golden Compass Solar Ltd", "GOLDEN COMPASS SOLAR LTD.", "Golden Compass Solar Limited"),
        ("Jepsen & Holst ApS", "Jepsen and Holst A/S"),
        ("Foo Bar GmbH & Co. KG", "Foo Bar"),
        ("Smith Health Inc.", "Smith Health Inc", "Smith Health"),
        ("Nordic Anchor Logistics S.A.S.", "NORDIC ANCHOR LOGISTICS SAS"),
    ],
)
def test_normalize_company_name_gives_one_key_for_spellings_of_one_name(
    spellings: tuple[str, ...],
) -> None:
    assert len({normalize_company_name(spelling).key for spelling in spellings}) == 1


def test_normalize_company_name_keeps_distinct_names_distinct() -> None:
    assert (
        normalize_company_name("Hjalmarsson Labs").key
        != normalize_company_name("Hjalmarsson Labs Falcon AB").key
    )


@pytest.mark.parametrize(
    ("name", "countries"),
    [
        ("Thomsen Retail ApS", {"DK"}),
        ("Tabak Marine Sp. z o.o.", {"PL"}),
        ("Prime Meadow Aerospace S.L.", {"ES"}),
        ("Gröttner Robotics GmbH", {"DE", "AT", "CH"}),
        ("Urban Anchor Capital BV", {"NL", "BE"}),
        ("Foo Oy Ab", {"FI"}),
        ("Rapid Forge Studio", set()),
        ("Siemens SE", set()),
    ],
)
def test_normalize_company_name_returns_the_countries_the_legal_form_allows(
    name: str, countries: set[str]
) -> None:
    assert normalize_company_name(name).countries == countries


def test_name_key_country_is_set_only_when_the_legal_form_is_unambiguous() -> None:
    assert normalize_company_name("Thomsen Retail ApS").country == "DK"
    assert normalize_company_name("Gröttner Robotics GmbH").country is None


def test_normalize_company_name_does_not_strip_a_legal_form_that_is_the_whole_name() -> None:
    assert normalize_company_name("AG").key == "ag"


def test_normalize_company_name_only_strips_whole_words() -> None:
    assert normalize_company_name("Holmberg").key == "holmberg"
    assert normalize_company_name("Atlas").key == "atlas"


# --------------------------------------------------------------------------- countries


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Germany", "DE"), ("Deutschland", "DE"), ("germany", "DE"), ("DE", "DE"),
        ("UK", "GB"), ("U.K.", "GB"), ("Great Britain", "GB"), ("England", "GB"),
        ("united kingdom", "GB"), ("Holland", "NL"), ("Nederland", "NL"),
        ("The Netherlands", "NL"), ("Sverige", "SE"), ("Danmark", "DK"), ("Polska", "PL"),
        ("España", "ES"), ("Espana", "ES"), ("Österreich", "AT"), ("Schweiz", "CH"),
        ("USA", "US"), ("United States", "US"), ("United States of America", "US"),
        ("france", "FR"), ("Côte d'Ivoire", "CI"), ("Ã–sterreich", "AT"),
    ],
)  # fmt: skip
def test_country_code_maps_every_spelling_to_iso_alpha_2(raw: str, expected: str) -> None:
    assert country_code(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "  ", "Atlantis", "Europe", "Germny"])
def test_country_code_returns_none_for_unknown_countries(raw: str | None) -> None:
    assert country_code(raw) is None


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("polarforgemedia.co.uk", "GB"),
        ("https://www.grottnerrobotics.de/en/", "DE"),
        ("swiftpineventures.pl", "PL"),
        ("smithmarine.com", None),
        ("startup.io", None),
        ("europa.eu", None),
        (None, None),
    ],
)
def test_country_from_tld_reads_country_code_tlds_only(
    domain: str | None, expected: str | None
) -> None:
    assert country_from_tld(domain) == expected


# --------------------------------------------------------------------------- timestamps


def test_berlin_to_utc_converts_winter_time() -> None:
    assert berlin_to_utc("2021-01-15 12:00:00") == datetime(2021, 1, 15, 11, 0, tzinfo=UTC)


def test_berlin_to_utc_converts_summer_time() -> None:
    assert berlin_to_utc("2021-07-15 12:00:00") == datetime(2021, 7, 15, 10, 0, tzinfo=UTC)


def test_berlin_to_utc_reads_an_ambiguous_autumn_time_as_summer_time() -> None:
    assert berlin_to_utc("2021-10-31 02:30:00") == datetime(2021, 10, 31, 0, 30, tzinfo=UTC)


def test_berlin_to_utc_reads_a_skipped_spring_time_with_the_winter_offset() -> None:
    assert berlin_to_utc("2021-03-28 02:30:00") == datetime(2021, 3, 28, 1, 30, tzinfo=UTC)


def test_berlin_to_utc_accepts_naive_datetimes_and_dates() -> None:
    assert berlin_to_utc(datetime(2021, 7, 15, 12, 0)) == datetime(2021, 7, 15, 10, 0, tzinfo=UTC)
    assert berlin_to_utc("2021-07-15") == datetime(2021, 7, 14, 22, 0, tzinfo=UTC)


def test_berlin_to_utc_keeps_an_explicit_offset() -> None:
    assert berlin_to_utc("2021-07-15T12:00:00+00:00") == datetime(2021, 7, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw", [None, "", "0000-00-00 00:00:00", "0000-00-00", "2019-00-00 00:00:00", "2019-05-00"]
)
def test_berlin_to_utc_returns_none_for_empty_and_zero_dates(raw: str | None) -> None:
    assert berlin_to_utc(raw) is None


def test_berlin_to_utc_rejects_text_that_is_not_a_timestamp() -> None:
    with pytest.raises(ValueError, match="not a timestamp"):
        berlin_to_utc("yesterday")


# --------------------------------------------------------------------------- people


@pytest.mark.parametrize(
    ("full_name", "expected"),
    [
        ("Marit Hövel", ("Marit", "Hövel")),
        ("  Burghard   Knappe ", ("Burghard", "Knappe")),
        ("José Ángel Gallart", ("José Ángel", "Gallart")),
        ("Lois van der Laan", ("Lois", "van der Laan")),
        ("Nicole Da Silva", ("Nicole", "Da Silva")),
        ("Mare Bourgondië, van", ("Mare", "van Bourgondië")),
        ("Hans-Christian Dussen van", ("Hans-Christian", "van Dussen")),
        ("Knappe, Burghard", ("Burghard", "Knappe")),
        ("Madonna", ("Madonna", "")),
        ("", ("", "")),
        (None, ("", "")),
    ],
)
def test_split_full_name_returns_first_and_last_name(
    full_name: str | None, expected: tuple[str, str]
) -> None:
    assert split_full_name(full_name) == expected
