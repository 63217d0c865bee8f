"""Writes: the only ways roles and object permissions are given and taken."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import EmailValidator
from django.db import models, transaction
from guardian.models import UserObjectPermission, UserObjectPermissionBase
from guardian.shortcuts import assign_perm, remove_perm
from guardian.utils import get_direct_obj_perms_models

from .access import access_profile, forget_access_profile
from .invitations import password_invites_send
from .models import Company, Membership, Role, Team, User
from .principals import APIKeyPrincipal
from .scopes import scope_of


def _check_can_grant(*, actor: User | None, company: Company, role: Role) -> None:
    """Refuse unless the actor administers the company with a rank at or above the role's."""
    if actor is None or actor.is_superuser:
        return
    if isinstance(actor, APIKeyPrincipal):
        # The rank rule needs a person: a key holds no role (docs/api.md).
        raise PermissionDenied("An API key cannot grant roles; a person of the company can.")
    rank = access_profile(actor).best_rank(company.pk, needs="rbac.manage_permissions")
    if rank is None:
        raise PermissionDenied(f"You do not administer {company}.")
    if role.rank > rank:
        raise PermissionDenied(
            f"You cannot grant {role} (rank {role.rank}): it outranks your own role (rank {rank})."
        )


@transaction.atomic
def grant_role(
    *, user: User, company: Company, role: Role, team: Team | None = None,
    granted_by: User | None = None,
) -> Membership:
    """Give a user a role in a company (or one of its teams); replaces their role in that scope."""
    _check_can_grant(actor=granted_by, company=company, role=role)
    membership = Membership.objects.filter(user=user, company=company, team=team).first()
    if membership is not None:
        if granted_by is not None:
            _check_can_grant(actor=granted_by, company=company, role=membership.role)
        if membership.role_id == role.pk:
            return membership
        membership.role = role
    else:
        membership = Membership(user=user, company=company, team=team, role=role)
    membership.full_clean(validate_unique=False)
    membership.save()
    forget_access_profile(user)
    return membership


@transaction.atomic
def revoke_role(*, membership: Membership, revoked_by: User | None = None) -> None:
    """Take a role away. A user left with no role in the company loses their direct grants there."""
    _check_can_grant(actor=revoked_by, company=membership.company, role=membership.role)
    user, company = membership.user, membership.company
    membership.delete()
    if not Membership.objects.filter(user=user, company=company).exists():
        _remove_company_direct_grants(user=user, company=company)
    forget_access_profile(user)


def _scope(membership: Membership) -> tuple[int, int, int | None]:
    return membership.user_id, membership.company_id, membership.team_id


def membership_check_save(
    *, membership: Membership | None, user: User, company: Company, role: Role,
    team: Team | None = None, actor: User | None = None,
) -> None:
    """Raise unless `membership_save` with these arguments would succeed; change nothing.

    Forms call it from their validation, so a refused grant is a form error and nothing
    is saved, instead of a message beside "changed successfully".
    """
    if team is not None and team.company_id != company.pk:
        raise ValidationError({"team": "The team belongs to another company."})
    _check_can_grant(actor=actor, company=company, role=role)
    target = (user.pk, company.pk, team.pk if team is not None else None)
    if membership is not None and membership.pk:
        original = Membership.objects.select_related("company", "role").get(pk=membership.pk)
        # Changing someone's role or moving it takes the old one away: it must not
        # outrank the actor either.
        if original.role_id != role.pk or _scope(original) != target:
            _check_can_grant(actor=actor, company=original.company, role=original.role)
    held = Membership.objects.filter(
        user=user, company=company, team=team
    ).exclude(pk=getattr(membership, "pk", None)).select_related("role").first()
    if held is not None:
        _check_can_grant(actor=actor, company=company, role=held.role)


@transaction.atomic
def membership_save(
    *, membership: Membership | None, user: User, company: Company, role: Role,
    team: Team | None = None, actor: User | None = None,
) -> Membership:
    """Create a membership, or change the role, person or scope of an existing one.

    One transaction: a refusal (PermissionDenied, ValidationError) leaves everything as
    it was. A moved membership is granted in its new scope before the old one is revoked,
    so the person never holds no role and keeps their direct grants.
    """
    membership_check_save(membership=membership, user=user, company=company, role=role,
                          team=team, actor=actor)
    original = None
    if membership is not None and membership.pk:
        original = Membership.objects.select_related("company", "role", "user").get(
            pk=membership.pk)
    target = (user.pk, company.pk, team.pk if team is not None else None)
    saved = grant_role(user=user, company=company, role=role, team=team, granted_by=actor)
    if original is not None and _scope(original) != target:
        revoke_role(membership=original, revoked_by=actor)
    return saved


def membership_delete(*, membership: Membership, actor: User | None = None) -> None:
    """Remove a membership; refused (PermissionDenied) when it outranks the actor's role."""
    revoke_role(membership=membership, revoked_by=actor)


def _remove_company_direct_grants(*, user: User, company: Company) -> None:
    # Every direct-permission table whose objects carry a company: drop the user's rows
    # on this company's objects, so leaving a company leaves nothing behind.
    for perm_model in get_direct_obj_perms_models(UserObjectPermissionBase, UserObjectPermission):
        target = perm_model._meta.get_field("content_object").related_model
        if target is Company:
            perm_model.objects.filter(user=user, content_object=company).delete()
        elif any(f.name == "company" for f in target._meta.get_fields()):
            perm_model.objects.filter(user=user, content_object__company=company).delete()


def grant_object_permission(
    *, user: User, obj: models.Model, action: str, granted_by: User | None = None
) -> None:
    """Give one user one permission on one object (a direct guardian grant)."""
    _check_can_share(actor=granted_by, obj=obj, codename=_codename(obj, action))
    assign_perm(_codename(obj, action), user, obj)
    forget_access_profile(user)


def revoke_object_permission(
    *, user: User, obj: models.Model, action: str, revoked_by: User | None = None
) -> None:
    """Take one direct permission on one object from one user."""
    _check_can_share(actor=revoked_by, obj=obj, codename=_codename(obj, action))
    remove_perm(_codename(obj, action), user, obj)
    forget_access_profile(user)


def _codename(obj: models.Model, action: str) -> str:
    """Accept "view" as well as "view_document"."""
    return action if "_" in action else f"{action}_{obj._meta.model_name}"


def _check_can_share(*, actor: User | None, obj: models.Model, codename: str) -> None:
    """Refuse unless the actor administers the object's company and holds the permission.

    Granting or revoking a permission one's own role does not hold on the object would
    hand out (or take back) more than one was given: an admin could give a colleague the
    owners' delete. Direct grants of the actor do not count, only roles (or, for an API
    key, its scopes in its company).
    """
    if actor is None or actor.is_superuser:
        return
    company_id, _ = scope_of(obj)
    company = Company(pk=company_id)
    if not actor.has_perm("rbac.manage_permissions", company):
        raise PermissionDenied("Only the company's administrators can grant object permissions.")
    perm = codename if "." in codename else f"{obj._meta.app_label}.{codename}"
    if not _role_holds(actor=actor, perm=perm, obj=obj):
        raise PermissionDenied(
            f"You cannot grant or revoke {perm.split('.', 1)[1]} on {obj}: your own role "
            "does not hold it there."
        )


def _role_holds(*, actor, perm: str, obj: models.Model) -> bool:
    if not isinstance(actor, User):  # an API key: no role, its scopes bound it
        return actor.has_perm(perm, obj)
    return perm in access_profile(actor).scope_perms(*scope_of(obj))


@transaction.atomic
def team_save(*, team: Team) -> Team:
    """Validate and save a team, keeping the ancestry of it and its subtree in step."""
    old_prefix = None
    if team.pk:
        previous = Team.objects.filter(pk=team.pk).values_list("ancestry", flat=True).first()
        if previous is not None:
            old_prefix = f"{previous}{team.pk}/"
    team.ancestry = f"{team.parent.ancestry}{team.parent_id}/" if team.parent_id else "/"
    team.full_clean()
    team.save()
    new_prefix = team.subtree_prefix
    if old_prefix and old_prefix != new_prefix:
        for child in Team.objects.filter(ancestry__startswith=old_prefix):
            child.ancestry = new_prefix + child.ancestry[len(old_prefix):]
            child.save(update_fields=["ancestry"])
    return team


def team_create(*, company: Company, name: str, parent: Team | None = None) -> Team:
    return team_save(team=Team(company=company, name=name.strip(), parent=parent))


def company_create(**fields) -> Company:
    company = Company(**fields)
    company.full_clean()
    company.save()
    return company


@dataclass(frozen=True)
class Invitation:
    """What inviting someone did: the person, their membership, and whether they are new."""

    user: User
    membership: Membership
    user_created: bool
    membership_created: bool
    email_sent: bool


def email_normalise(email: str) -> str:
    """Return the form an e-mail address is stored and compared in (lower case, trimmed)."""
    return User.objects.normalize_email((email or "").strip()).lower()


def membership_invite(
    *, actor: User | APIKeyPrincipal | None, company: Company, email: str, role: Role,
    team: Team | None = None, base_url: str,
) -> Invitation:
    """Give the person with this e-mail a role in a company (or one of its teams).

    Someone new becomes a user without a password and is sent the set-password e-mail;
    someone known just gets the membership. The actor may hand out no role above their own
    (the rule of grant_role, checked before anything is written), and inviting twice with
    the same role changes nothing and sends no second e-mail.
    """
    _check_can_grant(actor=actor, company=company, role=role)
    if team is not None and team.company_id != company.pk:
        raise ValidationError({"team": "The team belongs to another company."})
    address = email_normalise(email)
    EmailValidator(message="Enter a valid e-mail address.")(address)
    with transaction.atomic():
        user = User.objects.filter(email__iexact=address).first()
        created = user is None
        if created:
            user = User.objects.create_user(address, None)
        held = Membership.objects.filter(user=user, company=company, team=team).exists()
        membership = grant_role(
            user=user, company=company, role=role, team=team, granted_by=actor
        )
    sent = False  # the e-mail goes out once the person and their role are written
    if created:
        result = password_invites_send(users=[user], base_url=base_url)
        sent = bool(result.sent)
    return Invitation(user=user, membership=membership, user_created=created,
                      membership_created=not held, email_sent=sent)

