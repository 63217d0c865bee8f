from django.apps import AppConfig


class LegacyApiConfig(AppConfig):
    name = "backoffice.legacy_api"
    label = "legacy_api"
    verbose_name = "Legacy APIs (Core /v1, Portal /api)"

    def ready(self) -> None:
        # Registers the schema extension that documents the legacy routes as deprecated.
        from . import schema  # noqa: F401
