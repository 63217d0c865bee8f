"""Plain records that the legacy sources hand to matching: no Django, no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Source = Literal["core", "portal"]
RecordKey = tuple[Source, int]


@dataclass(frozen=True)
class CompanyRecord:
    """One legacy company row, with values as the legacy system holds them.

    Matching normalises every field itself, so raw values are fine: ``country`` may be
    ``"Deutschland"``, ``domain`` may be Portal's ``website`` URL, ``vat`` may be
    ``"de 123 456 789"``, ``emails`` may differ in case. ``emails`` are the addresses of
    the company's Core users or Portal members.
    """

    source: Source
    legacy_id: int
    name: str
    legal_name: str | None = None
    vat: str | None = None
    country: str | None = None
    domain: str | None = None
    deleted: bool = False
    emails: frozenset[str] = field(default_factory=frozenset)

    @property
    def key(self) -> RecordKey:
        return (self.source, self.legacy_id)
