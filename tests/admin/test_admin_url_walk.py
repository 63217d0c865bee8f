"""Walk every URL the admin site serves, as a scoped staff member of every built-in role.

The URL patterns are read from the admin site when the tests are collected, so a new
model, a new package's view or a new custom view is walked without editing this file.
Each staff member holds their role for the whole of one company (Acme, Germany); another
company (Nordlicht) is the target. For every pattern, with the other company's object (and
history version, user, ...) in the URL:

- a GET is not a 200 where the URL names an object, and no answer shows the other
  company ("nordlicht" in any page, list, export or error);
- POSTs change nothing in the database: an empty POST, a changelist action on the other
  company's objects, and every form of the page (or of the same page for an object of
  their own company) posted with the other company's ids put in.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, update_last_login
from django.contrib.auth.signals import user_logged_in
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.signals import request_started
from django.urls import URLPattern, URLResolver, resolve
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.legacy_api.models import LegacyUsage
from backoffice.projects.demo import demo_setup
from backoffice.projects.models import Document, Project
from importers.models import ImportRun, LegacyRecord, ReviewPair
from rbac import services
from rbac.models import AccessToken, APIKey, Company, Membership, Team, User
from rbac.roles import BUILT_IN_ROLES
from rbac.scopes import scope_lookups
from rbac.tokens import api_key_create
from tests.admin.html_forms import post_forms
from tests.factories import StaffUserFactory, member

pytestmark = pytest.mark.django_db

MARKER = "nordlicht"  # in every name, domain and e-mail of the other company
# Global definitions every staff member reads (their change page is a read-only view).
READ_BY_ALL_STAFF = {"rbac.role"}
# Rows that requests write whatever they do: sessions, log-in bookkeeping.
NOT_COMPARED = {Session, AccessAttempt, AccessLog, AccessFailureLog}
# URL arguments that name the object the pattern's ModelAdmin is about.
OBJECT_ARGUMENTS = {"object_id", "object_pk", "pk", "id", "0"}
# Form fields that pick an object: filled with the other company's.
FOREIGN_FIELDS = {"company": Company, "team": Team, "parent": Team, "user": User,
                  "uploaded_by": User, "project": Project}


@dataclass(frozen=True)
class AdminURL:
    route: str  # the full pattern, as Django prints it
    pattern: URLPattern
    model: type | None  # the ModelAdmin's model; None for the site's own views

    @property
    def arguments(self) -> list[str]:
        """Return the names of the pattern's arguments; positional ones as "0", "1", ..."""
        names = []
        for part in _route_parts(self.route):
            if part.startswith("<"):
                names.append(part.strip("<>").split(":")[-1])
            elif part.startswith("("):
                named = re.match(r"\(\?P<(\w+)>", part)
                names.append(named.group(1) if named else str(sum(
                    1 for name in names if name.isdigit())))
        return names

    def url(self, values: dict[str, str]) -> str:
        positional = iter(range(100))
        path = []
        for part in _route_parts(self.route):
            if part.startswith("<"):
                path.append(values[part.strip("<>").split(":")[-1]])
            elif part.startswith("("):
                named = re.match(r"\(\?P<(\w+)>", part)
                path.append(values[named.group(1) if named else str(next(positional))])
            else:
                path.append(part.replace("^", "").replace("$", "").replace("\\", ""))
        return "/admin/" + "".join(path)


def _route_parts(route: str) -> list[str]:
    return re.findall(r"<[^>]+>|\((?:[^()]|\([^()]*\))*\)|[^<(]+", route)


def admin_urls(site=admin.site) -> list[AdminURL]:
    """Return every URL pattern the site serves, nested includes walked, with its model."""
    by_prefix = {f"{m._meta.app_label}/{m._meta.model_name}/": m for m in site._registry}
    found = []

    def walk(patterns, prefix: str, model) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route, model or by_prefix.get(str(entry.pattern)))
            else:
                found.append(AdminURL(route, entry, model))

    walk(site.get_urls(), "", None)
    return found


ADMIN_URLS = admin_urls()
ROLES = [definition.slug for definition in BUILT_IN_ROLES]


@pytest.fixture
def world():
    """The demo's three companies, plus one object of every admin model for Nordlicht."""
    demo_setup()
    nordlicht = Company.objects.get(name="Nordlicht Logistik")
    own = Company.objects.get(name="Acme", country="DE")
    owner = User.objects.get(email="owner@nordlicht.example")
    viewer = User.objects.get(email="viewer@nordlicht.example")
    team = nordlicht.teams.order_by("pk").first()
    project = Project.objects.filter(company=nordlicht).first()
    document = Document.objects.filter(company=nordlicht).first()
    for obj in (nordlicht, team, project, document):
        services.grant_object_permission(user=viewer, obj=obj, action="view")
    api_key_create(company=nordlicht, name="nordlicht key", scopes={"read"})
    api_key_create(company=own, name="acme key", scopes={"read"})
    AccessToken.objects.create(user=owner, token_hash="0" * 64, scopes="read",
                               expires_at=timezone.now() + timedelta(hours=1))
    TOTPDevice.objects.create(user=owner, name="nordlicht phone")
    StaticDevice.objects.create(user=owner, name="nordlicht codes")
    Group.objects.create(name="a group")
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        fields = {"username": owner.email, "user_agent": "ua", "http_accept": "*/*",
                  "path_info": "/admin/login/", "ip_address": "192.0.2.1"}
        if model is AccessAttempt:
            fields.update(get_data="", post_data="", failures_since_start=1)
        model.objects.create(**fields)
    ImportRun.objects.create()
    ReviewPair.objects.create(left_source="core", left_table="companies", left_legacy_id="1",
                              right_source="portal", right_table="companies",
                              right_legacy_id="2")
    LegacyRecord.objects.create(source="core", table="companies", legacy_id="1",
                                content_type=ContentType.objects.get_for_model(Company),
                                object_id=str(nordlicht.pk), fingerprint="x")
    nordlicht_key = APIKey.objects.get(company=nordlicht, name="nordlicht key")
    LegacyUsage.objects.create(api="portal", endpoint="GET /api/companies/{id}",
                               credential_kind="key", credential_id=nordlicht_key.pk,
                               credential_label="nordlicht key", company=nordlicht, calls=3)
    return {"own": own, "other": nordlicht, "other_user": owner, "other_team": team,
            "other_project": project}


def _company_objects(model, company: Company, person: User):
    """Return the model's objects that belong to the company (or, unowned, all of them)."""
    manager = model._default_manager
    if model is Company:
        return manager.filter(pk=company.pk)
    if model is User:
        return manager.filter(pk=person.pk)
    company_lookup, _ = scope_lookups(model)
    if company_lookup:
        return manager.filter(**{company_lookup: company.pk})
    fields = {f.name: f for f in model._meta.get_fields()}
    names = set(fields)
    target = getattr(fields.get("content_object"), "related_model", None)
    if target is not None:  # a direct grant: on the company's object
        lookup = "content_object" if target is Company else "content_object__company"
        return manager.filter(**{lookup: company.pk})
    if "user" in names and fields["user"].concrete:
        return manager.filter(user=person)
    if "username" in names:
        return manager.filter(username=person.email)
    return manager.all()


def _values(admin_url: AdminURL, world, obj, person: User) -> dict[str, str]:
    history = getattr(obj, "history", None) if obj is not None else None
    version = history.order_by("history_date").last() if history is not None else None
    values = {
        "user_id": str(person.pk),
        "group_id": str(Group.objects.first().pk),
        "token": str(uuid.uuid4()),
        "content_type_id": str(ContentType.objects.get_for_model(Company).pk),
        "app_label": admin_url.model._meta.app_label if admin_url.model else "rbac",
        "url": "nowhere",
        "1": str(version.history_id if version else 1),
    }
    target = obj if obj is not None else world["other"]
    for name in OBJECT_ARGUMENTS:
        values[name] = str(target.pk)
    return values


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def _snapshot() -> dict[str, set]:
    rows = {}
    for model in apps.get_models():
        if model in NOT_COMPARED or model._meta.proxy:
            continue
        names = [f.attname for f in model._meta.concrete_fields]
        rows[model._meta.label] = {
            repr(row) for row in model._base_manager.order_by().values_list(*names)
        }
    return rows


def _changed(before: dict[str, set], after: dict[str, set]) -> dict[str, tuple]:
    return {label: (before[label] - after[label], after[label] - before[label])
            for label in before if before[label] != after[label]}


def _foreign_form_data(form, world, foreign_pk) -> list[dict]:
    """Return the form's data as posted by the attacker: each action, other company's ids."""
    data = {name: list(values) for name, values in form.data.items()}
    for name in data:
        field_name = name.rsplit("-", 1)[-1]  # inline forms: "memberships-0-user"
        model = FOREIGN_FIELDS.get(field_name)
        if model is not None:
            data[name] = [str(_company_objects(model, world["other"],
                                               world["other_user"]).first().pk)]
    if "action" in form.choices:
        data["_selected_action"] = [str(foreign_pk)]
        actions = [value for value in form.choices["action"] if value]
        return [{**data, "action": [action], "post": ["yes"], "index": ["0"]}
                for action in actions]
    return [data]


def _walk(client, world, person: User, admin_url: AdminURL, problems: list) -> None:
    arguments = admin_url.arguments
    names_object = bool(OBJECT_ARGUMENTS & set(arguments)) or "content_type_id" in arguments
    model = admin_url.model or Company
    foreign = _company_objects(model, world["other"], world["other_user"]).first()
    if foreign is None:
        problems.append((admin_url.route, "no object of another company to aim at: "
                         "add one to the world fixture"))
        return
    own = _company_objects(model, world["own"], person).first() if names_object else None
    url = admin_url.url(_values(admin_url, world, foreign, world["other_user"]))
    match = resolve(url)
    if match.route != "admin/" + admin_url.route.replace("/^", "/").removeprefix("^"):
        problems.append((admin_url.route, f"built {url}, which is {match.route}"))
        return

    def check(response, what: str) -> None:
        if MARKER in _body(response).lower():
            problems.append((url, f"{what} shows the other company"))
        if "_auth_user_id" not in client.session:  # e.g. after POST /logout/
            client.force_login(person)

    response = client.get(url)
    check(response, "GET")
    readable = model._meta.label_lower in READ_BY_ALL_STAFF
    if names_object and response.status_code == 200 and not readable:
        problems.append((url, "GET answered 200"))
    pages = [response]
    if own is not None:  # the same page for an object of their own: its forms, posted here
        # (with the other company's person where the URL names one: guardian's page)
        own_url = admin_url.url(_values(admin_url, world, own, world["other_user"]))
        own_page = client.get(own_url)
        check(own_page, f"GET of {own_url}")
        pages.append(own_page)
    check(client.post(url, {}), "empty POST")
    for page in pages:
        if page.status_code != 200 or "html" not in page.get("Content-Type", ""):
            continue
        for form in post_forms(_body(page)):
            if form.action not in ("", page.request["PATH_INFO"]):
                continue  # another URL's form (log-out): walked with that URL
            for data in _foreign_form_data(form, world, foreign.pk):
                check(client.post(url, data), f"POST of the form of {page.request['PATH_INFO']}")


@pytest.fixture
def no_last_login_updates():
    """Log the walker in again (after /logout/) without writing their last log-in."""
    user_logged_in.disconnect(dispatch_uid="update_last_login")
    yield
    user_logged_in.connect(update_last_login, dispatch_uid="update_last_login")


@pytest.mark.usefixtures("no_last_login_updates")
@pytest.mark.parametrize("role", ROLES, ids=lambda slug: f"{slug}-{len(ADMIN_URLS)}-patterns")
def test_every_admin_url_is_gated_for_scoped_staff(client, world, role):
    person = StaffUserFactory(email=f"walker-{role}@acme.de")
    member(person, world["own"], role)
    client.force_login(person)
    before = _snapshot()
    problems: list = []
    requests = []

    def count(**kwargs) -> None:
        requests.append(kwargs.get("environ", {}).get("PATH_INFO"))

    request_started.connect(count, weak=False, dispatch_uid="admin_walk_count")
    for admin_url in ADMIN_URLS:
        _walk(client, world, person, admin_url, problems)
    changed = _changed(before, _snapshot())
    request_started.disconnect(dispatch_uid="admin_walk_count")
    print(f"{role}: walked {len(ADMIN_URLS)} admin URL patterns in {len(requests)} requests")
    assert problems == [], "\n".join(f"{where}: {what}" for where, what in problems)
    assert changed == {}


def test_the_walk_covers_the_views_other_packages_add():
    routes = {admin_url.route for admin_url in ADMIN_URLS}
    assert any("history/([^/]+)" in route for route in routes)  # django-simple-history
    assert any("permissions/user-manage" in route for route in routes)  # django-guardian
    assert any(route.startswith("importers/importrun/upload/") for route in routes)
    assert {APIKey, Membership, User} <= {u.model for u in ADMIN_URLS}


def test_every_modeladmin_view_passes_the_gate():
    ungated = [u.route for u in ADMIN_URLS
               if u.model is not None and getattr(u.pattern.callback, "gated_by", None) is None]
    assert ungated == []
