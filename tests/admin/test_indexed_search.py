"""The indexed admin search finds exactly what Django's own search finds, on any database."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse

from backoffice.projects.models import Document
from importers.models import LegacyRecord
from rbac import search
from rbac.models import Company, Membership, Team, User
from rbac.pagination import CappedCount, IdsFirstPaginator
from rbac.search import IndexedSearchMixin, indexed_search, parse_search_field
from tests.factories import (
    CompanyFactory,
    DocumentFactory,
    TeamFactory,
    UserFactory,
    member,
)

pytestmark = pytest.mark.django_db

SEARCHED_MODELS = (User, Company, Team, Membership, Document, LegacyRecord)
TERMS = ("smith", "ACME", "acme smith", "Platform", "jones@", '"Acme Widgets"', "ham-",
         "nothing-matches-this", "a", "DE-", "legacy-7", "co")


@pytest.fixture
def world(superuser):
    from django.contrib.contenttypes.models import ContentType

    acme = CompanyFactory(name="Acme Widgets", legal_name="Acme Widgets GmbH")
    other = CompanyFactory(name="Hamburg Smithy", legal_name="Ham-Smith AG")
    platform = TeamFactory(company=acme, name="Platform")
    TeamFactory(company=other, name="Acme liaison")
    people = [
        UserFactory(email="anna.smith@acme.example", first_name="Anna", last_name="Smith"),
        UserFactory(email="bob.jones@ham.example", first_name="Bob", last_name="Jones"),
        UserFactory(email="carla@example.test", first_name="Carla", last_name="Acmeson"),
        UserFactory(email="dmitri@example.test", first_name="Dmitri", last_name="Co"),
    ]
    member(people[0], acme, "admin")
    member(people[1], other, "viewer")
    member(people[2], acme, "editor", team=platform)
    member(people[3], other, "owner")
    DocumentFactory(company=acme, team=platform, original_name="smith-contract.pdf")
    DocumentFactory(company=other, original_name="plan.txt", legacy_key="DE-ham-7/plan.txt")
    DocumentFactory(company=acme, original_name="acme smith notes.docx")
    user_type = ContentType.objects.get_for_model(User)
    for n, person in enumerate(people):
        LegacyRecord.objects.create(source="core", table="users", legacy_id=f"legacy-{n}",
                                    content_type=user_type, object_id=person.pk, fingerprint="x")
    LegacyRecord.objects.create(source="portal", table="member", legacy_id="legacy-7:acme",
                                content_type=user_type, object_id=people[0].pk, fingerprint="x")
    return people


def _request(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def _ids(queryset) -> list:
    return sorted(queryset.values_list("pk", flat=True))


@pytest.mark.parametrize("model", SEARCHED_MODELS, ids=lambda m: m._meta.model_name)
def test_indexed_search_finds_what_djangos_search_finds(world, superuser, model):
    model_admin = admin.site._registry[model]
    assert isinstance(model_admin, IndexedSearchMixin)
    request = _request(superuser)
    queryset = model_admin.get_queryset(request)
    for term in TERMS:
        ours, duplicates = model_admin.get_search_results(request, queryset, term)
        django, _ = ModelAdmin.get_search_results(model_admin, request, queryset, term)
        assert _ids(ours) == _ids(django), f"{model.__name__} {term!r}"
        assert duplicates is False


def test_search_through_a_related_table_uses_its_ids_and_a_subquery_when_many(
    world, monkeypatch
):
    fields = ["user__email", "company__name", "team__name"]
    listed = indexed_search(Membership.objects.all(), fields, "acme")
    expected = Membership.objects.filter(company__name__icontains="acme") | \
        Membership.objects.filter(team__name__icontains="acme") | \
        Membership.objects.filter(user__email__icontains="acme")
    assert _ids(listed) == _ids(expected)
    assert len(_ids(listed)) == 2  # Acme's two members; nobody is in the liaison team

    monkeypatch.setattr(search, "MAX_IDS", 0)  # every related match list becomes a subquery
    assert _ids(indexed_search(Membership.objects.all(), fields, "acme")) == _ids(expected)


def test_every_word_must_match_some_field(world):
    found = indexed_search(User.objects.all(), ["email", "first_name", "last_name"],
                           "anna smith")
    assert [u.email for u in found] == ["anna.smith@acme.example"]


@pytest.mark.parametrize("spec", ["@name", "memberships__user__email", "company",
                                  "company__name__lower", "pk__exact"])
def test_fields_the_indexed_search_does_not_handle_are_left_to_django(spec):
    model = Team if spec.startswith("memberships") else Membership
    assert parse_search_field(model, spec) is None


def test_prefixes_and_explicit_lookups_are_parsed_as_django_does():
    assert parse_search_field(Membership, "^user__email").lookup == "email__istartswith"
    assert parse_search_field(Membership, "=team__name").lookup == "name__iexact"
    field = parse_search_field(Document, "company__legal_name__exact")
    assert (field.relations, field.lookup, field.model) == (("company",), "legal_name__exact",
                                                            Company)


def test_a_scoped_admin_search_stays_within_the_company(world, client):
    acme_admin = UserFactory(is_staff=True, email="staff@acme.example")
    member(acme_admin, Company.objects.get(name="Acme Widgets"), "admin")
    client.force_login(acme_admin)
    response = client.get(reverse("admin:rbac_membership_changelist"), {"q": "example"})
    assert response.status_code == 200
    shown = {m.user.email for m in response.context["cl"].result_list}
    assert shown == {"anna.smith@acme.example", "carla@example.test", "staff@acme.example"}


# --- the paginator ------------------------------------------------------------------------


def test_paginator_counts_up_to_its_cap_and_says_so(world, monkeypatch):
    monkeypatch.setattr(IdsFirstPaginator, "count_limit", 2)
    capped = IdsFirstPaginator(User.objects.order_by("email"), 2)
    assert isinstance(capped.count, CappedCount)
    assert (int(capped.count), str(capped.count)) == (3, "2+")
    assert [u.email for u in capped.page(1)] == ["anna.smith@acme.example",
                                                 "bob.jones@ham.example"]

    monkeypatch.setattr(IdsFirstPaginator, "count_limit", 100)
    exact = IdsFirstPaginator(User.objects.all(), 2)
    assert exact.count == User.objects.count() and not isinstance(exact.count, CappedCount)


def test_only_a_superusers_whole_table_lists_search_related_tables_first(superuser):
    assert search.searches_whole_tables(superuser) is True
    assert search.searches_whole_tables(UserFactory(is_staff=True)) is False


def test_capped_count_reads_as_a_lower_bound():
    assert f"{CappedCount(1001)} results" == "1,000+ results"
    assert f"{CappedCount(1001):,}" == "1,000+"


def test_a_large_changelist_counts_by_reading_ids_and_shows_the_capped_count(
    world, client, superuser, monkeypatch
):
    monkeypatch.setattr(IdsFirstPaginator, "count_limit", 2)
    client.force_login(superuser)
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("admin:importers_legacyrecord_changelist"), {"q": "legacy"})
    assert response.status_code == 200
    assert not [q["sql"] for q in captured if "COUNT(" in q["sql"].upper()]
    assert "2+ legacy records" in response.content.decode()


@pytest.mark.parametrize("limit", [3, 1_000])
@pytest.mark.parametrize("ordering", [
    ("email", "-pk"), ("-last_name", "first_name", "pk"), ("-is_active", "-date_joined", "-pk"),
])
def test_paginator_pages_are_djangos_pages(world, monkeypatch, limit, ordering):
    from django.core.paginator import Paginator

    for n in range(7):  # ties on last name, so the later keys decide
        UserFactory(email=f"tie{n}@example.test", last_name="Tie", first_name=f"F{n % 3}")
    monkeypatch.setattr(IdsFirstPaginator, "count_limit", limit)
    rows = User.objects.order_by(*ordering)
    ours, django = IdsFirstPaginator(rows, 4), Paginator(rows, 4)
    for number in range(1, min(ours.num_pages, django.num_pages) + 1):
        assert [u.pk for u in ours.page(number)] == [u.pk for u in django.page(number)]


@pytest.mark.parametrize("ordering", [("company_id", "team_id", "user_id", "-pk"),
                                      ("-team_id", "role_id", "pk"), ("-created_at",)])
def test_membership_pages_sorted_by_keys_or_dates_match_djangos(world, ordering):
    """Keys are sorted here (NULL team ids first or last as the database does), dates there."""
    from django.core.paginator import Paginator

    rows = Membership.objects.order_by(*ordering)
    assert IdsFirstPaginator(rows, 2)._few[1] is ("created_at" not in ordering[0])
    ours, django = IdsFirstPaginator(rows, 2), Paginator(rows, 2)
    assert ours.count == django.count
    for number in django.page_range:
        assert [m.pk for m in ours.page(number)] == [m.pk for m in django.page(number)]
