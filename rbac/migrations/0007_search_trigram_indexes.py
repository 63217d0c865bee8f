"""Trigram indexes for the admin's and the API's searches of people, companies and teams.

PostgreSQL only (pg_trgm GIN on UPPER(column::text), the expression Django's icontains
compares); elsewhere this migration does nothing. See rbac.search.
"""

from django.db import migrations

from rbac.search import trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("rbac", "0006_company_status_bumps_access")]

    operations = [
        trigram_indexes({
            "rbac_user": ["email", "first_name", "last_name"],
            "rbac_company": ["name", "legal_name", "vat_number", "domain"],
            "rbac_team": ["name"],
        }),
    ]
