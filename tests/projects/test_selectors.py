"""The reads of projects and documents: through rbac's permission filter; where bytes are."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from backoffice.projects import selectors, services
from backoffice.projects.storage import s3_default_storage
from rbac import services as rbac_services
from tests.factories import CompanyFactory, DocumentFactory, ProjectFactory, UserFactory, role

pytestmark = pytest.mark.django_db


def test_projects_for_user_lists_the_projects_of_their_company_only() -> None:
    user, mine, theirs = UserFactory(), ProjectFactory(), ProjectFactory()
    rbac_services.grant_role(user=user, company=mine.company, role=role("viewer"))
    assert list(selectors.projects_for_user(user=user)) == [mine]
    assert theirs not in selectors.projects_for_user(user=user)


def test_documents_for_user_lists_nothing_without_a_role() -> None:
    DocumentFactory()
    assert not selectors.documents_for_user(user=UserFactory()).exists()


def test_document_content_streams_a_stored_file_without_s3() -> None:
    document = services.document_upload(company=CompanyFactory(), original_name="a.txt",
                                        file=ContentFile(b"hello", name="a.txt"))
    content = selectors.document_content(document=document)
    assert content is not None and content.url is None
    with content.file as stream:
        assert stream.read() == b"hello"


def test_document_content_is_none_for_an_imported_document_without_s3() -> None:
    document = DocumentFactory(legacy_bucket="core-documents", legacy_key="k/a.pdf")
    assert s3_default_storage() is None
    assert selectors.document_content(document=document) is None
