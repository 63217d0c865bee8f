from django.db import migrations

from backoffice.api.list_cache import install_operation


class Migration(migrations.Migration):
    """Every write to the importer's provenance moves its list version, so legacy list
    pages (which show legacy ids) kept by /api/v1's page cache are exact (legacy_api.base)."""

    dependencies = [
        ("legacy_api", "0001_usage_board_and_grants"),
        ("api", "0001_list_versions"),
        ("importers", "0004_legacyrecord_no_lone_content_type_index"),
    ]

    operations = [install_operation(("importers_legacyrecord",))]
