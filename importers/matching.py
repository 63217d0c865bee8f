"""Decide which legacy company rows are the same real company.

The rules (docs/importer-matching.md), in this order of precedence:

1. Vetoes: a person's ``different``; two different VAT numbers, two different domains,
   two different known countries.
2. Strong evidence merges: the same VAT number, the same domain, the same normalised name
   in the same known country.
3. A person's ``same`` merges the pair even against the pair's own conflicting evidence,
   but not when the clusters that strong evidence built would join a vetoed pair.
4. The same name where a country is unknown merges only with the support of shared
   people (e-mail addresses); without it the pair goes to review.
5. Shared people alone never merge; enough of them put the pair in review.

Merges are applied in that order through a union-find whose union is refused when any
record of one cluster is vetoed against any record of the other, so a chain of merges
can never join two records that must stay apart; a refused merge goes to review.
Candidate pairs come from blocking on VAT number, domain, name key and e-mail; there is
no all-pairs comparison.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from itertools import combinations

from importers.normalize import (
    Vat,
    country_code,
    country_from_tld,
    domain_from_url,
    normalize_company_name,
    parse_vat,
    person_key,
)
from importers.records import CompanyRecord, RecordKey

__all__ = [
    "CompanyRecord",
    "Decision",
    "Evidence",
    "EvidenceKind",
    "MatchResult",
    "Merge",
    "RecordKey",
    "CandidatePair",
    "ReviewReason",
    "SkippedBlock",
    "Verdict",
    "match_companies",
]


class EvidenceKind(StrEnum):
    SAME_VAT = "same_vat"
    SAME_DOMAIN = "same_domain"
    SAME_NAME_SAME_COUNTRY = "same_name_same_country"
    SAME_NAME = "same_name"  # the country is unknown on at least one side
    SHARED_PEOPLE = "shared_people"
    DECIDED_SAME = "decided_same"
    DIFFERENT_VAT = "different_vat"
    DIFFERENT_DOMAIN = "different_domain"
    DIFFERENT_COUNTRY = "different_country"
    DECIDED_DIFFERENT = "decided_different"


STRONG_EVIDENCE = frozenset(
    {EvidenceKind.SAME_VAT, EvidenceKind.SAME_DOMAIN, EvidenceKind.SAME_NAME_SAME_COUNTRY}
)
VETO_EVIDENCE = frozenset(
    {
        EvidenceKind.DIFFERENT_VAT,
        EvidenceKind.DIFFERENT_DOMAIN,
        EvidenceKind.DIFFERENT_COUNTRY,
        EvidenceKind.DECIDED_DIFFERENT,
    }
)


@dataclass(frozen=True)
class Evidence:
    kind: EvidenceKind
    detail: str


class Verdict(StrEnum):
    SAME = "same"
    DIFFERENT = "different"


@dataclass(frozen=True)
class Decision:
    """A person's verdict on a pair of company rows, kept across re-runs."""

    a: RecordKey
    b: RecordKey
    verdict: Verdict


class ReviewReason(StrEnum):
    INSUFFICIENT = "insufficient"  # alike, but not enough evidence to merge
    CONFLICTING = "conflicting"  # strong evidence for and against the same pair
    BLOCKED = "blocked"  # the pair would merge, but other rows of the two clusters conflict
    DECISION_NOT_APPLIED = "decision_not_applied"  # "same", but other rows conflict


@dataclass(frozen=True)
class CandidatePair:
    """Two rows matching could not decide on: a person reviews them (`models.ReviewPair`)."""

    a: RecordKey
    b: RecordKey
    reason: ReviewReason
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class Merge:
    """Two rows whose clusters were joined, and why."""

    a: RecordKey
    b: RecordKey
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class SkippedBlock:
    """A blocking value shared by so many rows that it cannot identify one company."""

    kind: str
    value: str
    size: int


@dataclass
class MatchResult:
    clusters: list[list[RecordKey]]  # every record exactly once, singletons included
    merges: list[Merge]
    review_pairs: list[CandidatePair]
    skipped_blocks: list[SkippedBlock] = field(default_factory=list)
    ignored_decisions: list[Decision] = field(default_factory=list)  # about unknown rows

    def cluster_by_key(self) -> dict[RecordKey, list[RecordKey]]:
        return {key: cluster for cluster in self.clusters for key in cluster}


# --------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class _Facts:
    """What one record says about its identity, normalised."""

    key: RecordKey
    name_keys: frozenset[str]
    vat: Vat | None
    domain: str | None
    country: str | None
    country_source: str | None
    possible_countries: frozenset[str]  # empty: unknown
    people: frozenset[str]


# Hosts of platforms where many companies have a page ("facebook.com/acme"): the same
# host there says nothing about being the same company.
_PLATFORM_HOSTS = frozenset(
    {"facebook.com", "linkedin.com", "instagram.com", "twitter.com", "x.com", "xing.com",
     "youtube.com", "google.com", "sites.google.com", "maps.google.com", "goo.gl", "bit.ly",
     "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "yahoo.com", "gmx.de",
     "web.de", "wordpress.com", "blogspot.com", "wix.com", "squarespace.com", "jimdo.com",
     "github.com", "example.com", "example.org", "example.net"}
)  # fmt: skip


def _company_domain(url: str | None) -> str | None:
    domain = domain_from_url(url)
    return None if domain in _PLATFORM_HOSTS else domain


def _facts(record: CompanyRecord) -> _Facts:
    names = [normalize_company_name(n) for n in (record.name, record.legal_name) if n]
    form_countries = [name.countries for name in names if name.countries]
    suffix_countries = frozenset.intersection(*form_countries) if form_countries else frozenset()
    domain = _company_domain(record.domain)
    # Only the record's own country field restores a missing VAT prefix: an inferred
    # country could manufacture a conflict where the digits alone would agree.
    vat = parse_vat(record.vat, record.country)
    stated_vat = parse_vat(record.vat)
    # Precedence: what the row states (country field, then VAT prefix) over what it
    # implies (website TLD, then a legal form that allows one country only).
    sources = (
        ("country field", country_code(record.country)),
        ("VAT prefix", stated_vat.country if stated_vat else None),
        ("website", country_from_tld(domain)),
        ("legal form", next(iter(suffix_countries)) if len(suffix_countries) == 1 else None),
    )
    country_source, country = next(((s, c) for s, c in sources if c), (None, None))
    return _Facts(
        key=record.key,
        name_keys=frozenset(name.key for name in names if name.key),
        vat=vat,
        domain=domain,
        country=country,
        country_source=country_source,
        possible_countries=frozenset({country}) if country else suffix_countries,
        people=frozenset(p for p in map(person_key, record.emails) if p),
    )


def _label(key: RecordKey) -> str:
    return f"{key[0]}:{key[1]}"


def _compare(a: _Facts, b: _Facts, verdict: Verdict | None) -> list[Evidence]:
    evidence: list[Evidence] = []
    if verdict is Verdict.SAME:
        evidence.append(Evidence(EvidenceKind.DECIDED_SAME, "decided by a person"))
    elif verdict is Verdict.DIFFERENT:
        evidence.append(Evidence(EvidenceKind.DECIDED_DIFFERENT, "decided by a person"))
    if a.vat and b.vat:
        kind = EvidenceKind.SAME_VAT if a.vat.same_number(b.vat) else EvidenceKind.DIFFERENT_VAT
        evidence.append(Evidence(kind, f"{a.vat} / {b.vat}"))
    if a.domain and b.domain:
        same = a.domain == b.domain
        kind = EvidenceKind.SAME_DOMAIN if same else EvidenceKind.DIFFERENT_DOMAIN
        evidence.append(Evidence(kind, f"{a.domain} / {b.domain}"))
    countries_conflict = bool(
        a.possible_countries
        and b.possible_countries
        and not a.possible_countries & b.possible_countries
    )
    if countries_conflict:
        detail = (
            f"{'/'.join(sorted(a.possible_countries))} ({a.country_source or 'legal form'}) / "
            f"{'/'.join(sorted(b.possible_countries))} ({b.country_source or 'legal form'})"
        )
        evidence.append(Evidence(EvidenceKind.DIFFERENT_COUNTRY, detail))
    shared_names = sorted(a.name_keys & b.name_keys)
    if shared_names and not countries_conflict:
        if a.country and a.country == b.country:
            evidence.append(
                Evidence(EvidenceKind.SAME_NAME_SAME_COUNTRY, f"{shared_names[0]} in {a.country}")
            )
        else:
            unknown = [_label(f.key) for f in (a, b) if not f.country]
            evidence.append(
                Evidence(
                    EvidenceKind.SAME_NAME,
                    f"{shared_names[0]}, country unknown for {' and '.join(unknown)}",
                )
            )
    shared_people = sorted(a.people & b.people)
    if shared_people:
        listed = ", ".join(shared_people[:5]) + (", …" if len(shared_people) > 5 else "")
        evidence.append(
            Evidence(EvidenceKind.SHARED_PEOPLE, f"{len(shared_people)} shared: {listed}")
        )
    return evidence


def _shared_people_count(a: _Facts, b: _Facts) -> int:
    return len(a.people & b.people)


# --------------------------------------------------------------------------- clustering


class _Clusters:
    """Union-find that refuses a union when the two clusters hold vetoed records."""

    def __init__(self, keys: Iterable[RecordKey]) -> None:
        self._parent: dict[RecordKey, RecordKey] = {key: key for key in keys}
        self._members: dict[RecordKey, list[RecordKey]] = {key: [key] for key in self._parent}

    def find(self, key: RecordKey) -> RecordKey:
        root = key
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[key] != root:
            self._parent[key], key = root, self._parent[key]
        return root

    def members(self, key: RecordKey) -> list[RecordKey]:
        return self._members[self.find(key)]

    def union(self, a: RecordKey, b: RecordKey) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return
        if len(self._members[root_a]) < len(self._members[root_b]):
            root_a, root_b = root_b, root_a
        self._parent[root_b] = root_a
        self._members[root_a].extend(self._members.pop(root_b))

    def groups(self) -> list[list[RecordKey]]:
        return sorted(sorted(members) for members in self._members.values())


class _Tier(IntEnum):
    """Order in which merges are applied: a later one yields to an earlier one's cluster."""

    STRONG = 0  # same VAT, domain, or name in one country: facts about the company
    DECIDED = 1  # a person said "same" about this pair
    SUPPORTED = 2  # same name, country unknown, shared people


@dataclass(frozen=True)
class _Edge:
    a: RecordKey
    b: RecordKey
    tier: _Tier
    evidence: tuple[Evidence, ...]

    def sort_key(self) -> tuple[int, int, RecordKey, RecordKey]:
        strong = sum(e.kind in STRONG_EVIDENCE for e in self.evidence)
        return (self.tier, -strong, self.a, self.b)


def _pair(a: RecordKey, b: RecordKey) -> tuple[RecordKey, RecordKey]:
    return (a, b) if a <= b else (b, a)


def _candidate_pairs(
    facts: dict[RecordKey, _Facts], max_block_size: int
) -> tuple[set[tuple[RecordKey, RecordKey]], list[SkippedBlock]]:
    blocks: dict[tuple[str, str], list[RecordKey]] = defaultdict(list)
    for key, fact in facts.items():
        if fact.vat:
            blocks[("vat", fact.vat.national)].append(key)
        if fact.domain:
            blocks[("domain", fact.domain)].append(key)
        for name_key in fact.name_keys:
            blocks[("name", name_key)].append(key)
        for person in fact.people:
            blocks[("email", person)].append(key)
    pairs: set[tuple[RecordKey, RecordKey]] = set()
    skipped: list[SkippedBlock] = []
    for (kind, value), keys in sorted(blocks.items()):
        if len(keys) > max_block_size:
            skipped.append(SkippedBlock(kind, value, len(keys)))
            continue
        pairs.update(_pair(a, b) for a, b in combinations(keys, 2))
    return pairs, skipped


def match_companies(
    records: Iterable[CompanyRecord],
    *,
    decisions: Iterable[Decision] = (),
    min_shared_people: int = 2,
    max_block_size: int = 100,
) -> MatchResult:
    """Cluster company rows of Core and Portal into real companies.

    ``min_shared_people`` is how many e-mail addresses two rows with the same name but
    an unknown country must share to merge (one is the odd consultant).
    ``max_block_size`` caps how many rows may share one VAT number, domain, name or
    address before that value counts as noise; skipped values are reported.
    """
    facts = {record.key: _facts(record) for record in records}
    verdicts: dict[tuple[RecordKey, RecordKey], Verdict] = {}
    ignored: list[Decision] = []
    for decision in decisions:
        if decision.a in facts and decision.b in facts and decision.a != decision.b:
            verdicts[_pair(decision.a, decision.b)] = decision.verdict
        else:
            ignored.append(decision)

    pairs, skipped = _candidate_pairs(facts, max_block_size)
    pairs.update(verdicts)

    edges: list[_Edge] = []
    review: dict[tuple[RecordKey, RecordKey], CandidatePair] = {}
    for a, b in sorted(pairs):
        verdict = verdicts.get((a, b))
        evidence = tuple(_compare(facts[a], facts[b], verdict))
        kinds = {e.kind for e in evidence}
        supported = _shared_people_count(facts[a], facts[b]) >= min_shared_people
        if verdict is Verdict.SAME:
            edges.append(_Edge(a, b, _Tier.DECIDED, evidence))
        elif kinds & VETO_EVIDENCE:
            if verdict is None and kinds & STRONG_EVIDENCE:
                review[(a, b)] = CandidatePair(a, b, ReviewReason.CONFLICTING, evidence)
        elif kinds & STRONG_EVIDENCE:
            edges.append(_Edge(a, b, _Tier.STRONG, evidence))
        elif EvidenceKind.SAME_NAME in kinds and supported:
            edges.append(_Edge(a, b, _Tier.SUPPORTED, evidence))
        elif EvidenceKind.SAME_NAME in kinds or supported:
            review[(a, b)] = CandidatePair(a, b, ReviewReason.INSUFFICIENT, evidence)

    clusters = _Clusters(facts)
    merges: list[Merge] = []
    for edge in sorted(edges, key=_Edge.sort_key):
        if clusters.find(edge.a) == clusters.find(edge.b):
            continue
        blocking = _first_veto_between(clusters, edge, facts, verdicts)
        if not blocking:
            clusters.union(edge.a, edge.b)
            merges.append(Merge(edge.a, edge.b, edge.evidence))
            continue
        decided = edge.tier is _Tier.DECIDED
        reason = ReviewReason.DECISION_NOT_APPLIED if decided else ReviewReason.BLOCKED
        review[(edge.a, edge.b)] = CandidatePair(edge.a, edge.b, reason, edge.evidence + blocking)

    review_pairs = [
        pair
        for (a, b), pair in sorted(review.items())
        if clusters.find(a) != clusters.find(b)
        and (pair.reason is ReviewReason.DECISION_NOT_APPLIED or (a, b) not in verdicts)
        # Alike but kept apart by their clusters: nothing a person could merge.
        and not (
            pair.reason is ReviewReason.INSUFFICIENT
            and _first_veto_between(clusters, _Edge(a, b, _Tier.SUPPORTED, ()), facts, verdicts)
        )
    ]
    return MatchResult(
        clusters=clusters.groups(),
        merges=merges,
        review_pairs=review_pairs,
        skipped_blocks=skipped,
        ignored_decisions=ignored,
    )


def _cross_pairs(clusters: _Clusters, edge: _Edge) -> Iterator[tuple[RecordKey, RecordKey]]:
    for x in clusters.members(edge.a):
        for y in clusters.members(edge.b):
            yield _pair(x, y)


def _first_veto_between(
    clusters: _Clusters,
    edge: _Edge,
    facts: dict[RecordKey, _Facts],
    verdicts: dict[tuple[RecordKey, RecordKey], Verdict],
) -> tuple[Evidence, ...]:
    """Return the vetoes between a row of ``edge.a``'s cluster and one of ``edge.b``'s."""
    for x, y in _cross_pairs(clusters, edge):
        verdict = verdicts.get((x, y))
        if verdict is Verdict.SAME:
            continue  # a person accepted this pair whatever its evidence says
        vetoes = [e for e in _compare(facts[x], facts[y], verdict) if e.kind in VETO_EVIDENCE]
        if vetoes:
            return tuple(
                Evidence(e.kind, f"{_label(x)} vs {_label(y)}: {e.detail}") for e in vetoes
            )
    return _country_veto(clusters, edge, facts)


def _country_veto(
    clusters: _Clusters, edge: _Edge, facts: dict[RecordKey, _Facts]
) -> tuple[Evidence, ...]:
    # Rows that agree pairwise can still disagree as a group when only legal forms tell
    # the country ({DE, AT} + {AT, CH} + {CH, DE}): the joined cluster needs one country.
    if edge.tier is _Tier.DECIDED:
        return ()
    possible: frozenset[str] | None = None
    for key in clusters.members(edge.a) + clusters.members(edge.b):
        countries = facts[key].possible_countries
        if countries:
            possible = countries if possible is None else possible & countries
    if possible is None or possible:
        return ()
    detail = f"no country fits every row of {_label(edge.a)}'s and {_label(edge.b)}'s clusters"
    return (Evidence(EvidenceKind.DIFFERENT_COUNTRY, detail),)
