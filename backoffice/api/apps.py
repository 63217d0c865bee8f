from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "backoffice.api"
    label = "api"
    verbose_name = "REST API"
