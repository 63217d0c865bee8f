"""POST /api/v1/invitations/: invite a person by e-mail, within one's company and rank."""

from __future__ import annotations

import pytest
from django.core import mail

from rbac.models import Membership, User

pytestmark = pytest.mark.django_db
URL = "/api/v1/invitations/"


def body(objects, **changes):
    return {"company": objects.company.pk, "email": "new.hire@example.com", "role": "editor",
            **changes}


def test_an_admin_invites_a_new_person_who_is_sent_the_set_password_mail(world, api):
    response = api(world.ours.people["admin"]).post(URL, body(world.ours), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["user"]["email"] == "new.hire@example.com"
    assert data["user_created"] and data["membership_created"] and data["email_sent"]
    assert data["membership"]["role"]["slug"] == "editor"
    assert data["membership"]["company"] == world.ours.company.pk
    assert [message.to for message in mail.outbox] == [["new.hire@example.com"]]
    assert "http://testserver/accounts/reset/" in mail.outbox[0].body


def test_inviting_again_is_200_and_changes_nothing(world, api):
    client = api(world.ours.people["admin"])
    first = client.post(URL, body(world.ours), format="json")
    again = client.post(URL, body(world.ours, email="NEW.HIRE@example.com"), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["membership"]["id"] == first.json()["membership"]["id"]
    assert not again.json()["user_created"] and not again.json()["email_sent"]
    assert User.objects.filter(email__iexact="new.hire@example.com").count() == 1
    assert len(mail.outbox) == 1


def test_a_known_person_gets_a_role_in_a_team_and_no_mail(world, api):
    known = world.namesake.people["viewer"]  # known to the system, not to this company
    response = api(world.ours.people["owner"]).post(
        URL, body(world.ours, email=known.email, team=world.ours.team.pk, role="manager"),
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["user"]["id"] == known.pk
    assert not response.json()["user_created"]
    membership = Membership.objects.get(user=known, company=world.ours.company)
    assert (membership.team, membership.role.slug) == (world.ours.team, "manager")
    assert mail.outbox == []


@pytest.mark.parametrize("foreign", ["namesake", "stranger"])
def test_inviting_into_another_companys_id_reads_like_an_unknown_id(world, api, foreign):
    client = api(world.ours.people["admin"])
    target = getattr(world, foreign).company.pk
    response = client.post(URL, body(world.ours, company=target), format="json")
    unknown = client.post(URL, body(world.ours, company=987654321), format="json")
    assert response.status_code == unknown.status_code == 404
    assert response.json() == unknown.json()
    assert not User.objects.filter(email="new.hire@example.com").exists()


def test_a_team_of_another_company_is_404(world, api):
    response = api(world.ours.people["admin"]).post(
        URL, body(world.ours, team=world.namesake.team.pk), format="json"
    )
    assert response.status_code == 404
    assert not User.objects.filter(email="new.hire@example.com").exists()


def test_a_role_above_ones_own_is_refused(world, api):
    response = api(world.ours.people["admin"]).post(
        URL, body(world.ours, role="owner"), format="json"
    )
    assert response.status_code == 403
    assert "outranks" in response.json()["error"]["message"]
    assert not User.objects.filter(email="new.hire@example.com").exists()
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("slug", "expected"),
    # The manager's role holds in a team only: the company itself is not theirs to see.
    [("manager", 404), ("editor", 403), ("viewer", 403), ("billing", 403)],
)
def test_members_who_do_not_administer_the_company_are_refused(world, api, slug, expected):
    response = api(world.ours.people[slug]).post(
        URL, body(world.ours, role="viewer"), format="json"
    )
    assert response.status_code == expected
    assert not User.objects.filter(email="new.hire@example.com").exists()


@pytest.mark.parametrize("scopes", ["read", "read write", "admin"])
def test_api_keys_cannot_invite(world, api, scopes):
    response = api(world.ours.keys[scopes]).post(URL, body(world.ours), format="json")
    assert response.status_code == 403
    assert not User.objects.filter(email="new.hire@example.com").exists()


def test_a_bad_address_or_role_is_400(world, api):
    client = api(world.ours.people["admin"])
    bad_email = client.post(URL, body(world.ours, email="not an address"), format="json")
    bad_role = client.post(URL, body(world.ours, role="emperor"), format="json")
    assert bad_email.status_code == bad_role.status_code == 400
    assert set(bad_email.json()["error"]["details"]) == {"email"}
    assert set(bad_role.json()["error"]["details"]) == {"role"}


def test_the_schema_describes_the_endpoint(world, api):
    schema = api(world.ours.people["admin"]).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/invitations/"]["post"]
    assert {"201", "200"} <= set(operation["responses"])
    request_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    name = request_schema["$ref"].rsplit("/", 1)[-1]
    assert set(schema["components"]["schemas"][name]["required"]) == {"company", "email", "role"}


def test_an_admin_key_giving_a_role_is_refused_with_403_not_a_server_error(world, api):
    response = api(world.ours.keys["admin"]).post("/api/v1/memberships/", {
        "company": world.ours.company.pk, "user": world.ours.people["viewer"].pk,
        "role": "editor",
    }, format="json")
    assert response.status_code == 403
    assert "API key" in response.json()["error"]["message"]
    viewer = world.ours.people["viewer"]
    assert Membership.objects.get(user=viewer, company=world.ours.company).role.slug == "viewer"
