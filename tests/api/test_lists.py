"""List pages read through visible_page keep the order, filters and paging of the plain
permission-filtered queryset."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from backoffice.projects.models import Document
from rbac import services
from rbac.selectors import objects_for_user
from tests.factories import CompanyFactory, DocumentFactory, TeamFactory, UserFactory, member

from .conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader():
    """A person who sees documents through a company role, a team role and a direct grant."""
    person = UserFactory()
    whole, partial = CompanyFactory(), CompanyFactory()
    team, other_team = TeamFactory(company=partial), TeamFactory(company=partial)
    member(person, whole, "viewer")
    member(person, partial, "viewer", team=team)
    base = timezone.now()
    for n in range(12):
        when = base - datetime.timedelta(minutes=n // 2)  # ties, broken by id
        DocumentFactory(company=whole, uploaded_at=when, size=n % 5)
        DocumentFactory(company=partial, team=team, uploaded_at=when, size=n % 3)
        DocumentFactory(company=partial, team=other_team, uploaded_at=when)
    shared = DocumentFactory(company=partial, team=other_team, uploaded_at=base)
    services.grant_object_permission(user=person, obj=shared, action="view")
    return person


def all_pages(client, url: str) -> list[int]:
    ids = []
    while url:
        body = client.get(url).json()
        ids += [row["id"] for row in body["results"]]
        url = body["next"]
    return ids


def expected(person, **filters) -> list[int]:
    documents = Document.objects.filter(**filters)
    return list(objects_for_user(user=person, queryset=documents).values_list("id", flat=True))


def test_paging_through_documents_gives_every_visible_one_once_in_order(reader):
    ids = all_pages(client_for(reader), "/api/v1/documents/?limit=7")
    assert ids == expected(reader)
    assert len(ids) == 25


def test_ordering_and_filters_apply_before_the_page_is_cut(reader):
    client = client_for(reader)
    by_size = all_pages(client, "/api/v1/documents/?limit=5&ordering=-size")
    assert by_size == list(
        objects_for_user(user=reader, queryset=Document.objects.order_by("-size", "id"))
        .values_list("id", flat=True)
    )
    company = Document.objects.get(pk=by_size[0]).company_id
    filtered = all_pages(client, f"/api/v1/documents/?company={company}&limit=4")
    assert filtered == expected(reader, company_id=company)


def test_an_offset_past_every_row_is_an_empty_page_not_an_error(reader):
    response = client_for(reader).get("/api/v1/documents/?offset=342039048580929880064")
    assert response.status_code == 200
    assert response.json()["results"] == []
