"""The back-office's access-control pages: companies, teams, people, roles."""

from __future__ import annotations

from collections import defaultdict

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm
from django.contrib.auth.forms import UserCreationForm as BaseUserCreationForm
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from guardian.admin import AdminUserObjectPermissionsForm, GuardedModelAdminMixin, UserManage

from . import selectors, services
from .access_words import permissions_in_words, scope_in_words
from .admin_access import PersonAccessMixin, WhoCanSeeMixin
from .admin_auth import AccessTokenAdmin, APIKeyCreateOnceMixin, invite_to_set_password
from .admin_invite import CompanyInviteMixin
from .admin_members import MembershipAdmin, members_link, members_url
from .admin_scoping import ChangeFormHistoryAdmin, ScopedModelAdmin, may_save
from .admin_teams import TeamAutocompleteUrlMixin, TeamPickerMixin
from .models import (
    AccessToken,
    APIKey,
    Company,
    CompanyUserObjectPermission,
    Membership,
    Role,
    Team,
    TeamUserObjectPermission,
    User,
)
from .pagination import IdsFirstPaginator
from .search import IndexedSearchMixin
from .two_factor import TwoFactorAdminLoginForm

# The access view lists this many members; the members list has the rest.
ACCESS_VIEW_MEMBERS = 25


class ScopedUserManage(UserManage):
    """Guardian's user picker, limited to the people the administrator may see."""

    def __init__(self, *args, visible_users=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.visible_users = visible_users

    def clean_user(self):
        user = super().clean_user()
        if self.visible_users is not None and not self.visible_users.filter(pk=user.pk).exists():
            raise forms.ValidationError(self.fields["user"].error_messages["does_not_exist"])
        return user


class ServiceObjectPermissionsForm(AdminUserObjectPermissionsForm):
    """Guardian's permission form, saving through the rbac services (rule: nothing else
    calls assign_perm)."""

    granted_by = None

    def save_obj_perms(self) -> None:
        chosen = set(self.cleaned_data[self.get_obj_perms_field_name()])
        offered = {choice[0] for choice in self.get_obj_perms_field_choices()}
        held = set(self.get_obj_perms_field_initial())
        for codename in (offered - chosen) & held:
            services.revoke_object_permission(
                user=self.user, obj=self.obj, action=codename, revoked_by=self.granted_by
            )
        for codename in chosen - held:
            services.grant_object_permission(
                user=self.user, obj=self.obj, action=codename, granted_by=self.granted_by
            )


class ObjectPermissionPagesMixin(GuardedModelAdminMixin):
    """Guardian's object-permission pages, only for those who administer the company.

    Guardian's default lets anyone who may change the object edit every user's grants on
    it (guardian issue 756); here the company's manage_permissions decides, groups are left
    to superusers, and every change goes through rbac.services.
    """

    def _company_of(self, request, object_pk):
        obj = self.get_queryset(request).filter(pk=object_pk).first()
        if obj is None:
            raise Http404
        company = obj if isinstance(obj, Company) else obj.company
        if not selectors.company_administered_by(user=request.user, company=company):
            raise PermissionDenied
        return obj

    def obj_perms_manage_view(self, request, object_pk):
        self._company_of(request, object_pk)
        return super().obj_perms_manage_view(request, object_pk)

    def obj_perms_manage_user_view(self, request, object_pk, user_id):
        self._company_of(request, object_pk)
        if not selectors.users_for_user(user=request.user).filter(pk=user_id).exists():
            raise Http404
        return super().obj_perms_manage_user_view(request, object_pk, user_id)

    def obj_perms_manage_group_view(self, request, object_pk, group_id):
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().obj_perms_manage_group_view(request, object_pk, group_id)

    def get_obj_perms_user_select_form(self, request):
        visible = None if request.user.is_superuser else selectors.users_for_user(user=request.user)

        class Form(ScopedUserManage):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, visible_users=visible, **kwargs)

        return Form

    def get_obj_perms_manage_user_form(self, request):
        class Form(ServiceObjectPermissionsForm):
            granted_by = request.user

        return Form


class StaffReadsSuperuserWritesMixin:
    """Every staff user may read these pages; only superusers may write."""

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


# Fields only a superuser may set, whoever else may one day change users or roles.
SUPERUSER_ONLY_USER_FIELDS = ("is_active", "is_staff", "is_superuser", "groups",
                              "user_permissions")
SUPERUSER_ONLY_ROLE_FIELDS = ("slug", "rank", "permissions")


class UserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "first_name", "last_name")


class UserChangeForm(BaseUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(IndexedSearchMixin, PersonAccessMixin, StaffReadsSuperuserWritesMixin,
                DjangoUserAdmin, ChangeFormHistoryAdmin):
    # Staff see the people of their companies; changing a person, who may belong to
    # several companies, is for superusers.
    add_form = UserCreationForm
    form = UserChangeForm
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_active", "is_staff", "is_superuser")
    list_filter = ("is_active", "is_staff", "is_superuser", "email_verified")
    search_fields = ("email", "first_name", "last_name")
    show_full_result_count = False
    paginator = IdsFirstPaginator
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "email_verified", "cognito_sub")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups",
                               "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",),
                             "fields": ("email", "first_name", "last_name",
                                        "password1", "password2")}),)
    filter_horizontal = ("groups", "user_permissions")
    readonly_fields = ("last_login", "date_joined")
    actions = [invite_to_set_password]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk__in=selectors.users_for_user(user=request.user).values("pk"))

    def get_readonly_fields(self, request, obj=None):
        # Whatever else may one day be opened to staff, what a person may do everywhere
        # stays with superusers; the change form and the history revert share this.
        fields = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return fields
        return (*fields, *SUPERUSER_ONLY_USER_FIELDS)


@admin.register(Company)
class CompanyAdmin(CompanyInviteMixin, ObjectPermissionPagesMixin, ScopedModelAdmin):
    list_display = ("name", "country", "vat_number", "domain", "status", "updated_at")
    list_filter = ("status", "country")
    search_fields = ("name", "legal_name", "vat_number", "domain")
    readonly_fields = ("created_at", "updated_at", "members", "team_tree", "access_view")
    fieldsets = (
        (None, {"fields": ("name", "legal_name", "status")}),
        ("Identity", {"fields": ("vat_number", "country", "domain")}),
        # A link to the paged members list, not an inline of every member: a company of
        # hundreds of members posted more fields than Django accepts (finding 3).
        ("Members", {"fields": ("members",)}),
        ("Teams", {"fields": ("team_tree",)}),
        ("Access", {"fields": ("access_view",),
                    "description": "What each member can do in this company, and why."}),
        ("Dates", {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )
    change_form_template = "admin/rbac/company/change_form.html"

    @admin.display(description="members")
    def members(self, obj: Company):
        return members_link(obj) if obj.pk else "—"

    @admin.display(description="team tree")
    def team_tree(self, obj: Company):
        if obj.pk is None:
            return "—"
        children = defaultdict(list)
        for team in obj.teams.order_by("name"):
            children[team.parent_id].append(team)

        def render(parent_id):
            items = children.get(parent_id, [])
            if not items:
                return ""
            return format_html(
                "<ul>{}</ul>",
                format_html_join("", "<li><a href='{}'>{}</a>{}</li>", (
                    (reverse("admin:rbac_team_change", args=[t.pk]), t.name, render(t.pk))
                    for t in items
                )),
            )

        return render(None) or "No teams yet."

    @admin.display(description="access view")
    def access_view(self, obj: Company):
        if obj.pk is None:
            return "—"
        rows = selectors.company_access_view(company=obj, limit=ACCESS_VIEW_MEMBERS)
        if not rows:
            return "Nobody has a role in this company yet."
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (row["user"].email, _grants_html(row), _permissions_html(row)) for row in rows
        ))
        total = selectors.company_member_count(company=obj)
        more = "" if total <= len(rows) else format_html(
            "<p>The first {} of {} members by e-mail address; <a href='{}'>the members "
            "list</a> has them all.</p>", len(rows), total, members_url(obj))
        return format_html(
            "<table class='access-view'><thead><tr><th>Member</th><th>Because of</th>"
            "<th>Can</th></tr></thead><tbody>{}</tbody></table>{}",
            body, more,
        )


# format_html_join escapes its separator unless it is marked safe (finding 5).
LINE_BREAK = mark_safe("<br>")  # noqa: S308 - a constant tag, no input


def _grants_html(row):
    grants = format_html_join(LINE_BREAK, "{} role {}", (
        (grant["role"].name, scope_in_words(grant["scope"])) for grant in row["grants"]
    ))
    if row["direct"]:
        direct = permissions_in_words(row["direct"])
        grants = format_html("{}{}direct grant on the company: {}", grants, LINE_BREAK, direct)
    return grants


def _permissions_html(row):
    return format_html_join(LINE_BREAK, "{}: can {}.", (
        (scope_in_words(grant["scope"], sentence_start=True),
         permissions_in_words(grant["permissions"]))
        for grant in row["grants"]
    ))


@admin.register(Team)
class TeamAdmin(TeamAutocompleteUrlMixin, TeamPickerMixin, WhoCanSeeMixin,
                ObjectPermissionPagesMixin, ScopedModelAdmin):
    list_display = ("name", "company", "parent")
    list_select_related = ("company", "parent")
    search_fields = ("name", "company__name")
    list_filter = ("company__country",)
    autocomplete_fields = ("company", "parent")
    readonly_fields = ("members",)

    def save_model(self, request, obj, form, change) -> None:
        if not may_save(request.user, obj, change=change):
            raise PermissionDenied
        services.team_save(team=obj)

    @admin.display(description="members")
    def members(self, obj: Team):
        return members_link(obj) if obj.pk else "—"


@admin.register(Role)
class RoleAdmin(StaffReadsSuperuserWritesMixin, ChangeFormHistoryAdmin):
    # Roles are global definitions: staff read them, only superusers add or edit them.
    list_display = ("name", "slug", "rank")
    search_fields = ("name", "slug")
    filter_horizontal = ("permissions",)
    prepopulated_fields = {"slug": ("name",)}

    def get_readonly_fields(self, request, obj=None):
        # A role holds in every company: its identity, rank and permissions are global.
        fields = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return fields
        return (*fields, *SUPERUSER_ONLY_ROLE_FIELDS)

    def get_prepopulated_fields(self, request, obj=None):
        return super().get_prepopulated_fields(request, obj) if request.user.is_superuser else {}



admin.site.register(Membership, MembershipAdmin)


@admin.register(APIKey)
class APIKeyAdmin(APIKeyCreateOnceMixin, ScopedModelAdmin):
    list_display = ("name", "company", "prefix", "hash_scheme", "scopes", "expires_at",
                    "revoked_at", "last_used_at")
    list_select_related = ("company",)
    list_filter = ("hash_scheme", "scopes")
    search_fields = ("name", "prefix", "company__name")
    autocomplete_fields = ("company",)
    # A key stays in its company, and a revoked key stays revoked (issue a new one).
    readonly_fields = ("company", "prefix", "hashed_key", "hash_scheme", "revoked_at",
                       "last_used_at", "created_at")


class DirectPermissionAdmin(admin.ModelAdmin):
    """Direct grants, listed for superusers; they are changed on the object's own page."""

    list_display = ("user", "permission", "content_object")
    list_select_related = ("user", "permission", "content_object")
    search_fields = ("user__email",)
    autocomplete_fields = ("user", "content_object")
    show_full_result_count = False

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


admin.site.register(AccessToken, AccessTokenAdmin)
admin.site.register(CompanyUserObjectPermission, DirectPermissionAdmin)
admin.site.register(TeamUserObjectPermission, DirectPermissionAdmin)

# Staff with a TOTP device, and superusers where production requires it, give a code.
admin.site.login_form = TwoFactorAdminLoginForm
admin.site.login_template = "otp/admin111/login.html"
