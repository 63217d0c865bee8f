"""Core and Portal read from their CSV exports, and the Cognito user export."""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from importers.legacy_schema import (
    COGNITO_ATTRIBUTES,
    System,
    Table,
)
from importers.sources.base import (
    _SYSTEM_NAMES,
    CSV_DIALECTS,
    DEFAULT_BATCH_SIZE,
    ERRORS_KEY,
    Row,
    SourceError,
    _batched,
    _row_canonicaliser,
    _table,
    _to_aware,
    _to_bool,
)

# --- CSV exports --------------------------------------------------------------------

class CSVSource:
    """A directory of `<table>.csv` files as exported from Core or Portal."""

    def __init__(self, system: System, directory: Path) -> None:
        self.system = system
        # Accept the export's root as well as its per-system folder.
        nested = directory / "csv" / system
        self.directory = nested if nested.is_dir() else directory
        self.delimiter = CSV_DIALECTS[system]["delimiter"]

    def __enter__(self) -> CSVSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release: each stream closes its own file."""

    def path(self, table: str) -> Path:
        return self.directory / f"{_table(self.system, table).name}.csv"

    def count(self, table: str) -> int | None:
        path = self._existing(table)
        lines = 0
        with path.open("rb") as file:
            while chunk := file.read(1 << 20):
                lines += chunk.count(b"\n")
        # An estimate: a quoted field may span lines.
        return max(lines - 1, 0)

    def digest(self, table: str) -> str:
        return file_digest(self._existing(table))

    def _existing(self, table: str) -> Path:
        path = self.path(table)
        if not path.is_file():
            raise SourceError(
                f"{_SYSTEM_NAMES[self.system]} CSV export {self.directory} has no "
                f"{path.name}; export the table {table} there or point to the right folder."
            )
        return path

    def iter_batches(self, table: str, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[list[Row]]:
        spec = _table(self.system, table)
        path = self._existing(table)
        try:
            file = path.open("rb")
        except OSError as error:
            raise SourceError(
                f"Cannot open {path} ({error.strerror}); check its permissions."
            ) from error
        try:
            reader, lines = self._reader(file, path)
            positions, width = self._read_header(reader, lines, path, spec)
        except BaseException:
            file.close()
            raise
        rows = self._rows(file, reader, lines, path, spec, positions, width)
        return _batched(rows, batch_size)

    def _reader(self, file, path: Path) -> tuple[Iterator[list[str]], _DecodedLines]:
        lines = _DecodedLines(file, path, CSV_DIALECTS[self.system]["description"])
        return csv.reader(lines, delimiter=self.delimiter, strict=True), lines

    def _read_header(
        self, reader: Iterator[list[str]], lines: _DecodedLines, path: Path, table: Table
    ) -> tuple[list[int], int]:
        """Return where each of the table's columns is in the file, and the row width."""
        try:
            header = next(reader)
        except StopIteration:
            raise SourceError(
                f"{path}: line 1: the file is empty, expected a header row; export it again."
            ) from None
        except csv.Error as error:
            raise _csv_error(path, lines.line_number, error) from None
        header = [name.strip() for name in header]
        if len(header) == 1:
            for other in (",", ";", "\t", "|"):
                if other != self.delimiter and other in header[0]:
                    raise SourceError(
                        f"{path}: line 1: the header is separated by {other!r} but "
                        f"{_SYSTEM_NAMES[self.system]} CSV exports use {self.delimiter!r}; "
                        f"export it as {CSV_DIALECTS[self.system]['description']}."
                    )
        missing = [name for name in table.column_names if name not in header]
        if missing:
            plural = "s" if len(missing) > 1 else ""
            raise SourceError(
                f"{path}: line 1: the header lacks the column{plural} {', '.join(missing)} "
                f"of {table.qualified_name}; export all of its columns."
            )
        return [header.index(name) for name in table.column_names], len(header)

    def _rows(
        self,
        file,
        reader: Iterator[list[str]],
        lines: _DecodedLines,
        path: Path,
        table: Table,
        positions: list[int],
        width: int,
    ) -> Iterator[Row]:
        canonical_row = _row_canonicaliser(table)
        with file:
            while True:
                first_line = lines.line_number + 1
                try:
                    fields = next(reader)
                except StopIteration:
                    return
                except csv.Error as error:
                    raise _csv_error(path, first_line, error) from None
                if not fields:
                    continue  # a blank line
                if len(fields) != width:
                    raise SourceError(
                        f"{path}: line {first_line}: expected {width} fields, found "
                        f"{len(fields)}; look for an unquoted {self.delimiter!r} or a "
                        "broken line there."
                    )
                yield canonical_row([fields[i] for i in positions])


def file_digest(path: str | os.PathLike[str]) -> str:
    """Return the SHA-256 of a file's bytes, read in chunks."""
    try:
        with open(path, "rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()
    except OSError as error:
        raise SourceError(f"Cannot read {path} ({error.strerror}); check the path.") from error


def _csv_error(path: Path, line: int, error: csv.Error) -> SourceError:
    return SourceError(f"{path}: line {line}: malformed CSV ({error}); fix the quoting there.")


class _DecodedLines:
    """Iterate over a binary file's lines as text, knowing which line is being read.

    Decoding line by line (instead of through a text wrapper's 8 KiB chunks) lets a
    bad byte be reported with its exact line number.
    """

    def __init__(self, file, path: Path, description: str) -> None:
        self._file = file
        self._path = path
        self._description = description
        self.line_number = 0

    def __iter__(self) -> _DecodedLines:
        return self

    def __next__(self) -> str:
        raw = self._file.readline()
        if not raw:
            raise StopIteration
        self.line_number += 1
        if self.line_number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise SourceError(
                f"{self._path}: line {self.line_number}: byte {raw[error.start]:#04x} at "
                f"column {error.start + 1} is not valid UTF-8; export the file as "
                f"{self._description}."
            ) from None


# --- Cognito ------------------------------------------------------------------------

def read_cognito(path: str | os.PathLike[str]) -> Iterator[Row]:
    """Yield the users of an `aws cognito-idp list-users` JSON export.

    Each row has sub, email, email_verified, given_name, family_name, enabled, status
    and created; a user whose fields cannot be read carries `_errors` like table rows.
    """
    path = Path(path)
    try:
        with path.open("rb") as file:
            document = json.load(file)
    except OSError as error:
        raise SourceError(f"Cannot read {path} ({error.strerror}); check the path.") from error
    except UnicodeDecodeError as error:
        raise SourceError(
            f"{path}: byte {error.start} is not valid UTF-8; export the user pool again."
        ) from error
    except json.JSONDecodeError as error:
        raise SourceError(
            f"{path}: line {error.lineno}: not valid JSON ({error.msg}); "
            "export the user pool again with aws cognito-idp list-users."
        ) from error
    users = document.get("Users") if isinstance(document, dict) else None
    if not isinstance(users, list):
        raise SourceError(
            f"{path} has no \"Users\" list; give the output of aws cognito-idp list-users."
        )
    return (_cognito_row(user) for user in users)


def _cognito_row(user: Any) -> Row:
    if not isinstance(user, dict):
        return {ERRORS_KEY: {"user": f"{user!r} is not a user object"}}
    attributes = {
        attribute.get("Name"): attribute.get("Value")
        for attribute in user.get("Attributes") or []
        if isinstance(attribute, dict)
    }
    row: Row = {name: attributes.get(name) for name in COGNITO_ATTRIBUTES}
    row["sub"] = row["sub"] or user.get("Username")
    row["enabled"] = user.get("Enabled")
    row["status"] = user.get("UserStatus")
    row["created"] = user.get("UserCreateDate")
    errors: dict[str, str] = {}
    for name, convert in (
        ("email_verified", _to_bool),
        ("enabled", _to_bool),
        ("created", _to_aware),
    ):
        if row[name] is None:
            continue
        try:
            row[name] = convert(row[name])
        except ValueError as error:
            errors[name] = str(error)
    if not row["sub"]:
        errors["sub"] = "the user has neither a sub attribute nor a Username"
    if errors:
        row[ERRORS_KEY] = errors
    return row
