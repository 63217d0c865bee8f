"""Read the legacy tables as rows of canonical Python values, whatever the source.

A source is a live database (Core on PostgreSQL, Portal on MySQL/MariaDB: `databases`) or
a directory of CSV exports (`files`, with the Cognito export). Every kind yields the same
dicts for the same data:

* keys are the table's columns in `legacy_schema` order;
* ints are `int`, bools `bool`, Core timestamps aware `datetime` in UTC, Portal
  `DATETIME`s naive `datetime` (Europe/Berlin wall-clock; the zero date becomes None);
* text is the `str` as stored, spaces and mojibake included. A CSV export cannot tell an
  empty string from NULL, so every source reads both as None in a nullable column and
  as "" in a NOT NULL text column;
* a row with a value that cannot be read as its column's type is still yielded, with
  the key `_errors`: {column: problem}; those columns hold the raw text as read. Clean
  rows have no `_errors` key. The loader rejects such rows with the problem as reason.

Everything that stops a whole table from being read raises `SourceError`, whose message
is one sentence a person can act on.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from importers.legacy_schema import System
from importers.sources.base import (
    _SYSTEM_NAMES,
    CSV_DIALECTS,
    DEFAULT_BATCH_SIZE,
    ERRORS_KEY,
    LegacySource,
    Row,
    SourceError,
)
from importers.sources.databases import MySQLSource, PostgresSource, mask_password
from importers.sources.files import CSVSource, file_digest, read_cognito

__all__ = [
    "CSV_DIALECTS", "DEFAULT_BATCH_SIZE", "ERRORS_KEY", "CSVSource", "LegacySource",
    "MySQLSource", "PostgresSource", "Row", "SourceError", "file_digest", "mask_password",
    "open_source", "read_cognito",
]


# --- opening ------------------------------------------------------------------------

_URL_SCHEMES: dict[System, tuple[str, ...]] = {
    "core": ("postgresql", "postgres"),
    "portal": ("mysql", "mariadb"),
}


def open_source(system: System, spec: str | os.PathLike[str]) -> LegacySource:
    """Open Core or Portal from a database URL or a directory of CSV exports."""
    if system not in _URL_SCHEMES:
        raise SourceError(f"Unknown legacy system {system!r}; use 'core' or 'portal'.")
    text = os.fspath(spec)
    scheme = urlsplit(text).scheme.lower() if "://" in text else ""
    if scheme:
        if scheme not in _URL_SCHEMES[system]:
            expected = " or ".join(f"{s}://" for s in _URL_SCHEMES[system])
            raise SourceError(
                f"{_SYSTEM_NAMES[system]} cannot be read from {mask_password(text)}; "
                f"give a {expected} URL or a folder of CSV exports."
            )
        return PostgresSource(text) if system == "core" else MySQLSource(text)
    directory = Path(text)
    if not directory.is_dir():
        raise SourceError(
            f"{directory} is neither a database URL nor an existing folder of "
            f"{_SYSTEM_NAMES[system]} CSV exports; check the path."
        )
    return CSVSource(system, directory)


