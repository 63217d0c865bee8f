"""Finding 6: 403, 404 and 500 pages in the admin's look, with a way back."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.views.defaults import server_error

from tests import factories

pytestmark = pytest.mark.django_db


def test_a_403_in_the_admin_renders_the_styled_page_with_a_way_back(client):
    client.force_login(factories.StaffUserFactory())  # staff, without the import permission
    response = client.get(reverse("admin:importers_importrun_upload"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "You are not allowed to do this" in html
    assert f'href="{reverse("admin:index")}"' in html
    assert "admin/css/base.css" in html  # the admin's style sheet, not a bare page


def test_an_unknown_admin_page_is_a_styled_404(client):
    client.force_login(factories.StaffUserFactory())
    response = client.get("/admin/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "There is nothing here" in html and "/admin/no-such-page/" in html
    assert f'href="{reverse("admin:index")}"' in html


def test_the_500_page_renders_without_the_database_or_a_context():
    request = RequestFactory().get("/admin/")
    with CaptureQueriesContext(connection) as queries:
        response = server_error(request)
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html and 'href="/admin/"' in html
    assert len(queries) == 0
