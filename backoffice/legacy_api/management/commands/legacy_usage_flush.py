from django.core.management.base import BaseCommand

from backoffice.legacy_api.usage import usage_flush


class Command(BaseCommand):
    help = ("Move the legacy API calls counted in the cache to the migration board "
            "(LegacyUsage). Run it from cron or a timer; requests also flush every "
            "LEGACY_USAGE_FLUSH_SECONDS.")

    def handle(self, *args, **options) -> None:
        moved = usage_flush()
        self.stderr.write(f"Moved {moved} legacy API calls to the migration board.")
