"""Permissions said in plain words, for people reading who can do what.

"app.view_document", "app.change_document" in team Warehouse reads "view and change
documents in team Warehouse", not "document: change, view".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.apps import apps

ACTION_ORDER = ("view", "add", "change", "delete", "share")
# Permissions that are not an action on a model.
SPECIAL = {
    "manage_permissions": "manage who can do what",
    "view_billing": "see billing",
}


def join_words(words: list[str]) -> str:
    """Return "a", "a and b", "a, b and c"."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _model_words(app_label: str, model_name: str) -> str:
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError:
        return model_name.replace("_", " ")
    if model_name == "company":
        return "the company"
    return str(model._meta.verbose_name_plural)


def permissions_in_words(perms: Iterable[str]) -> str:
    """Return what a set of "app.codename" permissions lets one do, as a phrase.

    Models with the same actions are said together: "view, add and change documents and
    projects; view teams; manage who can do what".
    """
    actions_by_model: dict[tuple[str, str], set[str]] = defaultdict(set)
    special: list[str] = []
    for perm in perms:
        app_label, _, codename = perm.partition(".")
        if codename in SPECIAL:
            special.append(SPECIAL[codename])
            continue
        action, _, model_name = codename.partition("_")
        actions_by_model[(app_label, model_name)].add(action)
    models_by_actions: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for (app_label, model_name), actions in actions_by_model.items():
        ordered = tuple(sorted(actions, key=lambda a: (
            ACTION_ORDER.index(a) if a in ACTION_ORDER else len(ACTION_ORDER), a)))
        models_by_actions[ordered].append(_model_words(app_label, model_name))
    phrases = [
        f"{join_words(list(actions))} {join_words(sorted(models))}"
        for actions, models in sorted(models_by_actions.items(),
                                      key=lambda item: (-len(item[0]), item[0]))
    ]
    return "; ".join(phrases + sorted(set(special))) or "nothing"


def scope_in_words(scope_label: str, *, sentence_start: bool = False) -> str:
    """Return "in the whole company" for a company-wide role, "in team X" for a team's."""
    words = "in the whole company" if scope_label == "company" else f"in {scope_label}"
    return f"I{words[1:]}" if sentence_start else words
