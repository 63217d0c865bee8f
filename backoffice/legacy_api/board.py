"""The migration board's reads: per credential and endpoint, calls and last call, and
whether the credential still calls the legacy APIs at all."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from .models import LegacyUsage


def moved_before() -> datetime:
    """A credential with no legacy call since this moment counts as moved."""
    return timezone.now() - timedelta(days=settings.LEGACY_API_MOVED_AFTER_DAYS)


def usage_board(queryset: QuerySet[LegacyUsage] | None = None) -> QuerySet[LegacyUsage]:
    """Return usage rows annotated with `credential_last_call`: the last legacy call of the
    same credential on any endpoint (one query for the whole board)."""
    queryset = LegacyUsage.objects.all() if queryset is None else queryset
    last = (LegacyUsage.objects
            .filter(credential_kind=OuterRef("credential_kind"),
                    credential_id=OuterRef("credential_id"))
            .values("credential_kind", "credential_id")
            .annotate(last=Max("last_call_at")).values("last"))
    return queryset.annotate(credential_last_call=Subquery(last)).select_related("company")


def usage_status(usage: LegacyUsage) -> str:
    return "moved" if usage.credential_last_call < moved_before() else "still calling"
