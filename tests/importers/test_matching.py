from collections.abc import Iterable

from bench.matching_eval import evaluate_sample
from importers.matching import (
    CandidatePair,
    Decision,
    EvidenceKind,
    MatchResult,
    ReviewReason,
    Verdict,
    match_companies,
)
from importers.records import CompanyRecord, RecordKey, Source

CORE_1: RecordKey = ("core", 1)
CORE_2: RecordKey = ("core", 2)
PORTAL_1: RecordKey = ("portal", 1)
PORTAL_2: RecordKey = ("portal", 2)


def company(
    source: Source,
    legacy_id: int,
    name: str,
    *,
    legal_name: str | None = None,
    vat: str | None = None,
    country: str | None = None,
    domain: str | None = None,
    deleted: bool = False,
    emails: Iterable[str] = (),
) -> CompanyRecord:
    return CompanyRecord(
        source=source,
        legacy_id=legacy_id,
        name=name,
        legal_name=legal_name,
        vat=vat,
        country=country,
        domain=domain,
        deleted=deleted,
        emails=frozenset(emails),
    )


def together(result: MatchResult, *keys: RecordKey) -> bool:
    return len({tuple(result.cluster_by_key()[key]) for key in keys}) == 1


def review_between(result: MatchResult, a: RecordKey, b: RecordKey) -> CandidatePair | None:
    return next((p for p in result.review_pairs if {p.a, p.b} == {a, b}), None)


def people(*names: str) -> set[str]:
    return {f"{name}@example.test" for name in names}


# --------------------------------------------------------------------------- strong evidence


def test_same_vat_digits_merge_when_portal_dropped_the_prefix() -> None:
    result = match_companies(
        [
            company("core", 1, "Tabak Marine", vat="PL6505578533", country="PL"),
            company("portal", 1, "Tabak Marine Group", vat="650 557 853 3"),
        ]
    )
    assert together(result, CORE_1, PORTAL_1)
    assert {e.kind for e in result.merges[0].evidence} >= {EvidenceKind.SAME_VAT}


def test_same_domain_merges_core_domain_with_portal_website() -> None:
    result = match_companies(
        [
            company("core", 1, "Green Meadow Labs", domain="greenmeadowlabs.pl"),
            company("portal", 1, "GML", domain="https://www.greenmeadowlabs.pl/en/"),
        ]
    )
    assert together(result, CORE_1, PORTAL_1)


def test_same_name_in_the_same_country_merges_whatever_the_spelling() -> None:
    result = match_companies(
        [
            company(
                "core", 1, "Zorbach Logistics", legal_name="Zorbach Logistics GmbH", country="DE"
            ),
            company("portal", 1, "Zorbach-Logistics GMBH", country="Deutschland"),
        ]
    )
    assert together(result, CORE_1, PORTAL_1)
    assert result.merges[0].evidence[0].kind is EvidenceKind.SAME_NAME_SAME_COUNTRY


def test_a_shared_platform_host_is_not_a_shared_domain() -> None:
    result = match_companies(
        [
            company("core", 1, "Alpha", domain="facebook.com"),
            company("portal", 1, "Omega", domain="https://www.facebook.com/omega"),
        ]
    )
    assert not together(result, CORE_1, PORTAL_1)


def test_country_from_the_website_tld_counts_as_known() -> None:
    result = match_companies(
        [
            company("core", 1, "Evergreen Field Foods", country="DE"),
            company("portal", 1, "Evergreen Field Foods", domain="www.evergreenfieldfoods.de"),
        ]
    )
    assert together(result, CORE_1, PORTAL_1)


def test_country_from_an_unambiguous_legal_form_counts_as_known() -> None:
    result = match_companies(
        [
            company("core", 1, "Thomsen Retail", country="DK"),
            company("portal", 1, "Thomsen Retail ApS"),
        ]
    )
    assert together(result, CORE_1, PORTAL_1)


def test_core_duplicates_merge_even_when_one_is_soft_deleted() -> None:
    result = match_companies(
        [
            company("core", 1, "ACME", country="DE"),
            company("core", 2, "Acme", country="DE", deleted=True),
        ]
    )
    assert together(result, CORE_1, CORE_2)


# --------------------------------------------------------------------------- vetoes


def test_same_name_in_different_countries_never_merges_and_is_not_reviewed() -> None:
    result = match_companies(
        [
            company("core", 1, "Kerkhof Energy", country="NL", emails=people("a", "b")),
            company("portal", 1, "Kerkhof Energy ApS", emails=people("a", "b")),
        ]
    )
    assert not together(result, CORE_1, PORTAL_1)
    assert review_between(result, CORE_1, PORTAL_1) is None


def test_legal_forms_of_disjoint_countries_veto_a_name_match() -> None:
    result = match_companies(
        [
            company("portal", 1, "Lunar Falcon Digital BV", emails=people("a", "b")),
            company("portal", 2, "Lunar Falcon Digital AB", emails=people("a", "b")),
        ]
    )
    assert not together(result, PORTAL_1, PORTAL_2)


def test_different_vat_numbers_veto_a_merge_that_name_and_country_support() -> None:
    result = match_companies(
        [
            company("core", 1, "Acme", vat="DE811569869", country="DE"),
            company("portal", 1, "Acme GmbH", vat="DE 136 695 976", country="Germany"),
        ]
    )
    assert not together(result, CORE_1, PORTAL_1)
    review = review_between(result, CORE_1, PORTAL_1)
    assert review is not None and review.reason is ReviewReason.CONFLICTING


def test_same_digits_with_different_country_prefixes_are_different_vat_numbers() -> None:
    result = match_companies(
        [
            company("core", 1, "Alpha", vat="DE811569869"),
            company("portal", 1, "Beta", vat="GB811569869"),
        ]
    )
    assert not together(result, CORE_1, PORTAL_1)


def test_different_domains_veto_a_vat_match() -> None:
    result = match_companies(
        [
            company("core", 1, "Acme", vat="DE811569869", domain="acme.de"),
            company("portal", 1, "Acme", vat="811569869", domain="http://acme-shop.de"),
        ]
    )
    assert not together(result, CORE_1, PORTAL_1)


def test_a_chain_of_merges_cannot_join_two_vetoed_records() -> None:
    # core:1 and portal:2 have different domains; portal:1 is like each of them.
    result = match_companies(
        [
            company("core", 1, "Alpha Holding", vat="DE811569869", domain="alpha.de"),
            company("portal", 1, "Beta GmbH", vat="811569869", country="DE"),
            company("portal", 2, "Beta", country="DE", domain="beta.de"),
        ]
    )
    assert not together(result, CORE_1, PORTAL_2)
    assert together(result, CORE_1, PORTAL_1) != together(result, PORTAL_1, PORTAL_2)
    blocked = [p for p in result.review_pairs if p.reason is ReviewReason.BLOCKED]
    assert len(blocked) == 1


# --------------------------------------------------------------------------- not enough evidence


def test_same_name_with_unknown_country_goes_to_review_instead_of_merging() -> None:
    result = match_companies(
        [
            company("core", 1, "Smith Health", country="US"),
            company("portal", 1, "Smith Health Inc"),
        ]
    )
    assert not together(result, CORE_1, PORTAL_1)
    review = review_between(result, CORE_1, PORTAL_1)
    assert review is not None and review.reason is ReviewReason.INSUFFICIENT
    assert [e.kind for e in review.evidence] == [EvidenceKind.SAME_NAME]


def test_same_name_with_unknown_country_merges_with_shared_people() -> None:
    result = match_companies(
        [
            company("core", 1, "Smith Health", country="US", emails=people("ann", "bob", "cy")),
            company(
                "portal", 1, "Smith Health Inc", emails={"ANN@example.test ", "bob@example.test"}
            ),
        ]
    )
    assert together(result, CORE_1, PORTAL_1)
    kinds = {e.kind for e in result.merges[0].evidence}
    assert kinds == {EvidenceKind.SAME_NAME, EvidenceKind.SHARED_PEOPLE}


def test_one_shared_person_is_not_enough_to_merge_a_name_match() -> None:
    result = match_companies(
        [
            company("core", 1, "Smith Health", country="US", emails=people("consultant", "x")),
            company("portal", 1, "Smith Health Inc", emails=people("consultant", "y")),
        ]
    )
    assert not together(result, CORE_1, PORTAL_1)
    assert review_between(result, CORE_1, PORTAL_1) is not None


def test_shared_people_alone_go_to_review_and_never_merge() -> None:
    result = match_companies(
        [
            company("core", 1, "Alpha", emails=people("ann", "bob", "cy")),
            company("portal", 1, "Omega", emails=people("ann", "bob", "cy")),
        ]
    )
    assert not together(result, CORE_1, PORTAL_1)
    review = review_between(result, CORE_1, PORTAL_1)
    assert review is not None and review.evidence[0].kind is EvidenceKind.SHARED_PEOPLE


def test_unrelated_companies_are_neither_merged_nor_reviewed() -> None:
    result = match_companies(
        [
            company("core", 1, "Alpha", country="DE", emails=people("consultant", "a")),
            company("portal", 1, "Omega", country="DE", emails=people("consultant", "b")),
        ]
    )
    assert result.clusters == [[CORE_1], [PORTAL_1]]
    assert result.review_pairs == []


# --------------------------------------------------------------------------- decisions


def test_a_different_decision_vetoes_strong_evidence() -> None:
    result = match_companies(
        [
            company("core", 1, "Acme", vat="DE811569869"),
            company("portal", 1, "Acme", vat="811569869"),
        ],
        decisions=[Decision(PORTAL_1, CORE_1, Verdict.DIFFERENT)],
    )
    assert not together(result, CORE_1, PORTAL_1)
    assert result.review_pairs == []


def test_a_same_decision_merges_a_pair_under_review_and_removes_it_from_review() -> None:
    result = match_companies(
        [
            company("core", 1, "Smith Health", country="US"),
            company("portal", 1, "Smith Health Inc"),
        ],
        decisions=[Decision(CORE_1, PORTAL_1, Verdict.SAME)],
    )
    assert together(result, CORE_1, PORTAL_1)
    assert result.review_pairs == []
    assert result.merges[0].evidence[0].kind is EvidenceKind.DECIDED_SAME


def test_a_same_decision_overrides_the_pairs_own_conflict() -> None:
    result = match_companies(
        [
            company("core", 1, "Acme", domain="acme.de"),
            company("portal", 1, "Acme", domain="acme-online.de"),
        ],
        decisions=[Decision(CORE_1, PORTAL_1, Verdict.SAME)],
    )
    assert together(result, CORE_1, PORTAL_1)


def test_a_same_decision_is_not_applied_when_it_would_join_a_vetoed_record() -> None:
    result = match_companies(
        [
            company("core", 1, "Acme", vat="DE811569869"),
            company("core", 2, "Acme", vat="DE811569869"),
            company("portal", 1, "Other"),
        ],
        decisions=[
            Decision(CORE_2, PORTAL_1, Verdict.DIFFERENT),
            Decision(CORE_1, PORTAL_1, Verdict.SAME),
        ],
    )
    assert together(result, CORE_1, CORE_2)
    assert not together(result, CORE_1, PORTAL_1)
    review = review_between(result, CORE_1, PORTAL_1)
    assert review is not None and review.reason is ReviewReason.DECISION_NOT_APPLIED


def test_decisions_about_unknown_records_are_reported_as_ignored() -> None:
    stale = Decision(CORE_1, ("portal", 99), Verdict.SAME)
    result = match_companies([company("core", 1, "Acme")], decisions=[stale])
    assert result.ignored_decisions == [stale]


# --------------------------------------------------------------------------- result shape


def test_every_record_appears_in_exactly_one_cluster() -> None:
    records = [
        company("core", 1, "Acme", vat="DE811569869"),
        company("portal", 1, "Acme", vat="811569869"),
        company("portal", 2, "Omega"),
    ]
    result = match_companies(records)
    flat = [key for cluster in result.clusters for key in cluster]
    assert sorted(flat) == sorted(r.key for r in records)


def test_a_value_shared_by_too_many_records_is_skipped_and_reported() -> None:
    records = [company("portal", i, f"Company {i}", domain="shared-host.de") for i in range(1, 5)]
    result = match_companies(records, max_block_size=3)
    assert all(len(cluster) == 1 for cluster in result.clusters)
    assert [(b.kind, b.value, b.size) for b in result.skipped_blocks] == [
        ("domain", "shared-host.de", 4)
    ]


def test_matching_the_sample_reaches_full_precision_and_recall_of_at_least_99_percent() -> None:
    score, _ = evaluate_sample()
    assert score.wrong_merges == frozenset()
    assert score.precision == 1.0
    assert score.recall >= 0.99
