"""TOTP two-factor log-in: optional for staff, required for superusers where configured."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django_otp import devices_for_user, match_token, user_has_device
from django_otp.admin import OTPAdminAuthenticationForm

from .lockout import login_failed
from .models import User


def two_factor_required(user: User) -> bool:
    """Return whether this person must give a one-time code to log in.

    Anyone who has set up a device must use it; superusers must have one when
    OTP_REQUIRED_FOR_SUPERUSERS is on (production).
    """
    if user_has_device(user):
        return True
    return bool(user.is_superuser and settings.OTP_REQUIRED_FOR_SUPERUSERS)


def two_factor_code_valid(*, user: User, code: str | None) -> bool:
    return bool(code) and match_token(user, code.strip()) is not None


class TwoFactorAdminLoginForm(OTPAdminAuthenticationForm):
    """The admin log-in form: asks for the code only of those who need one.

    A right password without its code, or of someone the admin refuses (not staff), is a
    failed log-in like a wrong password: counted by the log-in gate (rbac.lockout), and
    answered with the same message, so the form never confirms a password alone.
    """

    error_messages = {
        **OTPAdminAuthenticationForm.error_messages,
        "invalid_login": (
            "Please enter the correct %(username)s and password for a staff account, and "
            "your two-factor code if you have set one up. Note that the password and code "
            "are case-sensitive."
        ),
    }
    otp_error_messages = {
        **OTPAdminAuthenticationForm.otp_error_messages,
        "token_required": "Please enter the six-digit code from your authenticator app.",
    }

    def clean(self):
        # AdminAuthenticationForm: password and staff check (and the log-in gate) first.
        cleaned = super(OTPAdminAuthenticationForm, self).clean()
        user = self.get_user()
        if user is not None and two_factor_required(user):
            if not user_has_device(user):
                self._count_failure()
                raise forms.ValidationError(
                    "Superusers must log in with a second factor. Ask another administrator "
                    "to add a TOTP device for you.",
                    code="device_required",
                )
            try:
                self.clean_otp(user)
            except forms.ValidationError:
                self._count_failure()
                raise self.get_invalid_login_error() from None
        return cleaned

    def confirm_login_allowed(self, user) -> None:
        try:
            super().confirm_login_allowed(user)
        except forms.ValidationError:
            self._count_failure()
            raise

    def _count_failure(self) -> None:
        if self.request is not None:
            login_failed(self.request, account=self.cleaned_data.get("username"))

    def _chosen_device(self, user):
        # django-otp wants the device picked from a list shown after a first attempt; a
        # person with one device (the usual case) gets it without that extra round.
        device = super()._chosen_device(user)
        if device is None:
            devices = list(devices_for_user(user, for_verify=True))
            if len(devices) == 1:
                device = devices[0]
        return device


class SuperuserTwoFactorMiddleware:
    """Keep a superuser without a verified second factor out of the admin.

    The log-in form already asks for the code; this covers a session that got in another
    way (a log-in before the setting was switched on, a custom view). Needs django-otp's
    OTPMiddleware before it.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.OTP_REQUIRED_FOR_SUPERUSERS and self._unverified_superuser_in_admin(request):
            logout(request)
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return self.get_response(request)

    @staticmethod
    def _unverified_superuser_in_admin(request: HttpRequest) -> bool:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_superuser:
            return False
        if user.is_verified():
            return False
        try:
            admin_root = reverse("admin:index")
            open_paths = {reverse("admin:login"), reverse("admin:logout")}
        except NoReverseMatch:
            return False
        return request.path.startswith(admin_root) and request.path not in open_paths
