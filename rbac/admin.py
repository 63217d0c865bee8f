"""The back-office's access-control pages: companies, teams, people, roles."""

from __future__ import annotations

from collections import defaultdict

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm
from django.contrib.auth.forms import UserCreationForm as BaseUserCreationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from guardian.admin import AdminUserObjectPermissionsForm, GuardedModelAdminMixin, UserManage
from simple_history.admin import SimpleHistoryAdmin

from . import selectors, services
from .admin_auth import AccessTokenAdmin, APIKeyCreateOnceMixin, invite_to_set_password
from .admin_scoping import ScopedInlineMixin, ScopedModelAdmin
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


def _apply_service(request, call) -> bool:
    """Run a service call for an admin form; turn its refusals into a message, not a 500."""
    try:
        call()
    except (PermissionDenied, ValidationError) as exc:
        text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, text or "You are not allowed to do that.")
        return False
    return True


class MembershipInline(ScopedInlineMixin, admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "team", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user", "team")
    verbose_name = "role"
    verbose_name_plural = "members and their roles"


class TeamInline(ScopedInlineMixin, admin.TabularInline):
    model = Team
    fk_name = "company"
    extra = 0
    fields = ("name", "parent")
    autocomplete_fields = ("parent",)
    show_change_link = True


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


class UserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "first_name", "last_name")


class UserChangeForm(BaseUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(IndexedSearchMixin, StaffReadsSuperuserWritesMixin, DjangoUserAdmin,
                SimpleHistoryAdmin):
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



@admin.register(Company)
class CompanyAdmin(ObjectPermissionPagesMixin, ScopedModelAdmin):
    list_display = ("name", "country", "vat_number", "domain", "status", "updated_at")
    list_filter = ("status", "country")
    search_fields = ("name", "legal_name", "vat_number", "domain")
    readonly_fields = ("created_at", "updated_at", "team_tree", "access_view")
    fieldsets = (
        (None, {"fields": ("name", "legal_name", "status")}),
        ("Identity", {"fields": ("vat_number", "country", "domain")}),
        ("Teams", {"fields": ("team_tree",)}),
        ("Access", {"fields": ("access_view",),
                    "description": "What each member can do in this company, and why."}),
        ("Dates", {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )
    inlines = [MembershipInline]
    change_form_template = "admin/rbac/company/change_form.html"

    def get_inlines(self, request, obj):
        return [MembershipInline] if obj is not None else []

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        company = form.instance
        for deleted in formset.deleted_forms:
            if deleted.instance.pk:
                _apply_service(request, lambda m=deleted.instance: services.revoke_role(
                    membership=m, revoked_by=request.user))
        for inline_form in formset.forms:
            if inline_form in formset.deleted_forms or not inline_form.has_changed():
                continue
            data = inline_form.cleaned_data
            if not data or not data.get("user") or not data.get("role"):
                continue
            instance = inline_form.instance
            if instance.pk and (instance.team_id, instance.user_id) != (
                data.get("team") and data["team"].pk, data["user"].pk
            ):
                original = Membership.objects.get(pk=instance.pk)
                _apply_service(request, lambda m=original: services.revoke_role(
                    membership=m, revoked_by=request.user))
            _apply_service(request, lambda d=data: services.grant_role(
                user=d["user"], company=company, role=d["role"], team=d.get("team"),
                granted_by=request.user))
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

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
        rows = selectors.company_access_view(company=obj)
        if not rows:
            return "Nobody has a role in this company yet."
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (row["user"].email, _grants_html(row), _permissions_html(row)) for row in rows
        ))
        return format_html(
            "<table class='access-view'><thead><tr><th>Member</th><th>Because of</th>"
            "<th>Can</th></tr></thead><tbody>{}</tbody></table>",
            body,
        )


def _grants_html(row):
    grants = format_html_join("<br>", "{} ({})", (
        (grant["role"].name, grant["scope"]) for grant in row["grants"]
    ))
    if row["direct"]:
        grants = format_html("{}<br>direct grant: {}", grants, ", ".join(row["direct"]))
    return grants


def _permissions_html(row):
    by_scope = []
    for grant in row["grants"]:
        actions = defaultdict(list)
        for perm in grant["permissions"]:
            codename = perm.split(".", 1)[1]
            action, _, model = codename.partition("_")
            actions[model].append(action)
        summary = "; ".join(
            f"{model}: {', '.join(sorted(done))}" for model, done in sorted(actions.items())
        )
        by_scope.append((grant["scope"], summary))
    return format_html_join("<br>", "<b>{}</b>: {}", by_scope)


@admin.register(Team)
class TeamAdmin(ObjectPermissionPagesMixin, ScopedModelAdmin):
    list_display = ("name", "company", "parent")
    list_select_related = ("company", "parent")
    search_fields = ("name", "company__name")
    list_filter = ("company__country",)
    autocomplete_fields = ("company", "parent")
    inlines = [MembershipInline]

    def save_model(self, request, obj, form, change) -> None:
        if not request.user.is_superuser:
            action = "change" if change else "add"
            if not request.user.has_perm(f"rbac.{action}_team", obj):
                raise PermissionDenied
        services.team_save(team=obj)

    def save_formset(self, request, form, formset, change):
        CompanyAdmin.save_formset(self, request, form, formset, change)


@admin.register(Role)
class RoleAdmin(StaffReadsSuperuserWritesMixin, SimpleHistoryAdmin):
    # Roles are global definitions: staff read them, only superusers add or edit them.
    list_display = ("name", "slug", "rank")
    search_fields = ("name", "slug")
    filter_horizontal = ("permissions",)
    prepopulated_fields = {"slug": ("name",)}



@admin.register(Membership)
class MembershipAdmin(ScopedModelAdmin):
    list_display = ("user", "company", "team", "role", "created_at")
    list_select_related = ("user", "company", "team", "role")
    list_filter = ("role",)
    search_fields = ("user__email", "company__name", "team__name")
    autocomplete_fields = ("user", "company", "team")

    def save_model(self, request, obj, form, change) -> None:
        if change:
            original = Membership.objects.get(pk=obj.pk)
            if (original.user_id, original.company_id, original.team_id) != (
                obj.user_id, obj.company_id, obj.team_id
            ):
                services.revoke_role(membership=original, revoked_by=request.user)
        membership = services.grant_role(
            user=obj.user, company=obj.company, role=obj.role, team=obj.team,
            granted_by=request.user,
        )
        obj.pk = membership.pk

    def delete_model(self, request, obj) -> None:
        services.revoke_role(membership=obj, revoked_by=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for membership in queryset.select_related("company", "role", "user"):
            services.revoke_role(membership=membership, revoked_by=request.user)


@admin.register(APIKey)
class APIKeyAdmin(APIKeyCreateOnceMixin, ScopedModelAdmin):
    list_display = ("name", "company", "prefix", "hash_scheme", "scopes", "expires_at",
                    "revoked_at", "last_used_at")
    list_select_related = ("company",)
    list_filter = ("hash_scheme", "scopes")
    search_fields = ("name", "prefix", "company__name")
    autocomplete_fields = ("company",)
    readonly_fields = ("prefix", "hashed_key", "hash_scheme", "last_used_at", "created_at")


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
