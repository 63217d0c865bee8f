"""manage.py invite_unmigrated: a set-password e-mail to everyone still without a password."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rbac.invitations import password_invites_send, users_without_password


class Command(BaseCommand):
    help = (
        "E-mail every active user who has no usable password yet (Portal users who never "
        "logged in after the move, Core users who never set one) a link to set one. "
        "Links point at PASSWORD_INVITE_BASE_URL."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="List who would get an e-mail; send nothing."
        )
        parser.add_argument(
            "--base-url", default=None,
            help="Where people reach the back-office; defaults to PASSWORD_INVITE_BASE_URL.",
        )

    def handle(self, *args, dry_run: bool = False, base_url: str | None = None, **options):
        users = users_without_password()
        if dry_run:
            count = 0
            for user in users.iterator():
                self.stdout.write(user.email)
                count += 1
            self.stderr.write(f"{count} users would be invited (dry run: nothing sent).")
            return
        base_url = base_url or settings.PASSWORD_INVITE_BASE_URL
        if not base_url:
            raise CommandError(
                "Set PASSWORD_INVITE_BASE_URL (or pass --base-url) to the address people "
                "reach the back-office at, e.g. https://backoffice.example.com."
            )
        total = users.count()
        progress = _Progress(self.stderr, total)
        try:
            result = password_invites_send(
                users=users.iterator(), base_url=base_url, on_progress=progress
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        for user in result.sent:
            self.stdout.write(f"invited {user.email}")
        for user, reason in result.failed:
            self.stderr.write(f"not sent to {user.email}: {reason}")
        self.stderr.write(f"{len(result.sent)} invited, {len(result.failed)} failed.")
        if result.failed:
            raise CommandError(
                f"{len(result.failed)} e-mails could not be sent; fix the addresses or the mail "
                "settings and run the command again (it sends only to those still without a "
                "password)."
            )


class _Progress:
    def __init__(self, stream, total: int) -> None:
        self.stream, self.total, self.done = stream, total, 0

    def __call__(self, user) -> None:
        self.done += 1
        if self.done % 100 == 0 or self.done == self.total:
            self.stream.write(f"{self.done}/{self.total}")
