import pytest

from backoffice.projects.models import Document
from rbac import selectors
from tests.factories import CompanyFactory, DocumentFactory, TeamFactory, UserFactory, member

pytestmark = pytest.mark.django_db


def test_team_editor_sees_documents_of_sub_teams_but_not_of_sibling_teams():
    company = CompanyFactory()
    parent = TeamFactory(company=company, name="Parent")
    child = TeamFactory(company=company, name="Child", parent=parent)
    sibling = TeamFactory(company=company, name="Sibling")
    user = UserFactory()
    member(user, company, "editor", team=parent)
    inside = DocumentFactory(company=company, team=child)
    outside = DocumentFactory(company=company, team=sibling)

    assert user.has_perm("projects.change_document", inside)
    assert not user.has_perm("projects.view_document", outside)
    visible = selectors.objects_for_user(user=user, queryset=Document.objects.all())
    assert list(visible) == [inside]
