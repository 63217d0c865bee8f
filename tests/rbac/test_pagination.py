import pytest

from backoffice.projects.models import Document
from rbac.pagination import slice_ids_first
from tests.factories import CompanyFactory, DocumentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def documents():
    company = CompanyFactory()
    return [DocumentFactory(company=company, original_name=f"doc-{n % 3}") for n in range(12)]


def test_ids_first_slice_returns_the_rows_and_order_of_a_plain_slice(documents):
    queryset = Document.objects.select_related("company").order_by("original_name", "-id")
    assert slice_ids_first(queryset, 3, 9) == list(queryset[3:9])


def test_ids_first_slice_of_values_keeps_order_and_fields(documents):
    queryset = Document.objects.order_by("-id").values("id", "original_name", "company__name")
    assert slice_ids_first(queryset, 0, 5) == list(queryset[0:5])


def test_ids_first_slice_past_the_end_is_empty(documents):
    assert slice_ids_first(Document.objects.order_by("id"), 50, 60) == []
