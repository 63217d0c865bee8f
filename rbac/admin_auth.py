"""Admin pieces for authentication: keys shown once, set-password invitations, bearer tokens.

rbac/admin.py registers them; see docs/authentication.md.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from . import selectors
from .access import access_profile
from .invitations import password_invites_send, users_without_password
from .models import AccessToken, APIKey, Company
from .tokens import SCOPES, access_token_revoke, api_key_revoke, api_key_set_new_secret


def _scope_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        choices=[(scope, scope) for scope in SCOPES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="read: look; write: change; admin: people, roles and keys as well. "
                  "Only the scopes your own role in the company covers are offered.",
    )


def _scopes_str(chosen) -> str:
    return " ".join(scope for scope in SCOPES if scope in set(chosen))


class APIKeyCreationForm(forms.ModelForm):
    """A new key: its scopes a choice among those the person's role in the company covers."""

    actor = None  # the person adding the key; set per request by the admin
    scopes = _scope_field()

    class Meta:
        model = APIKey
        fields = ["company", "name", "scopes", "expires_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("scopes", ["read"])
        if self.actor is not None and not self.actor.is_superuser:
            # The company is chosen in this same form: offer what any of the person's
            # companies allows, and check the chosen one's in clean().
            offered = set()
            company_ids = access_profile(self.actor).companies_with("rbac.add_apikey")
            for company in Company.objects.filter(pk__in=company_ids):
                offered |= set(selectors.api_key_scopes_grantable(user=self.actor,
                                                                  company=company))
            self.fields["scopes"].choices = [(s, s) for s in SCOPES if s in offered]

    def clean_scopes(self) -> str:
        return _scopes_str(self.cleaned_data["scopes"])

    def clean(self):
        cleaned = super().clean()
        company, scopes = cleaned.get("company"), cleaned.get("scopes")
        if company is not None and scopes is not None and self.actor is not None:
            grantable = selectors.api_key_scopes_grantable(user=self.actor, company=company)
            beyond = [scope for scope in scopes.split() if scope not in grantable]
            if beyond:
                self.add_error("scopes", f"Your role in {company} does not cover the scope "
                                         f"{', '.join(beyond)}.")
        return cleaned


class APIKeyChangeForm(forms.ModelForm):
    """An existing key: renamed, given another expiry, its scopes narrowed or widened only
    as far as the person's role in the key's company covers. Its company and revocation
    are not edited (a revoked key stays revoked: issue a new one)."""

    actor = None  # set per request by the admin
    scopes = _scope_field()

    class Meta:
        model = APIKey
        fields = ["name", "scopes", "expires_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        self.initial["scopes"] = instance.scopes.split()
        # What the key holds now, read from the database: a history revert binds this form
        # to an old version, whose wider scopes must not count as held.
        stored = APIKey.objects.filter(pk=instance.pk).values_list("scopes", flat=True).first()
        offered = set((stored or "").split())
        if self.actor is not None and instance.company_id is not None:
            offered |= set(selectors.api_key_scopes_grantable(user=self.actor,
                                                              company=instance.company))
        self.fields["scopes"].choices = [(s, s) for s in SCOPES if s in offered]

    def clean_scopes(self) -> str:
        return _scopes_str(self.cleaned_data["scopes"])


@admin.action(description="Revoke the selected API keys", permissions=["change"])
def revoke_api_keys(modeladmin, request, queryset) -> None:
    count = 0
    for api_key in queryset.filter(revoked_at__isnull=True):
        api_key_revoke(api_key=api_key)
        count += 1
    messages.success(request, f"Revoked {count} API keys; their bearer tokens stop working too.")


class APIKeyCreateOnceMixin:
    """Put first in an APIKey ModelAdmin's bases: a new key is generated, shown once, hashed.

    The add page asks for company, name, scopes and expiry only; the key is made by
    rbac.tokens and the page after saving shows it, never to be shown again.
    """

    add_form = APIKeyCreationForm
    form = APIKeyChangeForm
    add_fields = ("company", "name", "scopes", "expires_at")
    created_template = "admin/rbac/apikey/created.html"
    actions = [revoke_api_keys]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs.update(form=self.add_form, fields=self.add_fields)
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": self.add_fields})]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return super().get_readonly_fields(request, obj)

    def save_form(self, request, form, change):
        api_key = super().save_form(request, form, change)
        if not change:
            request._new_api_key = api_key_set_new_secret(api_key)
        return api_key

    def response_add(self, request, obj, post_url_continue=None):
        raw_key = getattr(request, "_new_api_key", None)
        if raw_key is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "title": "API key created",
            "opts": self.model._meta,
            "api_key": obj,
            "raw_key": raw_key,
        }
        response = TemplateResponse(request, self.created_template, context)
        # The page holds the only copy of the key: no cache may keep it.
        response["Cache-Control"] = "no-store"
        return response


@admin.action(description="E-mail a set-password link (users without a password)",
              permissions=["change"])
def invite_to_set_password(modeladmin, request, queryset) -> None:
    """The admin's invite_unmigrated: for the selected users who still have no password."""
    users = users_without_password().filter(pk__in=queryset.values("pk"))
    skipped = queryset.count() - users.count()
    base_url = request.build_absolute_uri("/").rstrip("/")
    result = password_invites_send(users=users, base_url=base_url)
    messages.success(request, f"Sent {len(result.sent)} set-password e-mails.")
    if skipped:
        messages.info(request, f"Skipped {skipped} users who have a password or are inactive.")
    for user, reason in result.failed:
        messages.error(request, f"Not sent to {user.email}: {reason}")


@admin.action(description="Revoke the selected tokens", permissions=["change"])
def revoke_access_tokens(modeladmin, request, queryset) -> None:
    count = 0
    for token in queryset.filter(revoked_at__isnull=True):
        access_token_revoke(token=token)
        count += 1
    messages.success(request, f"Revoked {count} tokens.")


class AccessTokenAdmin(admin.ModelAdmin):
    """Bearer tokens: looked at and revoked, never made or edited here (superusers only)."""

    list_display = ("__str__", "user", "api_key", "scopes", "created_at", "expires_at",
                    "revoked_at", "last_used_at")
    list_select_related = ("user", "api_key", "api_key__company")
    list_filter = ("revoked_at",)
    search_fields = ("user__email", "api_key__prefix", "api_key__name")
    date_hierarchy = "created_at"
    show_full_result_count = False
    readonly_fields = ("user", "api_key", "scopes", "created_at", "expires_at", "revoked_at",
                       "last_used_at")
    exclude = ("token_hash",)
    actions = [revoke_access_tokens]

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        # Needed for the revoke action; every field is read-only.
        return request.user.is_superuser

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


__all__ = [
    "APIKeyChangeForm",
    "APIKeyCreateOnceMixin",
    "APIKeyCreationForm",
    "AccessToken",
    "AccessTokenAdmin",
    "invite_to_set_password",
    "revoke_access_tokens",
    "revoke_api_keys",
]
