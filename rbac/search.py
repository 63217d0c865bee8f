"""Text searches that PostgreSQL answers from trigram indexes, for the admin and the API.

Django's admin search ORs `field__icontains` over every search field. On PostgreSQL that
is `UPPER(col::text) LIKE UPPER('%term%')`, which the trigram GIN indexes on
`UPPER(col::text)` (see `trigram_indexes`) serve, as long as each condition is on the
searched table. A condition on a joined table (`user__email`) is not: with the join, the
database filters the whole product row by row. So each related table is searched on its
own first, for its matching ids (`search_ids`), and the list is then filtered by its own
indexed foreign keys: `user_id = ANY(ids) OR company_id = ANY(ids) OR …`, which
PostgreSQL answers by ORing index scans. The results are exactly those of Django's search.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import and_, or_

from django.core.exceptions import FieldDoesNotExist
from django.db import migrations, models
from django.db.models import Q, QuerySet
from django.utils.text import smart_split, unescape_string_literal

# Above this many matching rows of a related table, the ids stay in a subquery: a word
# that common gains nothing from an index anyway.
MAX_IDS = 10_000
PREFIX_LOOKUPS = {"^": "istartswith", "=": "iexact"}


@dataclass(frozen=True)
class SearchField:
    """One search field, split into the forward relations it follows and its own lookup."""

    relations: tuple[str, ...]  # ("user",) for "user__email"; () for the list's own column
    lookup: str  # "email__icontains", relative to the last related model
    model: type[models.Model]  # the model that `lookup` applies to


def parse_search_field(model: type[models.Model], spec: str) -> SearchField | None:
    """Return how to search `spec` (an admin search field); None for what is not handled here.

    Handled: a column of the model or of a model reached through forward foreign keys or
    one-to-one fields, with an admin prefix (^ =) or an explicit text lookup. Everything
    else (many-valued relations, "@" full-text search, casts to text) is left to Django.
    """
    lookup = "icontains"
    if spec[:1] in PREFIX_LOOKUPS:
        lookup, spec = PREFIX_LOOKUPS[spec[0]], spec[1:]
    elif spec[:1] == "@":
        return None
    parts = spec.split(models.constants.LOOKUP_SEP)
    relations: list[str] = []
    opts = model._meta
    field = None
    for position, part in enumerate(parts):
        try:
            field = opts.get_field(opts.pk.name if part == "pk" else part)
        except FieldDoesNotExist:
            if field is None or position != len(parts) - 1 or not field.get_lookup(part):
                return None
            if not isinstance(field, models.CharField | models.TextField):
                return None  # Django casts these to text first
            lookup = part
            break
        if field.is_relation:
            forward = field.many_to_one or (field.one_to_one and field.concrete)
            if not forward or field.target_field != field.related_model._meta.pk:
                return None
            relations.append(field.name)
            opts = field.related_model._meta
            continue
        if position != len(parts) - 1 and not (
            position == len(parts) - 2 and field.get_lookup(parts[-1])
        ):
            return None  # a transform: left to Django
    if field is None or field.is_relation:
        return None
    return SearchField(tuple(relations), f"{field.name}__{lookup}", opts.model)


def search_words(term: str) -> list[str]:
    """Split a search as Django's admin does: on spaces, quoted phrases kept whole."""
    words = []
    for bit in smart_split(term):
        if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
            bit = unescape_string_literal(bit)
        words.append(bit)
    return words


def search_ids(model: type[models.Model], lookups: list[str], word: str) -> list | QuerySet:
    """Return the ids of `model`'s rows where any of the lookups matches the word.

    A list (one indexed search, its result sent back as one array parameter), or, when
    more than MAX_IDS rows match, the query itself, to be used as a subquery.
    """
    matching = model._base_manager.filter(
        reduce(or_, (Q(**{lookup: word}) for lookup in lookups))
    ).values_list("pk", flat=True)
    ids = list(matching.order_by()[: MAX_IDS + 1])
    return ids if len(ids) <= MAX_IDS else matching.order_by()


def search_condition(model: type[models.Model], fields: list[SearchField], word: str) -> Q:
    """Return the condition that one word of a search puts on `model`."""
    own = [Q(**{f.lookup: word}) for f in fields if not f.relations]
    by_relation: dict[tuple[str, ...], list[SearchField]] = {}
    for field in fields:
        if field.relations:
            by_relation.setdefault(field.relations, []).append(field)
    related = []
    for relations, group in by_relation.items():
        ids = search_ids(group[0].model, [f.lookup for f in group], word)
        path = models.constants.LOOKUP_SEP.join(relations)
        if isinstance(ids, list):
            if ids:
                related.append(Q(**{f"{path}__any_of": ids}))
        else:
            related.append(Q(**{f"{path}__in": ids}))
    conditions = own + related
    return reduce(or_, conditions) if conditions else Q(pk__in=[])


def indexed_search(queryset: QuerySet, search_fields, term: str) -> QuerySet | None:
    """Filter a queryset by a search as Django's admin would; None when a field is not handled.

    Each word must match at least one field (words are ANDed, fields ORed).
    """
    parsed = [parse_search_field(queryset.model, str(spec)) for spec in search_fields]
    if not parsed or any(field is None for field in parsed):
        return None
    words = search_words(term)
    if not words:
        return queryset
    return queryset.filter(
        reduce(and_, (search_condition(queryset.model, parsed, word) for word in words))
    )


def searches_whole_tables(user) -> bool:
    """Return whether a list of this user's is worth searching related tables first.

    A superuser's list is the whole table: only the related tables' ids make it indexed.
    Anybody else's list is already narrowed to their companies and teams by indexed
    foreign keys, and joining those few rows costs less than searching a whole related
    table (every e-mail address) for ids.
    """
    return bool(getattr(user, "is_superuser", False))


class IndexedSearchMixin:
    """A ModelAdmin whose search uses `indexed_search`: the trigram indexes on PostgreSQL."""

    def get_search_results(self, request, queryset, search_term):
        search_fields = self.get_search_fields(request)
        if search_fields and search_term and searches_whole_tables(request.user):
            searched = indexed_search(queryset, search_fields, search_term)
            if searched is not None:
                return searched, False  # forward relations only: no duplicates
        return super().get_search_results(request, queryset, search_term)


# --- migrations ---------------------------------------------------------------------------


def trigram_index_name(table: str, column: str) -> str:
    name = f"{table}_{column}_trgm"
    if len(name) > 63:  # PostgreSQL's identifier limit
        raise ValueError(f"index name too long: {name}")
    return name


def trigram_indexes(columns: dict[str, list[str]]) -> migrations.RunPython:
    """Return a migration operation creating trigram GIN indexes on `UPPER(column::text)`.

    `columns` maps table names to their searched columns. PostgreSQL only: on any other
    database both directions do nothing, so the migrations run everywhere.
    """

    def forwards(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for table, names in columns.items():
            for column in names:
                quote = schema_editor.quote_name
                schema_editor.execute(
                    f"CREATE INDEX IF NOT EXISTS {quote(trigram_index_name(table, column))} "
                    f"ON {quote(table)} USING gin ((UPPER({quote(column)}::text)) gin_trgm_ops)"
                )

    def backwards(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for table, names in columns.items():
            for column in names:
                schema_editor.execute(
                    "DROP INDEX IF EXISTS "
                    f"{schema_editor.quote_name(trigram_index_name(table, column))}"
                )

    return migrations.RunPython(forwards, backwards, elidable=False)
