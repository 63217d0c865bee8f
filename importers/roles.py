"""Several roles for one person in one scope: the highest rank wins.

The one rule behind the import of Core's and Portal's roles (`load.access`), the upload
of one role table in the admin (`admin_csv`), and the merging of two companies whose
people held roles in both (`merging`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

Candidate = TypeVar("Candidate")


def highest_ranked(candidates: Sequence[Candidate], rank: Callable[[Candidate], int]) -> Candidate:
    """Return the candidate of the highest rank; among equal ranks, the first one given."""
    if not candidates:
        raise ValueError("No role to choose from.")
    return max(candidates, key=rank)  # max keeps the first of equal keys
