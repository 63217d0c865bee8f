"""Import pages that read well: durations in words, a submit that cannot be sent twice,
help texts that are true for an upload (issue 14, "Imports that feel responsive")."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from importers.models import ImportRun
from importers.report import readable_duration

pytestmark = pytest.mark.django_db

UPLOAD_PAGE_SCRIPT = "importers/js/submit_once.js"


@pytest.mark.parametrize(("seconds", "words"), [
    (None, "-"),
    (0.01, "under 0.1 s"),
    (0.44, "0.4 s"),
    (5.5, "5.5 s"),
    (9.96, "10 s"),
    (12.4, "12 s"),
    (59.6, "1 min"),
    (75.3, "1 min 15 s"),
    (600, "10 min"),
    (3599.4, "59 min 59 s"),
    (3725, "1 h 2 min"),
    (7200, "2 h"),
])
def test_a_duration_reads_in_the_largest_fitting_units(seconds, words):
    assert readable_duration(seconds) == words


@pytest.fixture
def run():
    return ImportRun.objects.create(
        status=ImportRun.Status.SUCCEEDED, duration_s=75.2, started_by_name="root",
        report={"tables": {}, "phases_s": {"read": 3.25, "write": 71.9}},
    )


def test_an_import_runs_page_gives_its_duration_and_steps_in_words(client, superuser, run):
    client.force_login(superuser)
    html = client.get(reverse("admin:importers_importrun_change", args=[run.pk])).content.decode()
    assert "1 min 15 s" in html and "75.2" not in html
    assert "read 3.2 s, write 1 min 12 s" in html


def test_the_import_runs_list_gives_durations_in_words(client, superuser, run):
    client.force_login(superuser)
    html = client.get(reverse("admin:importers_importrun_changelist")).content.decode()
    assert "1 min 15 s" in html


def upload_page_html(client, superuser) -> str:
    client.force_login(superuser)
    response = client.get(reverse("admin:importers_importrun_upload"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_upload_form_is_sent_once_by_a_script_file_not_an_inline_one(client, superuser):
    html = upload_page_html(client, superuser)
    assert re.search(r'<form [^>]*data-submit-once', html)
    assert f'src="/static/{UPLOAD_PAGE_SCRIPT}"' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "an inline script: CSP blocks it"
    assert finders.find(UPLOAD_PAGE_SCRIPT) is not None


def test_the_upload_form_says_what_it_takes(client, superuser, settings):
    settings.LEGACY_CSV_UPLOAD_MAX_BYTES = 5 * 1024 * 1024
    html = upload_page_html(client, superuser)
    assert "imported with the import_legacy command" in html
    assert "At most 5 MB." in html


def test_an_import_runs_help_texts_name_the_upload_as_well_as_the_command():
    started_by_name = ImportRun._meta.get_field("started_by_name").help_text
    assert "admin user for an upload" in started_by_name
    assert "upload" in ImportRun._meta.get_field("digest").help_text
