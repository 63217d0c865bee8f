from django.db import migrations

from backoffice.projects.roles import PROJECT_ROLE_MODELS
from rbac.roles import attach_role_permissions


def give_roles_project_permissions(apps, schema_editor):
    attach_role_permissions(apps, "projects", PROJECT_ROLE_MODELS)


class Migration(migrations.Migration):
    dependencies = [("projects", "0002_initial"), ("rbac", "0002_seed_roles")]
    operations = [migrations.RunPython(give_roles_project_permissions, migrations.RunPython.noop)]
