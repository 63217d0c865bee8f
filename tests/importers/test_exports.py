"""Exports of unified data: formula cells escaped, and only the rows the user may view."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from backoffice.projects.demo import demo_setup
from backoffice.projects.models import Project
from importers.exports import escape_formula
from importers.resources import CompanyResource
from rbac.models import Company, User
from tests import factories

DANGEROUS = ["=cmd", "+1", "-2", "@x", "\tX", "\rY"]


@pytest.mark.parametrize("value", DANGEROUS)
def test_escape_formula_prefixes_an_apostrophe(value):
    assert escape_formula(value) == f"'{value}"


@pytest.mark.parametrize("value", ["Acme", "", "a=b", "x-1", None, 5, -2])
def test_escape_formula_leaves_other_values_alone(value):
    assert escape_formula(value) == value


def _export(client, model, file_format: str, pks, *, select_across: bool = False):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return client.post(url, {
        "action": f"export_selected_{file_format}", ACTION_CHECKBOX_NAME: [str(pk) for pk in pks],
        "select_across": "1" if select_across else "0", "index": "0",
    })


def _csv_rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


@pytest.fixture
def dangerous_companies(db):
    return [factories.CompanyFactory(name=name) for name in DANGEROUS]


def test_csv_export_escapes_every_formula_cell(client, superuser, dangerous_companies):
    client.force_login(superuser)
    response = _export(client, Company, "csv", [c.pk for c in dangerous_companies])
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    names = sorted(row["name"] for row in _csv_rows(response))
    assert names == sorted(f"'{name}" for name in DANGEROUS)


def test_xlsx_export_escapes_every_formula_cell(client, superuser, dangerous_companies):
    client.force_login(superuser)
    response = _export(client, Company, "xlsx", [c.pk for c in dangerous_companies])
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    column = rows[0].index("name")
    # XML turns a stored carriage return into a line feed; the apostrophe is what counts.
    expected = sorted(f"'{name}".replace("\r", "\n") for name in DANGEROUS)
    assert sorted(row[column] for row in rows[1:]) == expected
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_related_text_is_escaped_and_numbers_keep_their_sign(client, superuser):
    company = factories.CompanyFactory(name="@evil")
    project = factories.ProjectFactory(company=company, team=None, name="-rm", budget=-2)
    client.force_login(superuser)
    (row,) = _csv_rows(_export(client, Project, "csv", [project.pk]))
    assert row["company__name"] == "'@evil" and row["name"] == "'-rm"
    assert row["budget"].startswith("-2")


def test_user_export_has_no_password_column(client, superuser):
    client.force_login(superuser)
    rows = _csv_rows(_export(client, User, "csv", [superuser.pk]))
    assert rows[0]["email"] == superuser.email
    assert "password" not in rows[0]
    assert "password" not in CompanyResource().get_export_headers()


@pytest.mark.django_db
def test_scoped_staff_exports_only_their_company(client):
    demo = demo_setup()
    client.force_login(User.objects.get(email=demo.scoped_staff[0]))
    own = Company.objects.get(name="Acme", country="DE")
    others = list(Company.objects.exclude(pk=own.pk).values_list("pk", flat=True))
    everything = _csv_rows(_export(client, Company, "csv", [own.pk], select_across=True))
    assert [row["id"] for row in everything] == [str(own.pk)]
    smuggled = _csv_rows(_export(client, Company, "csv", [own.pk, *others]))
    assert [row["id"] for row in smuggled] == [str(own.pk)]
    projects = _csv_rows(_export(client, Project, "csv", [0], select_across=True))
    assert projects and {row["company__name"] for row in projects} == {"Acme"}
    assert len(projects) == Project.objects.filter(company=own).count()
