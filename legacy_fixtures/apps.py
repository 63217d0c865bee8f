from django.apps import AppConfig


class LegacyFixturesConfig(AppConfig):
    name = "legacy_fixtures"
    verbose_name = "Legacy test data"
