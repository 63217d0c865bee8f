"""Trigram index for searching legacy records by their key (PostgreSQL only)."""

from django.db import migrations

from rbac.search import trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("importers", "0004_legacyrecord_no_lone_content_type_index")]

    operations = [
        trigram_indexes({"importers_legacyrecord": ["legacy_id"]}),
    ]
