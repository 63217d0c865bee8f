"""Access in words on admin pages: who can see an object and why; what a person can do.

Mixins for ModelAdmins (rbac/admin.py and backoffice/projects/admin.py use them); the
sentences come from rbac.selectors, the HTML from templates/admin/rbac/access/.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_otp import devices_for_user

from . import selectors
from .models import AccessToken, APIKey, User
from .scopes import scope_of
from .two_factor import two_factor_required

WHO_CAN_SEE_TITLE = "Who can see this, and why"
WHO_CAN_SEE_LINES = 50


class WhoCanSeeMixin:
    """Add a read-only "who can see this, and why" section to an object's change page."""

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "who_can_see") if obj is not None else fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (name, {**options, "fields": [f for f in options["fields"] if f != "who_can_see"]})
            for name, options in super().get_fieldsets(request, obj)
        ]
        if obj is not None:
            fieldsets.append((WHO_CAN_SEE_TITLE, {"fields": ["who_can_see"]}))
        return fieldsets

    @admin.display(description="people")
    def who_can_see(self, obj):
        found = selectors.who_can_access(obj=obj, action="view", limit=WHO_CAN_SEE_LINES)
        company_id, _ = scope_of(obj)
        members_url = reverse("admin:rbac_membership_changelist")
        return render_to_string("admin/rbac/access/who_can_see.html", {
            "reasons": found.reasons, "more": found.more, "verbose_name": obj._meta.verbose_name,
            "members_url": f"{members_url}?company__id__exact={company_id}",
        })


class PersonHereMixin:
    """On a membership's page: everything its person can do in its company, and why."""

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "what_they_can_do_here") if obj is not None else fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (name, {**options, "fields": [
                f for f in options["fields"] if f != "what_they_can_do_here"]})
            for name, options in super().get_fieldsets(request, obj)
        ]
        if obj is not None:
            fieldsets.append(("What this person can do here", {
                "fields": ["what_they_can_do_here"],
                "description": "All of their roles and direct grants in this company.",
            }))
        return fieldsets

    @admin.display(description="in this company")
    def what_they_can_do_here(self, obj):
        sentences = selectors.person_access_in_company(user=obj.user, company=obj.company)
        return render_to_string("admin/rbac/access/sentences.html", {"sentences": sentences})


class PersonAccessMixin:
    """On a person's page: their access in words; the raw permission picker for superusers."""

    superuser_only_fields = ("groups", "user_permissions", "is_superuser")

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is None:
            return fieldsets
        if not request.user.is_superuser:
            fieldsets = [
                (name, {**options, "fields": [
                    f for f in options["fields"] if f not in self.superuser_only_fields]})
                for name, options in fieldsets
            ]
        return [(None, fieldsets[0][1]), ("What they can do", {"fields": ["access_summary"]}),
                *fieldsets[1:]]

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "access_summary") if obj is not None else fields

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj._admin_reader = request.user  # the readonly field renders for this reader
        return obj

    @admin.display(description="access")
    def access_summary(self, obj: User):
        reader = obj._admin_reader
        visible = None if reader.is_superuser else list(
            selectors.companies_for_user(user=reader).values_list("pk", flat=True))
        companies = selectors.person_access(user=obj, companies=visible)
        tokens_url = reverse("admin:rbac_accesstoken_changelist")
        return render_to_string("admin/rbac/access/person.html", {
            "person": obj,
            "companies": companies,
            "devices": [
                {"name": device.name, "kind": device._meta.verbose_name,
                 "confirmed": device.confirmed}
                for device in devices_for_user(obj, confirmed=None)
            ],
            "two_factor_required": two_factor_required(obj),
            "tokens": _token_summary(obj),
            "api_keys": _api_keys_managed(obj, companies),
            "show_token_link": reader.is_superuser,
            "tokens_url": tokens_url + f"?user__id__exact={obj.pk}",
        })


def _token_summary(user: User) -> dict:
    now = timezone.now()
    live = AccessToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=now)
    return live.aggregate(last_used=Max("last_used_at")) | {"active": live.count()}


API_KEYS_SHOWN = 20


def _api_keys_managed(user: User, companies) -> list[APIKey]:
    """Return the live API keys of the companies where the person's role handles keys."""
    company_ids = [
        entry.company.pk for entry in companies
        if entry.company_active and "rbac.view_apikey" in entry.permissions
    ]
    if not company_ids:
        return []
    return list(
        APIKey.objects.filter(company_id__in=company_ids, revoked_at__isnull=True)
        .select_related("company").order_by("company__name", "name")[:API_KEYS_SHOWN]
    )
