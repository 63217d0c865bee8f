"""Trigram indexes for searching documents by file name and legacy key (PostgreSQL only)."""

from django.db import migrations

from rbac.search import trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("projects", "0005_access_version_triggers")]

    operations = [
        trigram_indexes({"projects_document": ["original_name", "legacy_key"]}),
    ]
