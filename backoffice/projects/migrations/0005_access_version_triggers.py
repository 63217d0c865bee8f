# Direct permissions on projects and documents change what their users may do, as the
# rbac tables do: the same triggers bump the users' access versions.

from django.db import migrations

from rbac.access_versions import install_operation


class Migration(migrations.Migration):

    dependencies = [
        ('projects', '0004_covering_document_indexes'),
        ('rbac', '0004_access_version'),
    ]

    operations = [
        install_operation(
            grant_tables=(
                "projects_projectuserobjectpermission", "projects_documentuserobjectpermission",
            ),
        ),
    ]
