"""Factories for the unified model; roles come from the seeded migration."""

from __future__ import annotations

import factory
from django.utils import timezone

from backoffice.projects.models import Document, Project
from rbac import services
from rbac.models import APIKey, Company, Role, Team, User

DEFAULT_PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(DEFAULT_PASSWORD)


class StaffUserFactory(UserFactory):
    is_staff = True


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n}")
    country = "DE"
    domain = factory.Sequence(lambda n: f"company{n}.example")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Team {n}")
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.team_save(team=model_class(*args, **kwargs))


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    company = factory.SubFactory(CompanyFactory)
    team = None
    code = factory.Sequence(lambda n: f"PRJ-{n:05d}")
    name = factory.Faker("catch_phrase")


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Document

    company = factory.SubFactory(CompanyFactory)
    team = None
    project = None
    original_name = factory.Sequence(lambda n: f"document-{n}.pdf")
    content_type = "application/pdf"
    size = 1024
    uploaded_at = factory.LazyFunction(timezone.now)


class APIKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = APIKey

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"key {n}")
    prefix = factory.Sequence(lambda n: f"pk_{n:05x}")
    hashed_key = "0" * 64


def role(slug: str) -> Role:
    return Role.objects.get(slug=slug)


def member(user: User, company: Company, slug: str, team: Team | None = None):
    """Give a user a built-in role through the service, as every caller must."""
    return services.grant_role(user=user, company=company, role=role(slug), team=team)
