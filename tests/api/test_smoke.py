import pytest

pytestmark = pytest.mark.django_db


def test_admin_lists_only_their_company(world, api):
    response = api(world.ours.people["admin"]).get("/api/v1/companies/")
    assert response.status_code == 200, response.content
    assert [row["id"] for row in response.json()["results"]] == [world.ours.company.pk]
