"""A page of visible rows built from the union of each condition equals the plain filtered slice."""

import datetime

import pytest
from django.utils import timezone

from backoffice.projects.models import Document
from rbac import selectors, services
from tests.factories import (
    CompanyFactory,
    DocumentFactory,
    TeamFactory,
    UserFactory,
    member,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def person_with_three_kinds_of_access():
    person = UserFactory()
    base = timezone.now()
    whole = CompanyFactory()
    partial = CompanyFactory()
    team = TeamFactory(company=partial)
    other_team = TeamFactory(company=partial)
    member(person, whole, "viewer")
    member(person, partial, "viewer", team=team)
    for n in range(30):
        # Equal timestamps in pairs, so the tie-break on id is exercised too.
        when = base - datetime.timedelta(minutes=n // 2)
        DocumentFactory(company=whole, uploaded_at=when)
        DocumentFactory(company=partial, team=team, uploaded_at=when)
        DocumentFactory(company=partial, team=other_team, uploaded_at=when)
        DocumentFactory(uploaded_at=when)
    shared = DocumentFactory(company=partial, team=other_team, uploaded_at=base)
    services.grant_object_permission(user=person, obj=shared, action="view")
    return person


@pytest.mark.parametrize(("start", "stop"), [(0, 10), (10, 25), (0, 200), (85, 95)])
def test_visible_page_equals_the_filtered_slice(person_with_three_kinds_of_access, start, stop):
    person = person_with_three_kinds_of_access
    queryset = Document.objects.select_related("company", "team")
    expected = list(selectors.objects_for_user(user=person, queryset=queryset)[start:stop])
    page = selectors.visible_page(user=person, queryset=queryset, start=start, stop=stop)
    assert page == expected
    assert len(expected) == min(stop, 61) - start or start >= 61


def test_visible_page_is_empty_for_a_person_without_roles():
    DocumentFactory()
    assert selectors.visible_page(
        user=UserFactory(), queryset=Document.objects.all(), start=0, stop=50
    ) == []
