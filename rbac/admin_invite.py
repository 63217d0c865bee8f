"""The admin's "Invite a person" page on a company: e-mail, role and team, one service call.

rbac/admin.py mixes CompanyInviteMixin into CompanyAdmin; the page is linked from the
company's change page. The rules (rank, idempotence, the set-password e-mail) are those of
rbac.services.membership_invite, which the API calls too.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from . import selectors, services
from .access import access_profile
from .models import Company, Role, Team


class InviteForm(forms.Form):
    email = forms.EmailField(label="E-mail address", max_length=254)
    role = forms.ModelChoiceField(queryset=Role.objects.none(), empty_label=None)
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, empty_label="— the whole company —",
        help_text="Leave empty for a role in the whole company.",
    )

    def __init__(self, *args, company: Company, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = roles_grantable(actor=actor, company=company)
        self.fields["role"].label_from_instance = lambda role: f"{role.name} (rank {role.rank})"
        teams = company.teams.all()
        labels = selectors.team_path_labels(teams=teams, with_company=False)
        self.fields["team"].queryset = teams
        self.fields["team"].label_from_instance = lambda team: labels.get(team.pk, team.name)
        viewer = Role.objects.filter(slug="viewer").first()
        if viewer is not None and viewer in self.fields["role"].queryset:
            self.fields["role"].initial = viewer.pk


def roles_grantable(*, actor, company: Company):
    """Return the roles the actor may hand out in the company: none above their own rank."""
    roles = Role.objects.order_by("-rank", "name")
    if actor.is_superuser:
        return roles
    rank = access_profile(actor).best_rank(company.pk, needs="rbac.manage_permissions")
    return roles.filter(rank__lte=rank) if rank is not None else roles.none()


class CompanyInviteMixin:
    """Add /admin/rbac/company/<id>/invite/ to a company ModelAdmin."""

    invite_template = "admin/rbac/company/invite.html"

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_invite"
        return [
            path("<path:object_id>/invite/", self.admin_site.admin_view(self.invite_view),
                 name=name),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        if object_id and str(object_id).isdigit():
            extra_context["can_invite"] = selectors.company_administered_by(
                user=request.user, company=Company(pk=int(object_id))
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def invite_view(self, request, object_id):
        company = self.get_object(request, object_id)
        if company is None:  # missing or not the administrator's to see: alike
            raise Http404
        if not selectors.company_administered_by(user=request.user, company=company):
            raise PermissionDenied
        form = InviteForm(request.POST or None, company=company, actor=request.user)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                invitation = services.membership_invite(
                    actor=request.user, company=company, email=data["email"], role=data["role"],
                    team=data["team"], base_url=request.build_absolute_uri("/").rstrip("/"),
                )
            except (PermissionDenied, ValidationError) as error:
                text = "; ".join(error.messages) if isinstance(error, ValidationError) else str(
                    error)
                form.add_error(None, text)
            else:
                messages.success(request, invitation_message(invitation))
                if "_another" in request.POST:
                    return HttpResponseRedirect(request.path)
                return HttpResponseRedirect(
                    reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                            args=[company.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Invite a person to {company}",
            "opts": self.opts,
            "original": company,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, self.invite_template, context)


def invitation_message(invitation: services.Invitation) -> str:
    membership = invitation.membership
    where = f"the team {membership.team}" if membership.team_id else str(membership.company)
    if invitation.user_created:
        mail = ("A set-password e-mail was sent." if invitation.email_sent
                else "The set-password e-mail could not be sent: send it again with the users "
                "list's action \"E-mail a set-password link\".")
        return f"Invited {invitation.user.email} as {membership.role} in {where}. {mail}"
    if invitation.membership_created:
        return (f"{invitation.user.email} already had an account and is now "
                f"{membership.role} in {where}.")
    return f"{invitation.user.email} is {membership.role} in {where}."
