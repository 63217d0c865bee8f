from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "backoffice.projects"
    label = "projects"
    verbose_name = "Projects and documents"
    default_auto_field = "django.db.models.BigAutoField"
