"""Set-password e-mails for people who arrived without a password of ours, and a reset for all.

Django's reset-token flow serves both: the link in the invitation is an ordinary
password-reset link, so it expires after PASSWORD_RESET_TIMEOUT and stops working once used.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import Q, QuerySet
from django.template import loader
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .lockout import client_ip, normalised_account
from .models import User
from .rate_limits import Rate, window_increment

log = logging.getLogger(__name__)

INVITE_SUBJECT_TEMPLATE = "registration/set_password_subject.txt"
INVITE_EMAIL_TEMPLATE = "registration/set_password_email.txt"
INVITE_HTML_EMAIL_TEMPLATE = "registration/set_password_email.html"


def users_without_password() -> QuerySet[User]:
    """Return the active users who cannot log in with a password of ours yet."""
    return User.objects.filter(
        Q(password__startswith=UNUSABLE_PASSWORD_PREFIX) | Q(password=""), is_active=True
    ).order_by("email")


@dataclass
class InviteResult:
    sent: list[User] = field(default_factory=list)
    failed: list[tuple[User, str]] = field(default_factory=list)


def password_invites_send(
    *, users: Iterable[User], base_url: str, on_progress: Callable[[User], None] | None = None
) -> InviteResult:
    """Send each user a set-password e-mail over one mail connection; report failures.

    base_url is where people reach the back-office, e.g. "https://backoffice.example.com".
    """
    parts = urlsplit(base_url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"{base_url!r} is not a URL like https://backoffice.example.com.")
    protocol, domain = parts.scheme, parts.netloc
    result = InviteResult()
    with get_connection() as connection:
        for user in users:
            context = {
                "email": user.email,
                "user": user,
                "domain": domain,
                "site_name": domain,
                "protocol": protocol,
                "uid": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            }
            try:
                _invite_email(context, connection).send()
            except Exception as error:  # one bad address must not stop the others
                result.failed.append((user, str(error)))
            else:
                result.sent.append(user)
            if on_progress:
                on_progress(user)
    return result


def _invite_email(context: dict, connection) -> EmailMultiAlternatives:
    subject = "".join(loader.render_to_string(INVITE_SUBJECT_TEMPLATE, context).splitlines())
    message = EmailMultiAlternatives(
        subject,
        loader.render_to_string(INVITE_EMAIL_TEMPLATE, context),
        settings.DEFAULT_FROM_EMAIL,
        [context["email"]],
        connection=connection,
    )
    html = loader.render_to_string(INVITE_HTML_EMAIL_TEMPLATE, context)
    message.attach_alternative(html, "text/html")
    return message


class EveryonePasswordResetForm(PasswordResetForm):
    """Django's reset form, also for people who have no usable password yet.

    Django skips them on purpose (an unusable password can mean "log in elsewhere");
    here it means "not migrated yet", and a reset is how they get a password.
    """

    def save(self, *args, request=None, **kwargs):
        # The page answers the same whether or not a mail went out, so a refusal here tells
        # nothing about the address; it only stops one address or one client flooding mail.
        email = self.cleaned_data["email"]
        if request is not None and not password_reset_allowed(request=request, email=email):
            log.warning("Password reset refused: too many asked from %s or for one address.",
                        client_ip(request))
            return
        super().save(*args, request=request, **kwargs)

    def get_users(self, email: str):
        return (
            user
            for user in User.objects.filter(email__iexact=email.strip(), is_active=True)
            if user.email
        )


def password_reset_allowed(*, request, email: str) -> bool:
    """Count a reset request per client address and per e-mail; return whether both are
    within PASSWORD_RESET_RATE_PER_IP and PASSWORD_RESET_RATE_PER_EMAIL."""
    account = normalised_account(email) or ""
    limits = (
        (Rate.parse(settings.PASSWORD_RESET_RATE_PER_IP), f"ip:{client_ip(request)}"),
        (Rate.parse(settings.PASSWORD_RESET_RATE_PER_EMAIL),
         "email:" + hashlib.sha256(account.encode()).hexdigest()[:32]),
    )
    allowed = True
    for rate, ident in limits:
        if rate is not None:
            counted = window_increment(key=f"password-reset:{ident}", duration=rate.seconds)
            allowed = allowed and counted.estimate <= rate.limit
    return allowed
