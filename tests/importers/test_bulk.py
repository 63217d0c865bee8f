"""importers.bulk: new rows and their history, the same through COPY and bulk_create."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction

from backoffice.projects.models import Document
from importers import bulk
from importers.loader import Provenance
from importers.models import LegacyRecord
from rbac.models import Company, User


def test_created_objects_get_pks_and_a_history_row_holding_their_values(db):
    staff = User.objects.create_user(email="importer@example.com", password="x")
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    companies = [Company(name=f"Acme {n}", country="DE", created_at=when) for n in range(3)]
    bulk.create(Company, companies, bulk.History(staff, "legacy import", when))
    assert all(company.pk for company in companies)
    stored = {c.pk: c for c in Company.objects.all()}
    assert {c.pk: c.name for c in companies} == {pk: c.name for pk, c in stored.items()}
    for company in companies:
        (record,) = Company.history.filter(id=company.pk)
        assert (record.history_type, record.history_change_reason) == ("+", "legacy import")
        assert (record.history_user_id, record.history_date) == (staff.pk, when)
        assert (record.name, record.country, record.created_at) == (company.name, "DE", when)
        assert record.updated_at == stored[company.pk].updated_at is not None


def test_a_file_field_and_foreign_keys_are_written_as_django_would(db):
    company = Company.objects.create(name="Acme", country="DE")
    when = datetime(2026, 1, 2, tzinfo=UTC)
    documents = [Document(company=company, original_name="a.pdf", size=10, uploaded_at=when,
                          legacy_bucket="b", legacy_key="k")]
    named = [Document(company=company, original_name=name, uploaded_at=when, file=f"docs/{name}")
             for name in ("b.pdf", "c.pdf")]
    assert named[1].file.name == "docs/c.pdf"  # the instance now holds a FieldFile, not text
    bulk.create(Document, documents + named, bulk.History(None, "legacy import", when))
    stored = Document.objects.get(original_name="a.pdf")
    assert (stored.company_id, stored.file.name, stored.size) == (company.pk, "", 10)
    assert dict(Document.objects.values_list("original_name", "file")) == {
        "a.pdf": "", "b.pdf": "docs/b.pdf", "c.pdf": "docs/c.pdf"}
    assert Document.history.filter(history_user_id=None).count() == 3
    # The sequence moved past the reserved ids: the ORM's next insert does not collide.
    other = Document.objects.create(company=company, original_name="d.pdf", uploaded_at=when)
    assert other.pk > max(document.pk for document in documents + named)


def test_a_new_instance_equals_what_the_model_constructor_gives(db):
    company = Company.objects.create(name="Acme", country="DE")
    values = {"company_id": company.pk, "original_name": "a.pdf", "size": 3}
    fast, slow = bulk.new(Document, values), Document(**values)
    for field in Document._meta.concrete_fields:
        if field.attname != "uploaded_at":  # a default of now(): taken at each call
            assert getattr(fast, field.attname) == getattr(slow, field.attname), field.name
    assert fast._state.adding and fast.pk is None and fast.company == company


def test_loaded_instances_equal_in_bulk_and_updates_write_a_change_history_row(db):
    when = datetime(2026, 3, 4, tzinfo=UTC)
    companies = [Company.objects.create(name=f"Acme {n}", country="DE") for n in range(3)]
    pks = [c.pk for c in companies]
    loaded, reference = bulk.load(Company, pks), Company.objects.in_bulk(pks)
    for pk in pks:
        for field in Company._meta.concrete_fields:
            assert getattr(loaded[pk], field.attname) == getattr(reference[pk], field.attname)
    changed = [loaded[pks[0]], loaded[pks[2]]]
    for company in changed:
        company.legal_name, company.domain = f"{company.name} GmbH", "acme.example"
    bulk.update(Company, changed, ["domain", "legal_name"], bulk.History(None, "test", when))
    assert dict(Company.objects.values_list("pk", "legal_name")) == {
        pks[0]: "Acme 0 GmbH", pks[1]: "", pks[2]: "Acme 2 GmbH"}
    (record,) = Company.history.filter(id=pks[2], history_type="~")
    assert (record.legal_name, record.domain, record.history_date) == (
        "Acme 2 GmbH", "acme.example", when)
    assert not Company.history.filter(id=pks[1], history_type="~").exists()


def _foreign_keys(table: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = %s::regclass", [table])
        return set(cursor.fetchall())


def _indexes(table: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s",
                       [table])
        return set(cursor.fetchall())


@pytest.mark.postgres_db
def test_bulk_load_puts_keys_and_indexes_back_as_they_were(db):
    table, history = Document._meta.db_table, Document.history.model._meta.db_table
    keys, indexes = _foreign_keys(table), _indexes(history)
    assert keys and len(indexes) > 2  # company, team, …; history date, user, id, …
    with bulk.bulk_load([table], write_only=[history]):
        assert _foreign_keys(table) == set()
        # Only the primary key is left; the written table keeps its indexes.
        assert {name for name, _ in _indexes(history)} == {f"{history}_pkey"}
        assert len(_indexes(table)) > 1
        bulk.create(Document, [Document(company=Company.objects.create(name="Acme"),
                                        original_name="a.pdf")],
                    bulk.History(None, "legacy import", datetime(2026, 1, 2, tzinfo=UTC)))
    assert (_foreign_keys(table), _indexes(history)) == (keys, indexes)
    assert Document.history.filter(original_name="a.pdf").exists()


@pytest.mark.postgres_db
def test_a_row_breaking_a_key_fails_at_the_end_naming_the_constraint(db):
    table = Document._meta.db_table
    (company_key,) = [name for name, definition in _foreign_keys(table)
                      if "REFERENCES rbac_company" in definition]
    with pytest.raises(IntegrityError, match=company_key), transaction.atomic():
        with bulk.bulk_load([table]):
            with connection.cursor() as cursor:  # accepted while the key is away
                cursor.execute(
                    f"INSERT INTO {table} (company_id, original_name, content_type, file, "
                    "legacy_bucket, legacy_key, uploaded_at) "
                    "VALUES (987654, 'a.pdf', '', '', '', '', now())")
    assert not Document.objects.exists()


def test_provenance_keeps_legacy_ids_with_tabs_backslashes_and_line_breaks(db):
    company = Company.objects.create(name="Acme", country="DE")
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    provenance = Provenance(when)
    odd = "sub\\with\ttab\nand\rbreaks"
    provenance.add("cognito", "users", odd, Company, company.pk, "f" * 64, origin=True)
    provenance.add("core", "organizations", "17", Company, company.pk, "0" * 64, origin=False)
    provenance.flush()
    stored = {r.legacy_id: r for r in LegacyRecord.objects.all()}
    assert set(stored) == {odd, "17"}
    assert (stored[odd].object_id, stored[odd].is_origin, stored[odd].imported_at) == (
        company.pk, True, when)
    assert stored["17"].content_object == company and not stored["17"].is_origin


@pytest.mark.postgres_db
def test_a_query_after_background_writes_sees_them(db):
    when = datetime(2026, 1, 2, tzinfo=UTC)
    with bulk.background_writes():
        # Slow on purpose: without waiting for the queue, the count below would run first.
        bulk._write(lambda cursor: cursor.execute("SELECT pg_sleep(0.3)"))
        bulk.create(Company, [Company(name="Acme", country="DE", created_at=when)],
                    bulk.History(None, "legacy import", when))
        assert Company.objects.filter(name="Acme").count() == 1
        assert Company.history.filter(name="Acme").count() == 1


@pytest.mark.postgres_db
def test_a_failed_background_write_raises_and_skips_the_writes_after_it(db):
    when = datetime(2026, 1, 2, tzinfo=UTC)
    company = Company.objects.create(name="Acme", country="DE")
    duplicate = bulk.new(Company, {"id": company.pk, "name": "Other", "created_at": when})
    with pytest.raises(IntegrityError), transaction.atomic():
        with bulk.background_writes():
            bulk.copy_rows(Company._meta.db_table, ["id", "name", "legal_name", "vat_number",
                           "country", "domain", "status", "created_at", "updated_at"],
                           [(duplicate.pk, "Other", "", None, "DE", "", "active", when, when)])
            bulk._write(lambda cursor: cursor.execute(
                "UPDATE rbac_company SET name = 'changed'"))  # skipped after the failure
    assert list(Company.objects.values_list("name", flat=True)) == ["Acme"]


@pytest.mark.postgres_db
def test_leaving_background_writes_early_skips_what_is_queued_and_ends_the_thread(db):
    Company.objects.create(name="Acme", country="DE")
    with pytest.raises(ValueError), transaction.atomic():
        with bulk.background_writes():
            bulk._write(lambda cursor: cursor.execute("SELECT pg_sleep(0.2)"))
            bulk._write(lambda cursor: cursor.execute("UPDATE rbac_company SET name = 'x'"))
            raise ValueError("the loader failed")
    assert "bulk-writer" not in {thread.name for thread in threading.enumerate()}
    assert list(Company.objects.values_list("name", flat=True)) == ["Acme"]


@pytest.mark.postgres_db
def test_background_writes_reserve_keys_ahead_only_as_far_as_the_load_has_come(db):
    when = datetime(2026, 1, 2, tzinfo=UTC)
    history = bulk.History(None, "legacy import", when)
    with bulk.background_writes():
        first = [Company(name=f"A{n}", created_at=when) for n in range(3)]
        bulk.create(Company, first, history)
        second = [Company(name=f"B{n}", created_at=when) for n in range(2)]
        bulk.create(Company, second, history)
    pks = [company.pk for company in first + second]
    assert pks == list(range(pks[0], pks[0] + 5))  # one run of keys, in order
    # The first batch reserved just itself, the second three more (as many as taken so
    # far), which stay unused: a small gap only.
    assert Company.objects.create(name="After").pk == pks[-1] + 3 + 1


@pytest.mark.postgres_db
def test_a_background_writer_serves_only_the_thread_that_started_it(db):
    seen_elsewhere = []
    with bulk.background_writes():
        other = threading.Thread(target=lambda: seen_elsewhere.append(bulk._writer()))
        other.start()
        other.join()
        assert bulk._writer() is not None
    assert seen_elsewhere == [None] and bulk._writer() is None


@pytest.mark.postgres_db
def test_bulk_load_locks_out_other_writers_and_reserves_keys_as_one_range(db):
    import psycopg

    table = Company._meta.db_table
    before = Company.objects.create(name="Before").pk
    with bulk.bulk_load([table]):
        assert bulk.next_ids(Company, 5) == list(range(before + 1, before + 6))
        # The range is safe because no other session can insert (and take a number
        # from the sequence) until the commit.
        settings = connection.settings_dict
        with psycopg.connect(dbname=settings["NAME"], user=settings["USER"],
                             host=settings["HOST"], port=settings["PORT"] or 5432,
                             autocommit=True) as other:
            other.execute("SET lock_timeout = '100ms'")
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute(f"INSERT INTO {table} (name) VALUES ('elsewhere')")
    assert Company.objects.create(name="After").pk == before + 6
