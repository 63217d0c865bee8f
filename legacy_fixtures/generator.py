"""Generate legacy Core, Portal and Cognito data with the production dumps' dirt.

`generate_legacy(companies=N, out=DIR, seed=S)` writes, byte for byte the same for the
same seed:

    DIR/core.sql                 psql -v ON_ERROR_STOP=1 -d DB -f core.sql (COPY … FROM stdin)
    DIR/portal.sql               mysql DB < portal.sql (MyISAM, INSERTs of 500 rows)
    DIR/csv/core/<table>.csv     UTF-8, ',', header, empty = NULL, ISO timestamps with offset
    DIR/csv/portal/<table>.csv   UTF-8 with BOM, ';', header, empty = NULL, naive timestamps
    DIR/cognito-users.json       `aws cognito-idp list-users` output
    DIR/truth.json               which rows are the same company/person/team, known
                                 secrets, rows that must be rejected

Companies are generated one at a time and every row is written as soon as it exists, so
memory stays small whatever N (only consultants, who reappear at the end in a second
company, and the short truth lists are kept).

Passwords: bcrypt at cost 10 takes ~60 ms, far too slow for every Core user. A few users
(`KNOWN_PASSWORDS`, listed in truth.json known_passwords) get real cost-10 hashes of
known passwords; every other user with a password gets one of `REUSED_HASHES`
precomputed cost-10 hashes of random, unlisted passwords. Core client secrets are real
bcrypt hashes at cost 4, like production's. All bcrypt salts come from the seeded
random generator, so the output stays deterministic.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import shutil
import string
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import bcrypt

from importers.legacy_schema import CORE_TABLES, PORTAL_TABLES, Table, create_table_sql

KNOWN_PASSWORDS = 40  # at most; one per eight companies below 320 companies
REUSED_HASHES = 4
INSERT_CHUNK = 500
ZERO_DATE = "0000-00-00 00:00:00"
ORPHAN_MEMBER_BASE = 50_000_000
ORPHAN_RESOURCE_BASE = 90_000_000
DANGLING_USER_BASE = 9_000_000
BERLIN = ZoneInfo("Europe/Berlin")
_START = datetime(2015, 1, 1, tzinfo=UTC)
_SPAN_SECONDS = int((datetime(2025, 6, 30, tzinfo=UTC) - _START).total_seconds())

# --- vocabulary -----------------------------------------------------------------------

@dataclass(frozen=True)
class Country:
    code: str
    suffix: str  # legal suffix as Core's legal_name spells it
    portal_suffixes: tuple[str, ...]  # how Portal users typed it
    tld: str
    names: tuple[str, ...]  # portal free-text spellings
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    vat: Callable[[random.Random], str]


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _letter(rng: random.Random) -> str:
    return rng.choice(string.ascii_uppercase)


COUNTRIES: tuple[Country, ...] = (
    Country(
        "DE", "GmbH", ("GmbH", "Gmbh", "GMBH", ""), ".de",
        ("Germany", "Deutschland", "germany", "DE", ""),
        ("Jürgen", "Anna", "Lukas", "Sören", "Marit", "Jörg", "Katrin", "Björn", "Hannah",
         "Felix", "Ute", "Matthias", "Änne", "Paul", "Sabine", "Tobias"),
        ("Müller", "Schmidt", "Schäfer", "Weiß", "Köhler", "Becker", "Hoffmann", "Groß",
         "Wagner", "Krüger", "Lange", "Hövel", "Fischer", "Böhm", "Vogel", "Neumann"),
        lambda r: "DE" + _digits(r, 9),
    ),
    Country(
        "NL", "B.V.", ("BV", "B.V.", "bv", ""), ".nl",
        ("Netherlands", "The Netherlands", "Holland", "Nederland", ""),
        ("Daan", "Sanne", "Joëlle", "Bram", "Esmée", "Thijs", "Femke", "Ruud", "Lotte",
         "Joris", "Noor", "Pieter", "Anouk", "Sem"),
        ("de Vries", "van Dijk", "Jansen", "Bakker", "Visser", "Smit", "Meijer",
         "van 't Wel", "de Boer", "Mulder", "Dekker", "Bourgondië, van", "Kerkhof"),
        lambda r: "NL" + _digits(r, 9) + "B01",
    ),
    Country(
        "PL", "Sp. z o.o.", ("Sp. z o.o.", "sp. z o.o.", "Sp.z o.o.", ""), ".pl",
        ("Poland", "Polska", "poland", "PL", ""),
        ("Mikołaj", "Zofia", "Łukasz", "Agnieszka", "Paweł", "Małgorzata", "Krystian",
         "Inga", "Szymon", "Żaneta", "Tomasz", "Ewa", "Miłosz", "Kacper"),
        ("Nowak", "Kowalski", "Wiśniewska", "Wójcik", "Kamiński", "Lewandowska",
         "Zieliński", "Szykuła", "Dąbrowski", "Jonak", "Oślak", "Piątek", "Sereda"),
        lambda r: "PL" + _digits(r, 10),
    ),
    Country(
        "GB", "Ltd", ("Ltd", "Ltd.", "Limited", "LTD", ""), ".co.uk",
        ("United Kingdom", "UK", "Great Britain", "united kingdom", "England", ""),
        ("Oliver", "Amelia", "George", "Isla", "Harry", "Jane", "Martyn", "Lisa", "Paul",
         "Georgia", "Donna", "Douglas", "Chloë", "Seán"),
        ("Smith", "Jones", "Williams", "Taylor", "Davies", "Morgan", "Robinson", "Gill",
         "Newman", "O'Brien", "Griffiths", "Turner", "Evans", "Hughes"),
        lambda r: "GB" + _digits(r, 9),
    ),
    Country(
        "DK", "ApS", ("ApS", "APS", "A/S", ""), ".dk",
        ("Denmark", "Danmark", "denmark", "DK", ""),
        ("Søren", "Mette", "Rasmus", "Freja", "Nicolaj", "Ida", "Mads", "Sussanne",
         "Frederik", "Astrid", "Jørgen", "Caroline"),
        ("Jensen", "Nielsen", "Hansen", "Sørensen", "Østergaard", "Thomsen", "Poulsen",
         "Kristoffersen", "Toft", "Nissen", "Iversen", "Ærø"),
        lambda r: "DK" + _digits(r, 8),
    ),
    Country(
        "ES", "S.L.", ("SL", "S.L.", "s.l.", ""), ".es",
        ("Spain", "España", "Espana", "spain", "ES", ""),
        ("José", "María", "Íngrid", "Pancho", "Lucía", "Álvaro", "Florina", "Sofía",
         "Jesús", "Carmen", "Ramón", "Núria"),
        ("García", "Martínez", "López", "Antúnez", "Zurita", "Batalla", "Chacón",
         "Escrivá", "Olmo", "Vallés", "Peña", "Ibáñez"),
        lambda r: "ES" + _letter(r) + _digits(r, 7) + _letter(r),
    ),
    Country(
        "SE", "AB", ("AB", "Aktiebolag", "ab", ""), ".se",
        ("Sweden", "Sverige", "sweden", "SE", ""),
        ("Åsa", "Lars", "Max", "Lena", "Axel", "Gustaf", "Åke", "Johanna", "Björn",
         "Elin", "Sven", "Maja"),
        ("Andersson", "Engström", "Lundström", "Ågren", "Söderberg", "Gabrielsson",
         "Åkesson", "Eriksson", "Holmström", "Nordqvist", "Lindh", "Hellström"),
        lambda r: "SE" + _digits(r, 10) + "01",
    ),
    Country(
        "US", "Inc.", ("Inc", "Inc.", "INC", ""), ".com",
        ("United States", "USA", "United States of America", "US", ""),
        ("James", "Mary", "William", "Patricia", "Robert", "Jennifer", "Michael",
         "Linda", "David", "Susan", "José", "Zoë"),
        ("Smith", "Johnson", "Chen", "Brown", "Garcia", "Miller", "Davis", "Wilson",
         "Moore", "Powell", "Martinez", "Nguyen"),
        lambda r: "",  # no VAT in the United States
    ),
    Country(
        "FR", "SAS", ("SAS", "S.A.S.", "sas", ""), ".fr",
        ("France", "france", "FR", "République française", ""),
        ("Éric", "Océane", "Sébastien", "Marguerite", "Léon", "Christelle", "Arthur",
         "Denise", "Hélène", "François", "Chloé", "Noël"),
        ("Martin", "Bernier", "Chrétien", "Mendès", "Guichard", "Vallet", "Lefèvre",
         "Morin", "Jacques", "Letellier", "Neveu", "Gérard"),
        lambda r: "FR" + _digits(r, 11),
    ),
)
NAME_ADJECTIVES = ("Rapid", "Summit", "Bright", "Blue", "Swift", "Golden", "Nordic",
                   "Polar", "Urban", "Silver", "Coastal", "Prime", "Lunar", "Iron",
                   "Evergreen", "Alpine", "Vivid", "Crystal", "Green", "Red")
NAME_NOUNS = ("Forge", "Beacon", "Bridge", "Peak", "Pine", "Harbor", "Anchor", "Meadow",
              "Orbit", "Lantern", "Quarry", "Cedar", "Falcon", "River", "Stone", "Field",
              "Ridge", "Compass", "Delta", "Grove")
NAME_INDUSTRIES = ("Studio", "Media", "Retail", "Analytics", "Pharma", "Solar", "Labs",
                   "Systems", "Aerospace", "Software", "Energy", "Marine", "Logistics",
                   "Consulting", "Robotics", "Foods", "Capital", "Health", "Ventures",
                   "Textiles", "Manufacturing", "Digital", "Freight", "Partners")
DEPARTMENTS = ("Legal", "Marketing", "R&D", "Sales", "Operations", "Customer Success",
               "Engineering", "Finance", "Support", "Platform", "Security", "Warehouse",
               "Data", "HR")
SUB_DEPARTMENTS = {"Sales": "Key Accounts", "Marketing": "Growth", "Engineering": "Mobile"}
CORE_ROLES = (("MEMBER", 49), ("READ_ONLY", 30), ("DEPT_MANAGER", 9), ("ORG_ADMIN", 6),
              ("BILLING", 5))
UNKNOWN_ROLES = ("LEGACY_AUDITOR", "SUPPORT_AGENT", "BETA_TESTER")
TEAM_ROLES = (("editor", 47), ("viewer", 38), ("admin", 11), ("owner", 4))
COGNITO_STATUSES = (("CONFIRMED", 85), ("FORCE_CHANGE_PASSWORD", 10), ("RESET_REQUIRED", 3),
                    ("UNCONFIRMED", 2))
FILE_TYPES = (("pdf", "application/pdf"), ("txt", "text/plain"), ("png", "image/png"),
              ("csv", "text/csv"), ("zip", "application/zip"),
              ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
              ("docx",
               "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
WORDS = ("account", "budget", "card", "drive", "effort", "energy", "fish", "girl", "heart",
         "letter", "north", "officer", "rate", "social", "sport", "summer", "travel", "tree",
         "weight", "yard", "debate", "street", "former", "today", "win", "free", "cold")
PROJECT_WORDS = (
    ("Streamlined", "Open-architected", "Organic", "Synergized", "Right-sized", "Phased",
     "Universal", "Face-to-face", "Re-engineered", "Reduced", "Automated", "Monitored",
     "Balanced"),
    ("logistical", "holistic", "bandwidth-monitored", "bi-directional", "well-modulated",
     "responsive", "user-facing", "didactic", "grid-enabled", "modular", "explicit",
     "reciprocal"),
    ("intranet", "pricing structure", "installation", "toolset", "protocol", "forecast",
     "functionalities", "hierarchy", "help-desk", "database", "groupware", "array"),
)
SENTENCE_WORDS = ("left", "success", "particularly", "matter", "law", "project", "field",
                  "accept", "modern", "spend", "around", "four", "eye", "indeed", "community",
                  "truth", "purpose", "agree", "exist", "spring", "together")


def _weighted(choices: tuple[tuple[str, int], ...]) -> tuple[list[str], list[int]]:
    return [c for c, _ in choices], [w for _, w in choices]


# Mojibake as MySQL makes it: UTF-8 bytes read as Windows-1252, where the five bytes
# Windows-1252 leaves undefined pass through as the same code point.
_CP1252 = [bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(256)]


def mojibake(text: str) -> str:
    return "".join(_CP1252[b] for b in text.encode("utf-8"))


_ASCII_FOLD = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE"})


def ascii_slug(text: str) -> str:
    """Return `text` lowercased with only a-z and 0-9 kept (ö→o, ł and ø dropped)."""
    import unicodedata

    folded = unicodedata.normalize("NFKD", text.translate(_ASCII_FOLD).lower())
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum())


# --- output -------------------------------------------------------------------------

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_MYSQL_ESCAPES = str.maketrans(
    {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\0": "\\0", "\x1a": "\\Z"}
)


def _copy_str(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


def _mysql_str(value: str) -> str:
    return "'" + value.translate(_MYSQL_ESCAPES) + "'"


# Formatting by exact type: one dict look-up per value instead of a chain of
# isinstance tests, which is most of the generator's time at production size.
_COPY_TEXT: dict[type, Callable[[Any], str]] = {
    type(None): lambda v: "\\N",
    bool: lambda v: "t" if v else "f",
    int: str,
    str: _copy_str,
    datetime: str,  # an aware datetime prints as 2024-01-02 03:04:05+00:00
}
_CORE_CSV_TEXT: dict[type, Callable[[Any], Any]] = {
    type(None): lambda v: "",
    bool: lambda v: "true" if v else "false",
    int: str,
    str: lambda v: v,
    datetime: datetime.isoformat,
}
_MYSQL_LITERAL: dict[type, Callable[[Any], str]] = {
    type(None): lambda v: "NULL",
    bool: lambda v: "1" if v else "0",
    int: str,
    str: _mysql_str,
    datetime: lambda v: f"'{v}'",
}
_PORTAL_CSV_TEXT: dict[type, Callable[[Any], Any]] = {
    type(None): lambda v: "",
    bool: lambda v: "1" if v else "0",
    int: str,
    str: lambda v: v,
    datetime: str,
}


class _TableWriter:
    """Write one table's rows to its SQL part and its CSV export at the same time."""

    def __init__(self, table: Table, sql_part: Path, csv_path: Path) -> None:
        self.table = table
        self.rows = 0
        self.sql_part = sql_part
        self._sql = sql_part.open("w", encoding="utf-8", newline="")
        bom = "utf-8-sig" if table.system == "portal" else "utf-8"
        self._csv_file = csv_path.open("w", encoding=bom, newline="")
        delimiter = ";" if table.system == "portal" else ","
        self._csv = csv.writer(self._csv_file, delimiter=delimiter, lineterminator="\r\n")
        self._csv.writerow(table.column_names)
        self._pending: list[str] = []

    def add(self, *values: Any) -> None:
        self.rows += 1
        if self.table.system == "core":
            self._sql.write("\t".join([_COPY_TEXT[type(v)](v) for v in values]) + "\n")
            self._csv.writerow([_CORE_CSV_TEXT[type(v)](v) for v in values])
            return
        self._pending.append("(" + ",".join([_MYSQL_LITERAL[type(v)](v) for v in values]) + ")")
        if len(self._pending) >= INSERT_CHUNK:
            self._flush()
        self._csv.writerow([_PORTAL_CSV_TEXT[type(v)](v) for v in values])

    def _flush(self) -> None:
        if self._pending:
            self._sql.write(
                f"INSERT INTO `{self.table.name}` VALUES " + ",".join(self._pending) + ";\n"
            )
            self._pending = []

    def close(self) -> None:
        self._flush()
        self._sql.close()
        self._csv_file.close()


class _JSONListWriter:
    """Stream the items of a JSON list, one compact item per line.

    One line per item instead of json.dump(indent=…): the indenting encoder is pure
    Python and would triple the generator's run time at production size.
    """

    def __init__(self, path: Path, depth: int) -> None:
        self.path = path
        self._file = path.open("w", encoding="utf-8")
        self._indent = " " * depth
        self._first = True

    def add(self, item: Any) -> None:
        text = self._indent + json.dumps(item, ensure_ascii=False)
        self._file.write(text if self._first else ",\n" + text)
        self._first = False

    def close(self) -> None:
        self._file.close()


def _write_json_object(path: Path, lists: dict[str, _JSONListWriter]) -> None:
    """Write {name: [items…], …} to `path`, copying each list's part file in streams."""
    with path.open("w", encoding="utf-8") as out:
        out.write("{")
        for number, (name, writer) in enumerate(lists.items()):
            writer.close()
            out.write(("," if number else "") + f'\n "{name}": [')
            if writer.path.stat().st_size:
                out.write("\n")
                with writer.path.open(encoding="utf-8") as part:
                    shutil.copyfileobj(part, out, 1 << 20)
                out.write("\n ")
            out.write("]")
        out.write("\n}")


# --- the generator ------------------------------------------------------------------

@dataclass
class _Person:
    tid: str
    email: str  # the true address: lower case, no spaces
    first: str
    last: str
    core: list[int] = field(default_factory=list)
    portal: list[int] = field(default_factory=list)
    companies: list[str] = field(default_factory=list)

    def truth(self) -> dict[str, Any]:
        return {"tid": self.tid, "email": self.email, "core": self.core,
                "portal": self.portal, "companies": self.companies}


@dataclass
class _PortalCompany:
    company_id: int
    tid: str
    team_ids: list[int]
    created: datetime
    member_ids: list[int] = field(default_factory=list)
    file_ids: list[int] = field(default_factory=list)


@dataclass
class GenerationResult:
    rows: dict[str, int]  # "core.users" → number of rows
    out: Path

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


class LegacyGenerator:
    def __init__(self, *, companies: int, out: Path, seed: int) -> None:
        if companies < 1:
            raise ValueError("companies must be at least 1")
        self.companies = companies
        self.out = Path(out)
        self.rng = random.Random(seed)
        self.ids: dict[str, int] = {}
        self.used_domains: set[str] = set()
        self.recent_names: list[tuple[str, str]] = []  # (base name, country code)
        # Inside one country a name belongs to one company: never reuse it there.
        self.names_by_country: set[tuple[str, str]] = set()
        self.person_serial = 0
        self.portal_companies: list[_PortalCompany] = []
        self.consultants: list[tuple[_Person, int, str]] = []  # person, member id, sub
        self.known_passwords: list[dict[str, Any]] = []
        self.known_core_clients: list[dict[str, Any]] = []
        self.pending_clients: list[tuple[tuple[bytes, bytes], list[Any]]] = []
        self.known_portal_keys: list[dict[str, Any]] = []
        self.must_reject: list[dict[str, Any]] = []
        self.cognito_only: list[str] = []
        self.unknown_roles: list[dict[str, Any]] = []
        self.unknown_bits: list[int] = []
        self.role_names, self.role_weights = _weighted(CORE_ROLES)
        self.team_roles, self.team_role_weights = _weighted(TEAM_ROLES)
        self.cognito_statuses, self.cognito_status_weights = _weighted(COGNITO_STATUSES)

    # identifiers and small helpers

    def next_id(self, table: str) -> int:
        self.ids[table] = self.ids.get(table, 0) + 1
        return self.ids[table]

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def moment(self, after: datetime | None = None, within_days: int | None = None) -> datetime:
        """Return a UTC instant, after `after` (within `within_days`) if given."""
        if after is None:
            return _START + timedelta(seconds=self.rng.randrange(_SPAN_SECONDS))
        end = _START + timedelta(seconds=_SPAN_SECONDS)
        room = int((end - after).total_seconds())
        if within_days is not None:
            room = min(room, within_days * 86400)
        return after + timedelta(seconds=self.rng.randrange(max(room, 1)))

    @staticmethod
    def berlin(instant: datetime) -> datetime:
        return instant.astimezone(BERLIN).replace(tzinfo=None)

    def uuid4(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hex(self, n: int) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def bcrypt_salt(self, cost: int) -> bytes:
        alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        # 16 salt bytes fill 22 characters but for 4 bits: the last one must be one of
        # the four characters whose low 4 bits are zero.
        body = "".join(self.rng.choice(alphabet) for _ in range(21)) + self.rng.choice(".Oeu")
        return f"$2a${cost:02d}${body}".encode()

    # the run

    def run(self) -> GenerationResult:
        self.out.mkdir(parents=True, exist_ok=True)
        parts = self.out / ".parts"
        parts.mkdir(exist_ok=True)
        for system in ("core", "portal"):
            (self.out / "csv" / system).mkdir(parents=True, exist_ok=True)
        self.writers = {
            f"{table.system}.{table.name}": _TableWriter(
                table,
                parts / f"{table.system}.{table.name}.sql",
                self.out / "csv" / table.system / f"{table.name}.csv",
            )
            for table in (*CORE_TABLES.values(), *PORTAL_TABLES.values())
        }
        self.truth_lists = {
            name: _JSONListWriter(parts / f"truth.{name}.json", depth=2)
            for name in ("companies", "persons", "teams")
        }
        self.cognito = _JSONListWriter(parts / "cognito.json", depth=2)
        self._prepare_password_hashes()

        self.internal_company()
        for index in range(self.companies):
            self.company(index)
        self.place_consultants()
        self.write_api_clients()

        for writer in self.writers.values():
            writer.close()
        self.write_core_sql()
        self.write_portal_sql()
        self.write_cognito()
        self.write_truth()
        shutil.rmtree(parts)
        return GenerationResult(
            rows={name: writer.rows for name, writer in self.writers.items()}, out=self.out
        )

    def _prepare_password_hashes(self) -> None:
        count = min(KNOWN_PASSWORDS, max(2, self.companies // 8))
        known = [f"Legacy-{self.hex(8)}" for _ in range(count)]
        unknown = [self.hex(24) for _ in range(REUSED_HASHES)]
        jobs = [(p.encode(), self.bcrypt_salt(10)) for p in (*known, *unknown)]
        # bcrypt releases the GIL, so threads hash in parallel; results stay in order.
        with ThreadPoolExecutor() as pool:
            hashes = [h.decode() for h in pool.map(lambda job: bcrypt.hashpw(*job), jobs)]
        self.known_hashes = list(zip(known, hashes[:count], strict=True))
        self.reused_hashes = hashes[count:]
        self.known_every = max(1, self.companies // count)

    # companies

    def company_name(self, country: Country) -> str:
        others = [name for name, code in self.recent_names if code != country.code]
        if others and self.chance(0.03):
            name = self.rng.choice(others)  # a namesake in another country
        else:
            name = self._new_company_name(country)
        while (ascii_slug(name), country.code) in self.names_by_country:
            name = self._new_company_name(country)
        self.names_by_country.add((ascii_slug(name), country.code))
        self.recent_names.append((name, country.code))
        del self.recent_names[:-60]
        return name

    def _new_company_name(self, country: Country) -> str:
        rng = self.rng
        pattern = rng.random()
        if pattern < 0.55:
            name = f"{rng.choice(NAME_ADJECTIVES)} {rng.choice(NAME_NOUNS)} "
            name += rng.choice(NAME_INDUSTRIES)
        elif pattern < 0.8:
            name = f"{rng.choice(country.last_names)} {rng.choice(NAME_INDUSTRIES)}"
        else:
            first, second = rng.sample(country.last_names, 2)
            name = f"{first} & {second}"
        return name

    def domain_for(self, name: str, country: Country) -> str:
        slug = ascii_slug(name) or "company"
        candidate, serial = slug + country.tld, 1
        while candidate in self.used_domains:
            serial += 1
            candidate = f"{slug}{serial}{country.tld}"
        self.used_domains.add(candidate)
        return candidate

    def portal_vat(self, vat: str) -> str | None:
        if not vat or self.chance(0.35):
            return None
        rng = self.rng
        prefix, digits = vat[:2], vat[2:]
        style = rng.randrange(6)
        if style == 0:
            return vat
        if style == 1:
            return vat.lower()
        if style == 2:
            return digits  # the country prefix dropped
        if style == 3:
            return f"{prefix}-{digits}"
        groups = " ".join(digits[i : i + 3] for i in range(0, len(digits), 3))
        return f"{prefix} {groups}"

    def portal_website(self, domain: str) -> str | None:
        if self.chance(0.15):
            return None
        return self.rng.choice(
            (f"http://{domain}", f"www.{domain}", f"https://www.{domain}/",
             f"https://{domain}/en/", f"https://{domain}")
        )

    def portal_company_name(self, name: str, country: Country) -> str:
        rng = self.rng
        suffix = rng.choice(country.portal_suffixes)
        text = f"{name} {suffix}".strip()
        if self.chance(0.15):
            text = text.replace(" ", "-", 1)
        if self.chance(0.1):
            text = text.upper()
        if self.chance(0.1):
            text = f"  {text} "
        if not text.isascii() and self.chance(0.4):
            text = mojibake(text)
        return text

    def internal_company(self) -> None:
        org_id = self.next_id("org")
        created = datetime(2015, 1, 1, tzinfo=UTC)
        self.writers["core.organizations"].add(
            org_id, "Platform Internal", None, None, "DE", "platform.internal", "active",
            created, self.moment(created), None,
        )
        self.truth_lists["companies"].add({"tid": "C-internal", "core": [org_id], "portal": []})
        names = ("Legal", "Marketing", "R&D", "Sales", "Operations")
        departments = self.core_departments(org_id, names, created)
        emails: set[str] = set()
        for _ in range(25):
            person = self.person(COUNTRIES[0], "platform.internal", emails, "C-internal")
            self.core_user(person, org_id, departments, created, roles=["SUPER_ADMIN"])
            self.truth_lists["persons"].add(person.truth())
        self.write_team_truth("C-internal", {n: [i] for n, i in departments.items()}, {})

    def company(self, index: int) -> None:
        rng = self.rng
        tid = f"C{index}"
        country = rng.choice(COUNTRIES)
        name = self.company_name(country)
        domain = self.domain_for(name, country)
        vat = country.vat(rng) if self.chance(0.8) else ""
        where = rng.random()
        in_core, in_portal = where < 0.75, where >= 0.49
        created = self.moment()
        names = rng.sample(DEPARTMENTS, rng.randint(2, 7))
        names += [SUB_DEPARTMENTS[n] for n in names if n in SUB_DEPARTMENTS and self.chance(0.4)]

        core_ids: list[int] = []
        org_departments: list[dict[str, int]] = []
        core_teams: dict[str, list[int]] = {}
        if in_core:
            copies = 2 if self.chance(0.015) else 1
            for copy in range(copies):
                org_id = self.core_organization(name, country, domain, vat, created, copy)
                core_ids.append(org_id)
                org_departments.append(self.core_departments(org_id, names, created))
                for dept_name, dept_id in org_departments[-1].items():
                    core_teams.setdefault(dept_name, []).append(dept_id)
        portal_teams: dict[str, list[int]] = {}
        portal: _PortalCompany | None = None
        if in_portal:
            portal = self.portal_company(tid, name, country, domain, vat, created)
            team_names = [n for n in names if not in_core or self.chance(0.8)]
            team_names += rng.sample(DEPARTMENTS, rng.randint(0, 2))
            portal_teams = self.portal_teams(portal, dict.fromkeys(team_names))
        self.truth_lists["companies"].add(
            {"tid": tid, "core": core_ids, "portal": [portal.company_id] if portal else []}
        )
        self.write_team_truth(tid, core_teams, portal_teams)
        self.people(tid, country, domain, core_ids, org_departments, portal, created, index)
        if in_core:
            self.projects(core_ids[0], org_departments[0], created)
            if self.chance(0.12):
                self.api_clients(core_ids[0], tid, name, created)
        if portal is not None:
            self.files_and_keys(portal)
            self.grants(portal)
            # Only its teams are needed later (for consultants): free the rest.
            portal.member_ids, portal.file_ids = [], []

    def core_organization(
        self, name: str, country: Country, domain: str, vat: str, created: datetime, copy: int
    ) -> int:
        org_id = self.next_id("org")
        rng = self.rng
        legal_name = f"{name} {country.suffix}" if self.chance(0.7) else None
        shown = name if copy == 0 else rng.choice((name.upper(), name.lower(), name.title()))
        status, deleted_at = "active", None
        created_at = created if copy == 0 else self.moment(created, within_days=400)
        closed = self.chance(0.05) or (copy == 1 and self.chance(0.5))
        if closed:
            status, deleted_at = "closed", created_at + timedelta(days=30)
        elif self.chance(0.04):
            status = "suspended"
        self.writers["core.organizations"].add(
            org_id, shown, legal_name, vat or None, country.code,
            domain if self.chance(0.82) else None, status, created_at,
            self.moment(created_at), deleted_at,
        )
        return org_id

    def core_departments(
        self, org_id: int, names: Iterable[str], created: datetime
    ) -> dict[str, int]:
        ids: dict[str, int] = {}
        for name in names:
            dept_id = self.next_id("dept")
            parent = next((p for p, sub in SUB_DEPARTMENTS.items() if sub == name), None)
            self.writers["core.departments"].add(
                dept_id, org_id, ids.get(parent), name, self.moment(created)
            )
            ids[name] = dept_id
        return ids

    def portal_company(
        self, tid: str, name: str, country: Country, domain: str, vat: str, created: datetime
    ) -> _PortalCompany:
        company_id = self.next_id("company")
        created_at = self.moment(created, within_days=300)
        self.writers["portal.company"].add(
            company_id, self.portal_company_name(name, country), self.portal_vat(vat),
            self.portal_website(domain), self.rng.choice(country.names),
            self.chance(0.06), self.berlin(created_at), self.berlin(self.moment(created_at)),
        )
        portal = _PortalCompany(company_id, tid, [], created_at)
        self.portal_companies.append(portal)
        return portal

    def portal_teams(self, portal: _PortalCompany, names: dict[str, None]) -> dict[str, list[int]]:
        ids: dict[str, list[int]] = {}
        for name in names:
            team_id = self.next_id("team")
            shown = self.rng.choice((name, name, name, name.upper(), name.lower(), f" {name}"))
            description = None
            if self.chance(0.45):
                words = self.rng.sample(SENTENCE_WORDS, self.rng.randint(3, 7))
                description = " ".join(words).capitalize() + "."
            self.writers["portal.team"].add(
                team_id, portal.company_id, shown, description,
                self.berlin(self.moment(portal.created)),
            )
            ids[name] = [team_id]
            portal.team_ids.append(team_id)
        return ids

    def write_team_truth(
        self, tid: str, core: dict[str, list[int]], portal: dict[str, list[int]]
    ) -> None:
        for serial, name in enumerate(dict.fromkeys([*core, *portal])):
            self.truth_lists["teams"].add(
                {"tid": f"{tid}-T{serial}", "company": tid, "name": name,
                 "core": core.get(name, []), "portal": portal.get(name, [])}
            )

    # people

    def person(self, country: Country, domain: str, emails: set[str], tid: str) -> _Person:
        rng = self.rng
        while True:
            first, last = rng.choice(country.first_names), rng.choice(country.last_names)
            first_slug, last_slug = ascii_slug(first), ascii_slug(last)
            local = f"{first_slug}.{last_slug}" if self.chance(0.7) else first_slug[:1] + last_slug
            email = f"{local}@{domain}"
            if email in emails:
                email = f"{local}{rng.randint(2, 99)}@{domain}"
            if email not in emails:
                break
        emails.add(email)
        person = _Person(f"P{self.person_serial}", email, first, last, companies=[tid])
        self.person_serial += 1
        return person

    def core_email(self, person: _Person, user_id: int) -> str:
        rng = self.rng
        if self.chance(0.004):
            local, domain = person.email.split("@")
            self.must_reject.append(
                {"source": "core", "table": "users", "id": user_id, "reason": "invalid email"}
            )
            return rng.choice(("n/a", "", f"{local}@", person.email.replace(".", " ", 1)))
        email = person.email
        style = rng.random()
        if style < 0.06:
            email = email.upper()
        elif style < 0.12:
            email = email[:1].upper() + email[1:]
        if self.chance(0.05):
            email = f" {email} "
        return email

    def core_user(
        self,
        person: _Person,
        org_id: int,
        departments: dict[str, int],
        created: datetime,
        roles: list[str] | None = None,
        known_password: bool = False,
        upper_case_email: bool = False,
    ) -> int:
        rng = self.rng
        user_id = self.next_id("user")
        person.core.append(user_id)
        password_hash = None
        if known_password and self.known_hashes:
            password, password_hash = self.known_hashes.pop(0)
            self.known_passwords.append(
                {"email": person.email, "password": password, "source": "core",
                 "legacy_id": user_id}
            )
        elif self.chance(0.97):
            password_hash = rng.choice(self.reused_hashes)
        dept_ids = list(departments.values())
        department_id = rng.choice(dept_ids) if dept_ids and self.chance(0.9) else None
        user_created = self.moment(created)
        last_login = self.moment(user_created) if self.chance(0.75) else None
        self.writers["core.users"].add(
            user_id,
            person.email.upper() if upper_case_email else self.core_email(person, user_id),
            f"{person.first} {person.last}",
            password_hash, org_id, department_id, self.chance(0.94), last_login,
            user_created, self.moment(user_created),
        )
        if roles is None:
            count = 2 if self.chance(0.04) else 1
            roles = list(dict.fromkeys(
                rng.choices(self.role_names, self.role_weights, k=count)
            ))
            if self.chance(0.005):
                unknown = rng.choice(UNKNOWN_ROLES)
                roles.append(unknown)
                self.unknown_roles.append({"user_id": user_id, "role": unknown})
        for role in roles:
            self.writers["core.user_roles"].add(user_id, role, user_created)
        return user_id

    def portal_email(self, person: _Person, member_id: int) -> str:
        if self.chance(0.003):
            local, domain = person.email.split("@")
            self.must_reject.append(
                {"source": "portal", "table": "member", "id": member_id,
                 "reason": "invalid email"}
            )
            return self.rng.choice((f"{local}(at){domain}", "", "none"))
        if self.chance(0.12):
            return person.email.upper()
        return person.email

    def portal_member(
        self, person: _Person, portal: _PortalCompany, sub: str | None = None
    ) -> tuple[int, str]:
        rng = self.rng
        member_id = self.next_id("member")
        person.portal.append(member_id)
        new_user = sub is None
        sub = sub or self.uuid4()
        first, last = person.first, person.last
        if not (first + last).isascii() and self.chance(0.35):
            first, last = mojibake(first), mojibake(last)
        status = rng.choices(("active", "invited", "disabled"), (86, 7, 7))[0]
        created = self.moment(portal.created)
        seen = rng.random()
        last_seen: Any = self.berlin(self.moment(created)) if seen < 0.77 else None
        if seen > 0.94:
            last_seen = ZERO_DATE
        phone = None
        if self.chance(0.5):
            phone = f"+{rng.randint(30, 49)} {rng.randint(100, 999)} {rng.randint(1000, 99999)}"
        self.writers["portal.member"].add(
            member_id, sub, self.portal_email(person, member_id), first, last, phone,
            portal.company_id, status, self.berlin(created), last_seen,
        )
        if new_user and self.chance(0.98):
            self.cognito_user(sub, person.email, person.first, person.last, created,
                              enabled=status != "disabled" or self.chance(0.3))
        self.team_memberships(member_id, portal)
        portal.member_ids.append(member_id)
        return member_id, sub

    def cognito_user(
        self, sub: str, email: str, first: str, last: str, created: datetime, enabled: bool
    ) -> None:
        stamp = created.isoformat()
        self.cognito.add({
            "Username": sub,
            "Attributes": [
                {"Name": "sub", "Value": sub},
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true" if self.chance(0.7) else "false"},
                {"Name": "given_name", "Value": first},
                {"Name": "family_name", "Value": last},
            ],
            "UserCreateDate": stamp,
            "UserLastModifiedDate": stamp,
            "Enabled": enabled,
            "UserStatus": self.rng.choices(self.cognito_statuses, self.cognito_status_weights)[0],
        })

    def team_memberships(self, member_id: int, portal: _PortalCompany) -> None:
        rng = self.rng
        if portal.team_ids:
            count = min(len(portal.team_ids), 2 if self.chance(0.15) else 1)
            for team_id in rng.sample(portal.team_ids, count):
                role = rng.choices(self.team_roles, self.team_role_weights)[0]
                self.writers["portal.team_member"].add(
                    team_id, member_id, role, self.berlin(self.moment(portal.created))
                )
        if portal.team_ids and self.chance(0.055):
            orphan = ORPHAN_MEMBER_BASE + member_id
            self.writers["portal.team_member"].add(
                rng.choice(portal.team_ids), orphan, "viewer",
                self.berlin(self.moment(portal.created)),
            )
            self.must_reject.append({"source": "portal", "table": "team_member",
                                     "id": [None, orphan], "reason": "orphan member"})

    def people(
        self,
        tid: str,
        country: Country,
        domain: str,
        core_ids: list[int],
        departments: list[dict[str, int]],
        portal: _PortalCompany | None,
        created: datetime,
        index: int,
    ) -> None:
        rng = self.rng
        emails: set[str] = set()
        wants_known = index % self.known_every == 0
        self.company_user_ids = (self.ids.get("user", 0) + 1, self.ids.get("user", 0))
        for _ in range(rng.randint(6, 18)):
            person = self.person(country, domain, emails, tid)
            in_core = bool(core_ids) and (portal is None or self.chance(0.8))
            in_portal = portal is not None and (not in_core or self.chance(0.65))
            if in_core:
                self.core_user(person, core_ids[0], departments[0], created,
                               known_password=wants_known)
                wants_known = False
                if self.chance(0.006):  # entered twice, with the e-mail in other case
                    self.core_user(person, core_ids[0], departments[0], created,
                                   upper_case_email=True)
                if len(core_ids) > 1 and self.chance(0.3):
                    self.core_user(person, core_ids[1], departments[1], created)
            if in_portal:
                member_id, sub = self.portal_member(person, portal)
                if self.chance(0.015):
                    self.consultants.append((person, member_id, sub))
                    continue  # its truth is written once the second company is known
            self.truth_lists["persons"].add(person.truth())
        self.company_user_ids = (self.company_user_ids[0], self.ids.get("user", 0))
        if self.chance(0.05):
            sub = self.uuid4()
            n = self.rng.randrange(100000, 999999)
            self.cognito_user(sub, f"ghost{n}@inbox{n % 7}.example", "Ghost", "User",
                              self.moment(), enabled=True)
            self.cognito_only.append(sub)

    def grants(self, portal: _PortalCompany) -> None:
        rng = self.rng
        for member_id in portal.member_ids:
            for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
                grant_id = self.next_id("grant")
                kind = rng.choices(("file", "team", "company"), (41, 40, 19))[0]
                if kind == "file" and portal.file_ids:
                    resource_id = rng.choice(portal.file_ids)
                elif kind != "company" and portal.team_ids:
                    kind, resource_id = "team", rng.choice(portal.team_ids)
                else:
                    kind, resource_id = "company", portal.company_id
                perms = rng.randint(1, 15)
                if self.chance(0.015):
                    perms |= rng.choice((16, 32, 64, 128))
                    self.unknown_bits.append(grant_id)
                if self.chance(0.01):
                    resource_id = ORPHAN_RESOURCE_BASE + grant_id
                    self.must_reject.append({"source": "portal", "table": "permission_grant",
                                             "id": grant_id, "reason": "orphan resource"})
                self.writers["portal.permission_grant"].add(
                    grant_id, member_id, kind, resource_id, perms,
                    self.berlin(self.moment(portal.created)),
                )

    def place_consultants(self) -> None:
        """Give each consultant a second Portal member row in another company."""
        for person, _member_id, sub in self.consultants:
            others = [p for p in self.rng.sample(self.portal_companies,
                                                 min(3, len(self.portal_companies)))
                      if p.tid not in person.companies]
            if others:
                other = others[0]
                self.portal_member(person, other, sub=sub)
                person.companies.append(other.tid)
            self.truth_lists["persons"].add(person.truth())

    # work items, files and credentials

    def projects(self, org_id: int, departments: dict[str, int], created: datetime) -> None:
        rng = self.rng
        dept_ids = list(departments.values())
        first_user, last_user = self.company_user_ids
        for _ in range(rng.choice((0, 1, 2, 3, 3, 4, 5, 5))):
            project_id = self.next_id("project")
            project_created = self.moment(created)
            name = " ".join(rng.choice(words) for words in PROJECT_WORDS)
            self.writers["core.projects"].add(
                project_id, org_id,
                rng.choice(dept_ids) if dept_ids and self.chance(0.85) else None,
                f"PRJ-{project_id:05d}", name,
                rng.choices(("active", "done", "on_hold"), (61, 30, 9))[0],
                rng.randrange(10000, 500000000, 100) if self.chance(0.85) else None,
                self.chance(0.1), project_created,
            )
            for _ in range(rng.choice((0, 1, 2, 3, 4, 5))):
                document_id = self.next_id("document")
                extension, mime = rng.choice(FILE_TYPES)
                filename = f"{rng.choice(WORDS)}-{rng.randint(1, 99)}.{extension}"
                uploader = rng.randint(first_user, last_user) if last_user >= first_user else None
                if self.chance(0.03):
                    uploader = DANGLING_USER_BASE + document_id  # a user deleted long ago
                elif self.chance(0.05):
                    uploader = None
                self.writers["core.documents"].add(
                    document_id, project_id,
                    f"orgs/{org_id}/projects/{project_id}/{self.uuid4()}/{filename}", filename,
                    mime if self.chance(0.97) else None, rng.randrange(1000, 80000000),
                    uploader, self.moment(project_created),
                )

    def api_clients(self, org_id: int, tid: str, name: str, created: datetime) -> None:
        for _ in range(self.rng.randint(1, 2)):
            client_pk = self.next_id("client")
            client_id = f"core_{self.hex(16)}"
            secret = "".join(self.rng.choice(string.ascii_letters + string.digits + "_-")
                             for _ in range(32))
            salt = self.bcrypt_salt(4)
            client_created = self.moment(created)
            revoked_at = self.moment() if self.chance(0.1) else None
            # Hashed at the end, in parallel: the row is kept until then.
            self.pending_clients.append((
                (secret.encode(), salt),
                [client_pk, org_id, f"{name} integration {client_pk}", client_id, None,
                 self.rng.choice(("read", "read write", "read write admin")),
                 client_created, revoked_at],
            ))
            self.known_core_clients.append({"client_id": client_id, "secret": secret,
                                            "revoked": revoked_at is not None, "company": tid})

    def files_and_keys(self, portal: _PortalCompany) -> None:
        rng = self.rng
        members = portal.member_ids
        for team_id in portal.team_ids:
            for _ in range(rng.choice((0, 1, 2, 2, 3, 4))):
                file_id = self.next_id("file")
                extension, mime = rng.choice(FILE_TYPES)
                original = f"{rng.choice(WORDS)} {rng.randint(1, 99)}.{extension}"
                stored_team = team_id
                if self.chance(0.006):
                    stored_team = ORPHAN_RESOURCE_BASE + file_id
                    self.must_reject.append({"source": "portal", "table": "file",
                                             "id": file_id, "reason": "orphan team"})
                else:
                    portal.file_ids.append(file_id)
                self.writers["portal.file"].add(
                    file_id, stored_team, "portal-prod-files",
                    f"c{portal.company_id}/t{team_id}/{self.uuid4()}-{original}", original,
                    mime if self.chance(0.9) else None, rng.randrange(1000, 80000000),
                    rng.choice(members) if members and self.chance(0.85) else None,
                    self.berlin(self.moment(portal.created)),
                )
        if self.chance(0.1):
            for _ in range(rng.randint(1, 2)):
                key_id = self.next_id("key")
                key = f"pk_{self.hex(32)}"
                key_created = self.moment(portal.created)
                expires = None
                if self.chance(0.35):
                    expires = self.berlin(self.moment())  # often already past
                self.writers["portal.api_key"].add(
                    key_id, portal.company_id, f"key {key_id}", key[:8],
                    hashlib.sha256(key.encode()).hexdigest(), self.berlin(key_created), expires,
                )
                self.known_portal_keys.append(
                    {"key": key, "expires": expires.isoformat(sep=" ") if expires else None,
                     "company": portal.tid}
                )

    def write_api_clients(self) -> None:
        jobs = [job for job, _ in self.pending_clients]
        with ThreadPoolExecutor() as pool:
            hashes = pool.map(lambda job: bcrypt.hashpw(*job).decode(), jobs)
            for (_, row), secret_hash in zip(self.pending_clients, hashes, strict=True):
                row[4] = secret_hash
                self.writers["core.api_clients"].add(*row)

    # assembling the files

    def write_core_sql(self) -> None:
        with (self.out / "core.sql").open("w", encoding="utf-8", newline="") as out:
            out.write(
                "-- PostgreSQL database dump of legacy Core (Scala/Play, Slick)\n"
                "SET statement_timeout = 0;\n"
                "SET client_encoding = 'UTF8';\n"
                "SET standard_conforming_strings = on;\n"
                "CREATE SCHEMA core;\n"
            )
            for table in CORE_TABLES.values():
                out.write(create_table_sql(table) + "\n")
            for table in CORE_TABLES.values():
                columns = ", ".join(table.column_names)
                out.write(f"\nCOPY core.{table.name} ({columns}) FROM stdin;\n")
                self._append_part(out, self.writers[f"core.{table.name}"].sql_part)
                out.write("\\.\n")

    def write_portal_sql(self) -> None:
        with (self.out / "portal.sql").open("w", encoding="utf-8", newline="") as out:
            out.write(
                "-- MySQL dump of legacy Portal (Scala/Akka HTTP, Doobie)\n"
                "/*!40101 SET NAMES utf8mb4 */;\n"
                "/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n"
            )
            for table in PORTAL_TABLES.values():
                out.write(create_table_sql(table) + "\n")
            for table in PORTAL_TABLES.values():
                out.write(f"\nLOCK TABLES `{table.name}` WRITE;\n")
                self._append_part(out, self.writers[f"portal.{table.name}"].sql_part)
                out.write("UNLOCK TABLES;\n")
            out.write("/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n")

    @staticmethod
    def _append_part(out: TextIO, part: Path) -> None:
        with part.open(encoding="utf-8", newline="") as source:
            shutil.copyfileobj(source, out, 1 << 20)

    def write_cognito(self) -> None:
        _write_json_object(self.out / "cognito-users.json", {"Users": self.cognito})

    def write_truth(self) -> None:
        small = {
            "known_passwords": self.known_passwords,
            "known_core_clients": self.known_core_clients,
            "known_portal_keys": self.known_portal_keys,
            "must_reject": self.must_reject,
            "cognito_only": self.cognito_only,
            "unknown_roles": self.unknown_roles,
            "unknown_bits": self.unknown_bits,
        }
        lists = dict(self.truth_lists)
        for name, items in small.items():
            lists[name] = _JSONListWriter(self.out / ".parts" / f"truth.{name}.json", depth=2)
            for item in items:
                lists[name].add(item)
        _write_json_object(self.out / "truth.json", lists)


def generate_legacy(*, companies: int, out: Path, seed: int = 1) -> GenerationResult:
    """Write a legacy data set of `companies` companies to `out`; see the module doc."""
    return LegacyGenerator(companies=companies, out=out, seed=seed).run()

