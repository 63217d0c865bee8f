"""Build a Postman v2.1 collection and environment from the OpenAPI schema.

Every operation becomes a request with an example body built from its schema. Requests
run in an order that works against a live server: each folder lists, creates, reads,
changes, downloads and finally deletes what it created; tests capture ids into
collection variables so later requests address real objects.
"""

from __future__ import annotations

import json
import re
import uuid

SCHEMA_VERSION = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
FOLDER_ORDER = [
    "auth", "me", "companies", "teams", "projects", "documents", "memberships", "invitations",
    "grants", "legacy",
]
# Deprecated operations (Core's /v1 and Portal's /api, backoffice/legacy_api) go to one
# "legacy" folder, run last. Their path parameters are filled from the legacy lists'
# answers; their tests check the deprecation headers and that the server does not fail.
LEGACY_FOLDER = "legacy"
LEGACY_QUERIES = {"/v1/users": "org={{legacy_org_id}}", "/v1/projects": "org={{legacy_org_id}}",
                  "/api/files": "teamId={{legacy_team_id}}"}
# The lookup by legacy id (/api/v1/legacy/{source}/{table}/{legacy_id}) is in the folder too.
LEGACY_PARAMETERS = {"source": "core", "table": "organizations",
                     "legacy_id": "{{legacy_org_id}}"}
# (method, path) -> {variable: JavaScript expression on `body`}
LEGACY_CAPTURES = {  # in the order they run: each fills ids the next ones use
    ("get", "/v1/organizations"): {"legacy_org_id": "body.items[0].id"},
    ("get", "/v1/organizations/{org_id}/departments"): {"legacy_team_id": "body.items[0].id"},
    ("get", "/v1/projects"): {"legacy_project_id": "body.items[0].id"},
    ("get", "/v1/projects/{project_id}/documents"): {"legacy_document_id": "body.items[0].id"},
    ("get", "/v1/users"): {"legacy_user_id": "body.items[0].id"},
    ("get", "/api/members/me"): {"legacy_member_id": "body.member_id",
                                 "legacy_company_id": "body.company_id"},
    ("get", "/api/files"): {"legacy_file_id": "body[0].file_id"},
}
ACTION_ORDER = ["list", "create", "retrieve", "update", "partial_update", "download", "destroy"]
UPLOAD_FILE_NAME = "example-upload.txt"

# Example values where the type alone does not give a working request.
FIELD_EXAMPLES = {
    "company": "{{companies_id}}",
    "team": "{{teams_id}}",
    "project": None,  # the projects folder deletes the one it made
    "user": "{{user_id}}",
    "parent": None,
    "role": "viewer",
    "resource_type": "company",
    "resource_id": "{{companies_id}}",
    "permission": "view",
    "country": "DE",
    "code": "EX-{{$timestamp}}",
    "name": "Example {{$timestamp}}",
    "vat_number": None,
    "budget": "1000.00",
    "grant_type": "password",
    "username": "{{username}}",
    "password": "{{password}}",
    "original_name": "example.txt",
    "content_type": "text/plain",
}
# Fields sent only when they have an example here (others are optional and left out).
OMIT_OPTIONAL = {"otp_token", "client_id", "client_secret", "scope", "size"}


def _legacy_item(path: str, method: str, operation: dict) -> tuple[int, dict]:
    """Return (rank, request) of a deprecated operation for the legacy folder."""
    concrete = re.sub(r"\{([a-z_]+)\}", lambda m: LEGACY_PARAMETERS.get(
        m[1], "{{legacy_" + m[1].removesuffix("_id") + "_id}}"), path)
    query = LEGACY_QUERIES.get(path) if method == "get" or path.startswith("/v1/") else None
    raw = "{{base_url}}" + concrete + (f"?{query}" if query else "")
    url = {"raw": raw, "host": ["{{base_url}}"],
           "path": [s for s in concrete.split("/") if s]}
    if query:
        url["query"] = [{"key": k, "value": v} for k, v in
                        (pair.split("=", 1) for pair in query.split("&"))]
    request = {"method": method.upper(), "header": [], "url": url,
               "description": operation.get("description", "")}
    if method in {"post", "put", "patch"}:
        request["body"] = {"mode": "raw", "raw": "{}",
                           "options": {"raw": {"language": "json"}}}
        request["header"].append({"key": "Content-Type", "value": "application/json"})
    script = [
        'pm.test("answers without a server error", function () {',
        "    pm.expect(pm.response.code).to.be.below(500);",
        "});",
    ]
    if operation.get("deprecated"):
        script += [
            'pm.test("announces its deprecation", function () {',
            '    pm.expect(pm.response.headers.has("Deprecation")).to.be.true;',
            '    pm.expect(pm.response.headers.has("Sunset")).to.be.true;',
            "});",
        ]
    captures = LEGACY_CAPTURES.get((method, path))
    if captures:
        script.append("if (pm.response.code === 200) { var body = pm.response.json(); try {")
        script += [f'    pm.collectionVariables.set("{name}", {expression});'
                   for name, expression in captures.items()]
        script.append("} catch (e) {} }")
    # The lists that fill ids first, in their order; then reads, writes, deletions last.
    order = list(LEGACY_CAPTURES)
    if (method, path) in LEGACY_CAPTURES:
        rank = order.index((method, path))
    else:
        rank = 10 + 10 * ["get", "post", "put", "patch", "delete"].index(method)
    item = {"name": operation.get("summary") or f"{method.upper()} {path}", "request": request,
            "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": script}}]}
    return rank, item


def _folder(path: str) -> str:
    parts = [p for p in path.split("/") if p and not p.startswith("{")]
    return parts[2] if len(parts) > 2 else parts[-1]


def _action(path: str, method: str) -> str:
    if path.endswith("/download/"):
        return "download"
    detail = "{id}" in path
    return {
        ("get", False): "list", ("post", False): "create", ("get", True): "retrieve",
        ("put", True): "update", ("patch", True): "partial_update", ("delete", True): "destroy",
    }.get((method, detail), method)


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    if "allOf" in node:
        return _resolve(schema, node["allOf"][0])
    return node


def example_value(schema: dict, name: str, node: dict):
    if name in FIELD_EXAMPLES:
        return FIELD_EXAMPLES[name]
    node = _resolve(schema, node)
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type")
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object":
        return example_object(schema, node)
    return {"email": "someone@example.com", "uri": "https://example.com/",
            "date-time": "2026-01-01T00:00:00Z"}.get(node.get("format"), f"example {name}")


def example_object(schema: dict, node: dict) -> dict:
    node = _resolve(schema, node)
    required = set(node.get("required", []))
    body = {}
    for name, prop in node.get("properties", {}).items():
        if _resolve(schema, prop).get("readOnly") or prop.get("readOnly"):
            continue
        if name not in required and (name in OMIT_OPTIONAL or name not in FIELD_EXAMPLES):
            continue
        body[name] = example_value(schema, name, prop)
    return body


def _body(schema: dict, operation: dict, folder: str) -> dict | None:
    content = operation.get("requestBody", {}).get("content", {})
    if folder == "documents" and "multipart/form-data" in content:
        node = content["multipart/form-data"]["schema"]
        fields = [
            {"key": k, "value": str(v), "type": "text"}
            for k, v in example_object(schema, node).items() if v is not None
        ]
        fields.append({"key": "file", "type": "file", "src": UPLOAD_FILE_NAME})
        return {"mode": "formdata", "formdata": fields}
    if "application/json" in content:
        payload = example_object(schema, content["application/json"]["schema"])
        raw = json.dumps(payload, indent=2)
        # Variables that stand for numbers go in unquoted, so the JSON carries integers.
        raw = re.sub(r'"(\{\{[a-z_]+_id\}\})"', r"\1", raw)
        return {"mode": "raw", "raw": raw, "options": {"raw": {"language": "json"}}}
    return None


def _expected_status(operation: dict) -> list[int]:
    return sorted(int(code) for code in operation.get("responses", {}) if code[0] in "23")


def _test_script(folder: str, action: str, expected: list[int]) -> list[str]:
    lines = [
        f'pm.test("answers {" or ".join(map(str, expected))}", function () {{',
        f"    pm.expect(pm.response.code).to.be.oneOf({json.dumps(expected)});",
        "});",
    ]
    if folder == "auth":
        lines += [
            "if (pm.response.code === 200) {"
            ' pm.environment.set("token", pm.response.json().access_token); }'
        ]
    elif folder == "me":
        lines += [
            "var me = pm.response.json();"
            ' if (me.user) { pm.collectionVariables.set("user_id", me.user.id); }'
        ]
    elif action == "list":
        lines += [
            "var rows = pm.response.json().results || [];",
            f'if (rows.length) {{ pm.collectionVariables.set("{folder}_id", rows[0].id); }}',
        ]
    elif action == "create" and folder != "grants":
        lines += [f'pm.collectionVariables.set("{folder}_id", pm.response.json().id);']
    elif action == "create":
        lines += ['pm.collectionVariables.set("grants_id", pm.response.json().id);']
    return lines


def _url(path: str, folder: str) -> dict:
    concrete = path.replace("{id}", f"{{{{{folder}_id}}}}")
    segments = [s for s in concrete.split("/") if s]
    raw = "{{base_url}}" + concrete
    trailing = [""] if concrete.endswith("/") else []
    return {"raw": raw, "host": ["{{base_url}}"], "path": segments + trailing}


def build_collection(schema: dict, *, name: str) -> dict:
    """Return the Postman v2.1 collection for an OpenAPI 3 schema (a dict)."""
    folders: dict[str, list[tuple[int, dict]]] = {}
    for path, operations in schema["paths"].items():
        folder = _folder(path)
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            if operation.get("deprecated") or folder == LEGACY_FOLDER:
                folders.setdefault(LEGACY_FOLDER, []).append(
                    _legacy_item(path, method, operation))
                continue
            action = _action(path, method)
            request = {"method": method.upper(), "header": [], "url": _url(path, folder),
                       "description": operation.get("description", "")}
            body = _body(schema, operation, folder)
            if body is not None:
                request["body"] = body
                if body["mode"] == "raw":
                    request["header"].append(
                        {"key": "Content-Type", "value": "application/json"}
                    )
            item = {
                "name": operation.get("summary") or f"{action} {folder}",
                "request": request,
                "event": [{"listen": "test", "script": {
                    "type": "text/javascript",
                    "exec": _test_script(folder, action, _expected_status(operation)),
                }}],
            }
            rank = ACTION_ORDER.index(action) if action in ACTION_ORDER else len(ACTION_ORDER)
            folders.setdefault(folder, []).append((rank, item))
    ordered = sorted(folders, key=lambda f: FOLDER_ORDER.index(f) if f in FOLDER_ORDER else 99)
    return {
        "info": {"_postman_id": str(uuid.uuid5(uuid.NAMESPACE_URL, name)), "name": name,
                 "description": schema["info"].get("description", ""), "schema": SCHEMA_VERSION},
        "auth": {
            "type": "bearer",
            "bearer": [{"key": "token", "value": "{{token}}", "type": "string"}],
        },
        "item": [
            {
                "name": folder,
                "item": [item for _, item in sorted(folders[folder], key=lambda r: r[0])],
            }
            for folder in ordered
        ],
        "variable": (
            [{"key": f"{f}_id", "value": ""} for f in ordered if f != LEGACY_FOLDER]
            + [{"key": "user_id", "value": ""}]
            + [{"key": f"legacy_{name}_id", "value": "0"}
               for name in ("org", "user", "project", "document", "team", "member",
                            "company", "file", "grant")]
        ),
    }


def build_environment(*, name: str, base_url: str) -> dict:
    values = {"base_url": base_url, "token": "", "username": "", "password": ""}
    secrets = {"token", "password"}
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, name + " environment")),
        "name": f"{name} environment",
        "values": [
            {"key": k, "value": v, "type": "secret" if k in secrets else "default", "enabled": True}
            for k, v in values.items()
        ],
        "_postman_variable_scope": "environment",
    }
