"""Add the permission to import a legacy CSV export from the admin."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("importers", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="importrun",
            options={
                "ordering": ["-started_at"],
                "permissions": [
                    ("run_import", "Can import a legacy CSV export from the admin"),
                ],
                "verbose_name": "import run",
                "verbose_name_plural": "import runs",
            },
        ),
    ]
