"""The writes of projects and documents: validated in the service, files on the storage."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from backoffice.projects import services
from backoffice.projects.models import Document, Project
from tests.factories import CompanyFactory, DocumentFactory, ProjectFactory, TeamFactory

pytestmark = pytest.mark.django_db


def test_project_create_saves_a_valid_project() -> None:
    company = CompanyFactory()
    project = services.project_create(company=company, code="P-1", name="Roll-out")
    assert Project.objects.get(pk=project.pk).code == "P-1"


def test_project_create_refuses_a_team_of_another_company() -> None:
    company, elsewhere = CompanyFactory(), TeamFactory()
    with pytest.raises(ValidationError):
        services.project_create(company=company, team=elsewhere, code="P-1", name="x")
    assert not Project.objects.exists()


def test_project_create_refuses_a_code_the_company_already_uses() -> None:
    project = ProjectFactory(code="P-1")
    with pytest.raises(ValidationError):
        services.project_create(company=project.company, code="P-1", name="again")
    assert services.project_create(company=CompanyFactory(), code="P-1", name="other").pk


def test_document_create_refuses_a_project_of_another_company() -> None:
    project = ProjectFactory()
    with pytest.raises(ValidationError):
        services.document_create(company=CompanyFactory(), project=project,
                                 original_name="a.pdf")
    assert not Document.objects.exists()


def test_model_update_saves_the_given_fields_only_after_validating() -> None:
    project = ProjectFactory(name="old")
    Project.objects.filter(pk=project.pk).update(status=Project.Status.DONE)
    services.model_update(instance=project, data={"name": "new"})
    project.refresh_from_db()
    assert project.name == "new"
    assert project.status == Project.Status.DONE  # not written back from the instance


def test_model_update_refuses_what_the_constraints_forbid() -> None:
    taken = ProjectFactory(code="P-1")
    other = ProjectFactory(company=taken.company, code="P-2")
    with pytest.raises(ValidationError):
        services.model_update(instance=other, data={"code": "P-1"})
    other.refresh_from_db()
    assert other.code == "P-2"


def test_project_delete_deletes_the_project() -> None:
    project = ProjectFactory()
    services.project_delete(project=project)
    assert not Project.objects.filter(pk=project.pk).exists()


def test_document_upload_stores_the_file_and_keeps_the_person_s_name() -> None:
    company = CompanyFactory()
    long_name = "ä" * 300 + ".pdf"
    document = services.document_upload(
        company=company, original_name=long_name, file=ContentFile(b"%PDF-1.7", name="x"),
        content_type="application/pdf",
    )
    assert document.size == 8
    assert document.original_name == long_name[:255]
    assert default_storage.exists(document.file.name)
    assert document.file.name.startswith(f"documents/{company.pk}/")


def test_document_upload_refuses_a_team_of_another_company_and_stores_nothing() -> None:
    with pytest.raises(ValidationError):
        services.document_upload(company=CompanyFactory(), team=TeamFactory(),
                                 original_name="a.txt", file=ContentFile(b"x", name="a.txt"))
    assert not Document.objects.exists()


def test_document_reserve_upload_needs_s3_storage() -> None:
    with pytest.raises(ValidationError, match="S3"):
        services.document_reserve_upload(company=CompanyFactory(), original_name="a.pdf")
    assert not Document.objects.exists()


def test_document_delete_removes_the_stored_file_once_committed(
    django_capture_on_commit_callbacks,
) -> None:
    document = services.document_upload(company=CompanyFactory(), original_name="a.txt",
                                        file=ContentFile(b"x", name="a.txt"))
    name = document.file.name
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.document_delete(document=document)
    assert default_storage.exists(name)  # still there until the deletion commits
    for callback in callbacks:
        callback()
    assert not default_storage.exists(name)
    assert not Document.objects.filter(pk=document.pk).exists()


def test_document_delete_of_an_imported_document_touches_no_storage() -> None:
    document = DocumentFactory(legacy_bucket="core-documents", legacy_key="k/a.pdf")
    services.document_delete(document=document)
    assert not Document.objects.filter(pk=document.pk).exists()
