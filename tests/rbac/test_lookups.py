"""`__any_of`: the same rows as `__in`, sent as one array parameter on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection

from backoffice.projects.models import Document
from rbac.models import Company
from tests.factories import CompanyFactory, DocumentFactory

pytestmark = pytest.mark.django_db


def test_any_of_finds_what_in_finds_on_keys_and_foreign_keys():
    companies = [CompanyFactory() for _ in range(3)]
    documents = [DocumentFactory(company=c, team=None, project=None) for c in companies]
    wanted = [companies[0].pk, companies[2].pk]
    assert set(Company.objects.filter(pk__any_of=wanted)) == {companies[0], companies[2]}
    assert set(Document.objects.filter(company_id__any_of=wanted)) == {documents[0], documents[2]}
    assert set(Document.objects.filter(company__any_of=wanted)) == {documents[0], documents[2]}
    assert not Company.objects.filter(pk__any_of=[]).exists()


def test_any_of_is_one_parameter_on_postgresql_whatever_the_number_of_ids():
    query = Document.objects.filter(company_id__any_of=list(range(300))).query
    sql, params = query.sql_with_params()
    if connection.vendor == "postgresql":
        assert "= ANY(%s::bigint[])" in sql  # typed as the column: hashed, well estimated
        assert params == (list(range(300)),)
    else:
        assert len(params) == 300
