from django.apps import AppConfig


class RbacConfig(AppConfig):
    name = "rbac"
    verbose_name = "Access control"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import lockout  # noqa: F401 - connects the failure counter to user_login_failed
        from .lookups import register

        register()
