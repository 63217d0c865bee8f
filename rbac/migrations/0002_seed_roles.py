from django.db import migrations

from rbac.roles import RBAC_ROLE_MODELS, attach_role_permissions


def seed_roles(apps, schema_editor):
    attach_role_permissions(apps, "rbac", RBAC_ROLE_MODELS)


class Migration(migrations.Migration):
    dependencies = [("rbac", "0001_initial")]
    operations = [migrations.RunPython(seed_roles, migrations.RunPython.noop)]
