"""The review queue: a person's decision on a pair (service) and what the desk shows (selectors).

A decision records who decided and when. "Same company" merges the two unified companies
at once (`importers.merging`) and cannot be taken back by another decision: splitting a
merged company is done by hand. "Different" and "open" can be changed at will; the next
import keeps to whatever the pair says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from backoffice.projects.models import Document, Project
from importers.merging import MergeResult, apply_same_decision, companies_of
from importers.models import ReviewPair
from rbac.models import Company, User


class ReviewDecisionError(ValueError):
    """A decision the pair cannot take (it was merged already)."""


@transaction.atomic
def review_pair_decide(*, pair: ReviewPair, status: str, user: User | None
                       ) -> MergeResult | None:
    """Record `user`'s decision on `pair`; on "same", merge the two companies now.

    Return the merge's result, or None when nothing was merged (a "different" or "open"
    decision, or companies that are already one or not imported yet: the next import
    merges those).
    """
    if status not in ReviewPair.Status.values:
        raise ReviewDecisionError(f"Unknown decision {status!r}.")
    locked = ReviewPair.objects.select_for_update().get(pk=pair.pk)
    if locked.status == ReviewPair.Status.SAME:
        raise ReviewDecisionError(
            f"{locked}: already merged; a decision cannot undo a merge (split the company "
            "by hand).")
    is_open = status == ReviewPair.Status.OPEN
    locked.status = status
    locked.decided_by = None if is_open else user
    locked.decided_at = None if is_open else timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    pair.status, pair.decided_by, pair.decided_at = (
        locked.status, locked.decided_by, locked.decided_at)
    if status == ReviewPair.Status.SAME:
        return apply_same_decision(locked, user)
    return None


# Selectors: what the review desk reads.

@dataclass(frozen=True)
class EvidenceRow:
    field: str
    left: Any
    right: Any

    @property
    def differs(self) -> bool:
        return self.left != self.right


# The evidence fields in the order a person compares them; any others follow, sorted.
EVIDENCE_ORDER = ("name", "legal_name", "vat", "domain", "country", "people", "deleted")


def review_pair_evidence_rows(*, pair: ReviewPair) -> list[EvidenceRow]:
    """Return the two legacy rows' evidence field by field, in comparison order."""
    fields = set(pair.left_evidence) | set(pair.right_evidence)
    ordered = [name for name in EVIDENCE_ORDER if name in fields]
    ordered += sorted(fields - set(EVIDENCE_ORDER))
    return [EvidenceRow(name, pair.left_evidence.get(name), pair.right_evidence.get(name))
            for name in ordered]


def review_pair_companies(*, pair: ReviewPair) -> tuple[Company | None, Company | None]:
    """Return the unified companies of the pair's left and right rows (None: not imported)."""
    return companies_of(pair)


def review_pair_next_open(*, after_pk: int | None = None) -> ReviewPair | None:
    """Return the first open pair after `after_pk` (by id), wrapping round to the first."""
    open_pairs = ReviewPair.objects.filter(status=ReviewPair.Status.OPEN).order_by("pk")
    if after_pk is not None:
        following = open_pairs.filter(pk__gt=after_pk).first()
        if following is not None:
            return following
    return open_pairs.first()


def review_pair_open_count() -> int:
    return ReviewPair.objects.filter(status=ReviewPair.Status.OPEN).count()


def review_company_contents(*, company: Company) -> dict[str, int]:
    """Return how many teams, memberships, projects and documents a merge would move."""
    return {
        "teams": company.teams.count(),
        "memberships": company.memberships.count(),
        "projects": Project.objects.filter(company=company).count(),
        "documents": Document.objects.filter(company=company).count(),
    }
