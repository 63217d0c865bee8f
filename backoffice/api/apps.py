from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "backoffice.api"
    label = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        # Registers the schema extensions that describe the authentication and token view.
        from . import schema  # noqa: F401
