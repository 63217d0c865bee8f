from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class RbacConfig(AppConfig):
    name = "rbac"
    verbose_name = "Access control"
    default_auto_field = "django.db.models.BigAutoField"
    default = True  # "rbac" in INSTALLED_APPS means this one, not the admin's below

    def ready(self) -> None:
        from . import lockout  # noqa: F401 - connects the failure counter to user_login_failed
        from .lookups import register

        register()


class GatedAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, with rbac's gated site as `admin.site` (see rbac.admin_site)."""

    default = False
    default_site = "rbac.admin_site.GatedAdminSite"
