from django.db import migrations

from rbac.access_versions import company_triggers, drop_company_triggers, statements_operation


class Migration(migrations.Migration):
    """A company's status change moves its members' access versions: their kept access
    profiles and API pages stop counting its roles on the next request."""

    dependencies = [
        ("rbac", "0005_membership_indexes_covered_by_unique_key"),
    ]

    operations = [statements_operation(company_triggers, drop_company_triggers)]
