"""Trigram indexes for searching documents by file name and legacy key, and projects by
code and name (PostgreSQL only; see rbac.search)."""

from django.db import migrations

from rbac.search import trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("projects", "0005_access_version_triggers")]

    operations = [
        trigram_indexes({
            "projects_document": ["original_name", "legacy_key"],
            "projects_project": ["code", "name"],
        }),
    ]
