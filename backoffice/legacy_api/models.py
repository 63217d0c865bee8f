"""Who still calls the legacy APIs, and the Portal grants made through them after cut-over."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class LegacyAPI(models.TextChoices):
    CORE = "core", "Core /v1"
    PORTAL = "portal", "Portal /api"


class CredentialKind(models.TextChoices):
    KEY = "key", "API key (Portal pk_)"
    CLIENT = "client", "API client (Core OAuth2)"
    PERSON = "person", "Person"
    ANONYMOUS = "anonymous", "No credential"


class LegacyUsage(models.Model):
    """Calls of one legacy endpoint by one credential, summed from the cache's counters.

    Written only by `usage.usage_flush` (periodically and by `legacy_usage_flush`), never
    per request.
    """

    api = models.CharField(max_length=16, choices=LegacyAPI.choices)
    endpoint = models.CharField(
        max_length=128, help_text='Method and route, e.g. "GET /v1/users/{id}".'
    )
    credential_kind = models.CharField(max_length=16, choices=CredentialKind.choices)
    credential_id = models.BigIntegerField(
        help_text="The APIKey's id for keys and clients, the User's id for people, 0 if none."
    )
    credential_label = models.CharField(max_length=255, blank=True)
    company = models.ForeignKey(
        "rbac.Company", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="The key's or client's company; empty for people.",
    )
    calls = models.BigIntegerField(default=0)
    first_call_at = models.DateTimeField(default=timezone.now)
    last_call_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "legacy API usage"
        verbose_name_plural = "legacy API usage (migration board)"
        ordering = ["-last_call_at", "endpoint"]
        constraints = [
            models.UniqueConstraint(
                fields=["credential_kind", "credential_id", "endpoint"],
                name="legacy_api_usage_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.credential_label or self.credential_kind}: {self.endpoint} ×{self.calls}"


class LegacyGrant(models.Model):
    """A Portal permission grant made through the legacy API after cut-over.

    Portal's grant is one row with a bit mask; the new system keeps one direct permission
    per bit. This row gives the grant its Portal-shaped id (`ids.NEW_ID_OFFSET` + pk) so a
    client can delete it as it always did.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    resource_type = models.CharField(max_length=16)
    object_id = models.BigIntegerField()
    perms = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "legacy grant"
        verbose_name_plural = "legacy grants"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"grant of {self.perms} on {self.resource_type} {self.object_id} to {self.user_id}"
