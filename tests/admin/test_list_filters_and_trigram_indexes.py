"""The list filters whose choices need no table scan, and the search indexes' migrations."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from backoffice.projects.models import Document
from importers.models import LegacyRecord
from rbac.models import User
from rbac.search import trigram_index_name
from tests.factories import CompanyFactory, DocumentFactory, UserFactory

pytestmark = pytest.mark.django_db

TRIGRAM_MIGRATIONS = [("rbac", "0007_search_trigram_indexes"),
                      ("projects", "0006_search_trigram_indexes"),
                      ("importers", "0005_search_trigram_indexes")]
SEARCHED_COLUMNS = {
    "rbac_user": ["email", "first_name", "last_name"],
    "rbac_company": ["name", "legal_name", "vat_number", "domain"],
    "rbac_team": ["name"],
    "projects_document": ["original_name", "legacy_key"],
    "projects_project": ["code", "name"],
    "importers_legacyrecord": ["legacy_id"],
}


def _record(source: str, table: str, legacy_id: str) -> LegacyRecord:
    user = UserFactory()
    return LegacyRecord.objects.create(
        source=source, table=table, legacy_id=legacy_id,
        content_type=ContentType.objects.get_for_model(User), object_id=user.pk, fingerprint="x",
    )


def test_legacy_table_filter_lists_the_known_tables_without_reading_the_records(
    client, superuser
):
    wanted = _record("portal", "member", "7")
    _record("core", "users", "7")
    _record("cognito", "users", "abc")
    client.force_login(superuser)
    url = reverse("admin:importers_legacyrecord_changelist")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, {"legacy_table": "portal:member"})
    assert response.status_code == 200
    assert [r.pk for r in response.context["cl"].result_list] == [wanted.pk]
    assert not [q for q in captured if "DISTINCT" in q["sql"].upper()]
    page = response.content.decode()
    for choice in ("core.users", "core.organizations", "portal.member", "cognito.users"):
        assert choice in page


def test_document_kind_filter_picks_documents_by_media_type(client, superuser):
    company = CompanyFactory()
    pdf = DocumentFactory(company=company, content_type="application/pdf")
    png = DocumentFactory(company=company, content_type="image/png")
    sheet = DocumentFactory(
        company=company,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    unknown = DocumentFactory(company=company, content_type="")
    client.force_login(superuser)
    url = reverse("admin:projects_document_changelist")
    shown = {}
    for kind in ("pdf", "image", "office", "unknown", "text"):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, {"kind": kind})
        assert response.status_code == 200
        assert not [q for q in captured if "DISTINCT" in q["sql"].upper()]
        shown[kind] = {d.pk for d in response.context["cl"].result_list}
    assert shown == {"pdf": {pdf.pk}, "image": {png.pk}, "office": {sheet.pk},
                     "unknown": {unknown.pk}, "text": set()}
    assert Document.objects.count() == 4


def _trigram_indexes() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s", ["%_trgm"])
        return {row[0] for row in cursor.fetchall()}


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _previous(app: str, name: str) -> tuple[str, str]:
    executor = MigrationExecutor(connection)
    parents = [key for key in executor.loader.graph.node_map[(app, name)].parents
               if key[0] == app]
    return parents[0]


# Serialized rollback: the flush after this test then leaves the content types to the
# next serialized test instead of recreating them under new ids.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_search_index_migrations_run_both_ways_on_any_database():
    _migrate([_previous(app, name) for app, name in TRIGRAM_MIGRATIONS])
    if connection.vendor == "postgresql":
        assert _trigram_indexes() == set()
    _migrate(TRIGRAM_MIGRATIONS)
    if connection.vendor == "postgresql":
        assert _trigram_indexes() == {trigram_index_name(table, column)
                                      for table, columns in SEARCHED_COLUMNS.items()
                                      for column in columns}


@pytest.mark.postgres_db
def test_the_trigram_indexes_serve_djangos_icontains():
    with connection.cursor() as cursor:
        # A tiny table: whether the index can serve the condition, not what costs least.
        # Without sequential and plain index scans only a bitmap scan of an index whose
        # condition matches is left (a full scan of the e-mail b-tree would be a plain one).
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_indexscan = off")
        sql, params = User.objects.filter(email__icontains="smith").query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
        cursor.execute("RESET enable_indexscan")
    assert trigram_index_name("rbac_user", "email") in plan
