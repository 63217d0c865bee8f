"""Pure functions that turn the legacy systems' dirty values into comparable ones.

Nothing here touches the database or reads files. Every function accepts ``None`` and
returns ``None`` (or an empty value) for input that carries no information, and every
normaliser is idempotent: feeding its own output back returns the same value.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cache, lru_cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import ftfy
import pycountry
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.util import get_cc_module

BERLIN = ZoneInfo("Europe/Berlin")

# --------------------------------------------------------------------------- text


def fix_mojibake(text: str | None) -> str | None:
    """Repair UTF-8 that went through a Windows-1252 connection (``MÃ¼ller`` → ``Müller``)."""
    if text is None or text.isascii():
        return text  # mis-decoded UTF-8 always leaves non-ASCII characters behind
    # fix_encoding only undoes encoding mix-ups; fix_text would also rewrite quotes and
    # ligatures, which changes what people typed.
    return ftfy.fix_encoding(text)


# Letters that Unicode does not decompose into a base letter plus accent.
_UNDECOMPOSABLE = str.maketrans(
    {
        "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss",
        "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th",
        "Þ": "TH", "ı": "i", "ħ": "h", "Ħ": "H",
    }
)  # fmt: skip


def fold_text(text: str) -> str:
    """Return ``text`` without accents and case: ``Ørsted Å/S`` → ``orsted a/s``."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSABLE))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold()


def plain_text(value: object) -> str:
    """Return a value as text on one line, its runs of white space single spaces."""
    return " ".join(str(value).split()) if value is not None else ""


# --------------------------------------------------------------------------- e-mail


def normalize_email(raw: str | None) -> str | None:
    """Return the trimmed, lower-cased address, or ``None`` when ``raw`` is not an address."""
    if raw is None:
        return None
    candidate = raw.strip().lower()
    if candidate.startswith("mailto:"):
        candidate = candidate.removeprefix("mailto:").strip()
    if not candidate:
        return None
    try:
        validate_email(candidate)
    except ValidationError:
        return None
    return candidate


@lru_cache(maxsize=1 << 19)
def person_key(email: str | None) -> str | None:
    """Return the key under which Core users and Portal members are the same person.

    Cached: an import asks for every address several times (the scan of people, the load
    of users, Cognito), and Django's validation costs more than the rest of the row.
    """
    return normalize_email(email)


def team_key(name: str | None) -> str | None:
    """Return the key under which two teams of one company are the same team."""
    if name is None:
        return None
    key = " ".join(name.split()).casefold()
    return key or None


# --------------------------------------------------------------------------- countries

# Names pycountry does not know: native spellings, old names and colloquial ones.
# Keys are folded (see fold_text) with dots removed.
_COUNTRY_ALIASES: dict[str, str] = {
    "uk": "GB", "great britain": "GB", "britain": "GB", "england": "GB",
    "scotland": "GB", "wales": "GB", "northern ireland": "GB", "grossbritannien": "GB",
    "vereinigtes konigreich": "GB", "royaume-uni": "GB", "reino unido": "GB",
    "united states": "US", "usa": "US", "us": "US", "america": "US",
    "vereinigte staaten": "US", "estados unidos": "US", "etats-unis": "US",
    "holland": "NL", "nederland": "NL", "niederlande": "NL", "pays-bas": "NL",
    "paises bajos": "NL",
    "deutschland": "DE", "allemagne": "DE", "alemania": "DE", "germania": "DE",
    "bundesrepublik deutschland": "DE", "brd": "DE",
    "osterreich": "AT", "oesterreich": "AT", "autriche": "AT",
    "schweiz": "CH", "suisse": "CH", "svizzera": "CH", "svizra": "CH", "helvetia": "CH",
    "sverige": "SE", "schweden": "SE", "suede": "SE",
    "danmark": "DK", "danemark": "DK", "daenemark": "DK",
    "norge": "NO", "noreg": "NO", "norwegen": "NO",
    "suomi": "FI", "finnland": "FI",
    "polska": "PL", "polen": "PL", "pologne": "PL",
    "espana": "ES", "spanien": "ES", "espagne": "ES",
    "italia": "IT", "italien": "IT",
    "frankreich": "FR", "francia": "FR",
    "belgie": "BE", "belgique": "BE", "belgien": "BE",
    "luxemburg": "LU", "letzebuerg": "LU",
    "eire": "IE", "irland": "IE",
    "cesko": "CZ", "ceska republika": "CZ", "tschechien": "CZ",
    "slovensko": "SK", "slowakei": "SK",
    "magyarorszag": "HU", "ungarn": "HU",
    "rumanien": "RO",
    "ellada": "GR", "hellas": "GR", "ελλαδα": "GR", "griechenland": "GR", "el": "GR",
    "eesti": "EE", "latvija": "LV", "lietuva": "LT", "hrvatska": "HR", "slovenija": "SI",
    "turkey": "TR", "turkei": "TR", "russia": "RU", "south korea": "KR",
}  # fmt: skip


def _country_lookup_text(raw: str) -> str:
    text = fold_text(fix_mojibake(raw) or "").replace(".", "")
    text = " ".join(text.split())
    return text.removeprefix("the ")


@cache
def country_code(raw: str | None) -> str | None:
    """Return the ISO 3166 alpha-2 code for any spelling of a country, else ``None``."""
    if raw is None:
        return None
    text = _country_lookup_text(raw)
    if not text:
        return None
    if text in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[text]
    # lookup() matches codes and names exactly (case-insensitive), never fuzzily: a wrong
    # country would allow or veto a merge. pycountry's names carry accents, so try as typed.
    for candidate in (" ".join((fix_mojibake(raw) or "").split()), text):
        try:
            return pycountry.countries.lookup(candidate).alpha_2
        except LookupError:
            continue
    return None


# Country-code top-level domains sold to anyone; they say nothing about the company.
_VANITY_TLDS = frozenset(
    {"io", "ai", "co", "me", "tv", "fm", "ly", "cc", "ws", "to", "gg", "am", "la", "sh", "ac",
     "so", "nu", "eu", "su", "tk", "ag", "vc", "bz", "md", "is"}
)  # fmt: skip


def country_from_tld(domain: str | None) -> str | None:
    """Return the country of a domain's country-code TLD (``.co.uk`` → ``GB``), else ``None``."""
    host = domain_from_url(domain)
    if host is None:
        return None
    tld = host.rsplit(".", 1)[-1]
    if len(tld) != 2 or tld in _VANITY_TLDS:
        return None
    if tld == "uk":
        return "GB"
    country = pycountry.countries.get(alpha_2=tld.upper())
    return country.alpha_2 if country else None


# --------------------------------------------------------------------------- web domains


def domain_from_url(url: str | None) -> str | None:
    """Return the host of a URL or bare domain, lower case, without ``www.``, port or path."""
    if url is None:
        return None
    text = url.strip()
    if not text:
        return None
    if "://" not in text:
        text = "//" + text.removeprefix("//")
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".").lower().removeprefix("www.")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    if "." not in host or not re.fullmatch(r"[a-z0-9.-]+", host):
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host
    return None  # an IP address is nobody's company domain


# --------------------------------------------------------------------------- VAT numbers

# Prefixes of the VAT numbers we can meet: the EU's (Greece is EL, Northern Ireland XI),
# plus the UK, Switzerland and Norway.
_VAT_PREFIXES = frozenset(
    {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU",
     "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "XI",
     "GB", "CH", "NO"}
)  # fmt: skip
_VAT_PREFIX_COUNTRY = {"EL": "GR", "XI": "GB"}
_COUNTRY_VAT_PREFIX = {"GR": "EL"}
# Words some countries write around the number: CHE-123.456.789 MWST, 123456789 MVA.
_VAT_NOISE_WORDS = re.compile(r"(MWST|TVA|IVA|MVA)$")
# Filled in to get past a required field, not a number anybody was given.
_PLACEHOLDER = re.compile(r"1234567890?")


@dataclass(frozen=True)
class Vat:
    """A VAT number split into its country prefix (``None`` when unknown) and national part."""

    prefix: str | None
    national: str

    def __str__(self) -> str:
        return f"{self.prefix or ''}{self.national}"

    @property
    def country(self) -> str | None:
        if self.prefix is None:
            return None
        return _VAT_PREFIX_COUNTRY.get(self.prefix, self.prefix)

    def same_number(self, other: Vat) -> bool:
        """Return whether both are the same number, comparing digits where a prefix is missing."""
        if self.national != other.national:
            return False
        return self.prefix is None or other.prefix is None or self.prefix == other.prefix


def parse_vat(raw: str | None, country: str | None = None) -> Vat | None:
    """Return ``raw`` as a :class:`Vat`, taking the prefix from ``country`` when it is missing.

    ``None`` when ``raw`` cannot be a VAT number at all (empty, a placeholder such as
    ``000000000`` or ``n/a``, fewer than two digits). The checksum is *not* checked: see
    :func:`vat_checksum_ok`.
    """
    if raw is None:
        return None
    compact = re.sub(r"[^0-9A-Za-z]", "", raw).upper()
    compact = _VAT_NOISE_WORDS.sub("", compact)
    if not compact:
        return None
    prefix: str | None = None
    head = compact[:2]
    if head == "GR":
        head = "EL"
    if head.isalpha() and head in _VAT_PREFIXES:
        prefix, national = head, compact[2:]
    else:
        national = compact
        code = country_code(country) if country else None
        if code is not None:
            candidate = _COUNTRY_VAT_PREFIX.get(code, code)
            prefix = candidate if candidate in _VAT_PREFIXES else None
    digits = sum(ch.isdigit() for ch in national)
    if digits < 2 or set(national) <= {"0"} or _PLACEHOLDER.fullmatch(national):
        return None
    return Vat(prefix=prefix, national=national)


def normalize_vat(raw: str | None, country: str | None = None) -> str | None:
    """Return the VAT number without separators, upper case, with its country prefix.

    The prefix is restored from ``country`` (any spelling) when ``raw`` lacks one; Greece
    gets ``EL``. A number whose prefix cannot be restored is returned without one.
    """
    vat = parse_vat(raw, country)
    return str(vat) if vat else None


def vat_checksum_ok(vat: str | None) -> bool | None:
    """Return whether python-stdnum accepts the number; ``None`` when it cannot tell.

    Used for reports only: a failing checksum never drops a VAT number, because the
    legacy systems hold numbers that are known to be right but fail the check
    (typos fixed on paper, numbers of deregistered companies, test data).
    """
    parsed = parse_vat(vat)
    if parsed is None or parsed.prefix is None:
        return None
    if parsed.prefix.lower() in eu_vat.MEMBER_STATES or parsed.prefix == "EL":
        validate = eu_vat.validate
    else:
        module = get_cc_module(parsed.prefix.lower(), "mva" if parsed.prefix == "NO" else "vat")
        if module is None:
            return None
        validate = module.validate
    try:
        validate(str(parsed))
    except StdnumValidationError:
        return False
    return True


# --------------------------------------------------------------------------- company names

# Legal forms, as written, with the countries that use them. Spellings are compacted with
# the same rules as names, so "S.r.l.", "SRL" and "s r l" are one entry.
_LEGAL_FORMS: tuple[tuple[tuple[str, ...], frozenset[str]], ...] = (
    (("GmbH", "G.m.b.H.", "Gesellschaft mit beschränkter Haftung"), frozenset({"DE", "AT", "CH"})),
    (("GmbH & Co. KG", "GmbH & Co KG", "& Co. KG", "Co. KG", "KG", "KGaA", "OHG", "e.K."),
     frozenset({"DE", "AT"})),
    (("AG", "Aktiengesellschaft"), frozenset({"DE", "AT", "CH", "LI"})),
    (("UG", "UG (haftungsbeschränkt)", "GbR"), frozenset({"DE"})),
    (("GesmbH", "Ges.m.b.H."), frozenset({"AT"})),
    (("Sàrl", "SARL"), frozenset({"FR", "LU", "CH", "BE"})),
    (("SASU", "EURL", "Société par actions simplifiée"), frozenset({"FR"})),
    (("SAS", "S.A.S."), frozenset({"FR", "IT"})),
    (("SA", "S.A."), frozenset({"FR", "BE", "CH", "LU", "ES", "PL", "PT", "GR"})),
    (("SNC",), frozenset({"FR", "IT"})),
    (("B.V.", "BV", "N.V.", "NV", "Besloten Vennootschap", "Naamloze Vennootschap"),
     frozenset({"NL", "BE"})),
    (("V.O.F.", "VOF"), frozenset({"NL"})),
    (("BVBA", "SPRL", "CVBA", "SRL", "S.R.L.", "S.r.l."), frozenset({"BE", "IT", "RO"})),
    (("SpA", "S.p.A.", "S.a.p.a."), frozenset({"IT"})),
    (("S.L.", "SL", "S.L.U.", "SLU", "S.L.L.", "Sociedad Limitada", "S.A.U.", "SAU"),
     frozenset({"ES"})),
    (("Lda", "Lda."), frozenset({"PT"})),
    (("Sp. z o.o.", "Sp. z.o.o.", "Spółka z ograniczoną odpowiedzialnością", "Sp.k.", "Sp. k.",
      "Sp. j.", "S.K.A."), frozenset({"PL"})),
    (("AB", "Aktiebolag", "AB (publ)"), frozenset({"SE", "FI"})),
    (("HB", "KB"), frozenset({"SE"})),
    (("Oy", "Oyj", "Oy Ab", "Abp"), frozenset({"FI"})),
    (("ApS", "I/S", "IVS", "P/S"), frozenset({"DK"})),
    (("A/S",), frozenset({"DK", "NO"})),
    (("AS",), frozenset({"DK", "NO", "EE", "CZ", "SK"})),
    (("ASA",), frozenset({"NO"})),
    (("s.r.o.", "a.s."), frozenset({"CZ", "SK"})),
    (("OÜ",), frozenset({"EE"})),
    (("SIA",), frozenset({"LV"})),
    (("UAB",), frozenset({"LT"})),
    (("Kft.", "Zrt.", "Nyrt.", "Bt."), frozenset({"HU"})),
    (("d.o.o.", "d.d."), frozenset({"HR", "SI", "RS", "BA", "ME"})),
    (("ehf.", "hf."), frozenset({"IS"})),
    (("Ltd", "Ltd.", "Limited", "plc", "PLC", "Public Limited Company"), frozenset({"GB", "IE"})),
    (("LLP",), frozenset({"GB", "US"})),
    (("CIC",), frozenset({"GB"})),
    (("Inc", "Inc.", "Incorporated", "Corp.", "Corporation"), frozenset({"US", "CA"})),
    (("LLC", "L.L.C.", "PLLC", "LP", "L.P."), frozenset({"US"})),
    (("Pty Ltd", "Pty. Ltd."), frozenset({"AU", "ZA"})),
    (("Pte Ltd", "Pte. Ltd."), frozenset({"SG"})),
    (("SE",), frozenset()),  # Societas Europaea: any EU country, so no country at all
)  # fmt: skip

# The longest legal form, in words ("Spółka z ograniczoną odpowiedzialnością").
_MAX_LEGAL_FORM_WORDS = 6


def _name_words(text: str) -> list[str]:
    folded = fold_text(text).replace("&", " and ").replace("+", " and ")
    # Dots, apostrophes and slashes join ("S.A.S." → "sas", "A/S" → "as", "O'Neil" →
    # "oneil"); every other non-alphanumeric character separates words.
    joined = re.sub(r"[.'`´’/]", "", folded)
    return re.findall(r"[^\W_]+", joined)


@cache
def _legal_form_table() -> dict[str, frozenset[str]]:
    table: dict[str, frozenset[str]] = {}
    for spellings, countries in _LEGAL_FORMS:
        for spelling in spellings:
            # "A/S" (DK, NO) and "a.s." (CZ, SK) both compact to "as": allow all of them.
            compact = "".join(_name_words(spelling))
            table[compact] = table.get(compact, frozenset()) | countries
    return table


@dataclass(frozen=True)
class NameKey:
    """A company name reduced for comparison, and what its legal form says."""

    key: str
    legal_form: str | None
    countries: frozenset[str]

    @property
    def country(self) -> str | None:
        """Return the one country the legal form implies, if it implies exactly one."""
        if len(self.countries) == 1:
            return next(iter(self.countries))
        return None


def normalize_company_name(name: str | None) -> NameKey:
    """Return the comparison key of a company name and the countries its legal form allows.

    ``"  Gröttner-Robotics G.m.b.H. "`` and ``"GrÃ¶ttner Robotics GmbH"`` both give the
    key ``grottnerrobotics``: mojibake repaired, accents and case folded, punctuation and
    spacing removed, trailing legal form(s) dropped. ``countries`` is empty when there is
    no legal form or it does not narrow the country down.
    """
    words = _name_words(fix_mojibake(name) or "")
    table = _legal_form_table()
    forms: list[str] = []
    countries: frozenset[str] | None = None
    while len(words) > 1:
        for length in range(min(_MAX_LEGAL_FORM_WORDS, len(words) - 1), 0, -1):
            form = "".join(words[-length:])
            if form in table:
                forms.insert(0, form)
                form_countries = table[form]
                if form_countries:
                    countries = form_countries if countries is None else countries & form_countries
                del words[-length:]
                break
        else:
            break
    return NameKey(
        key="".join(words),
        legal_form=" ".join(forms) or None,
        countries=countries or frozenset(),
    )


# --------------------------------------------------------------------------- people

_SURNAME_PARTICLES = frozenset(
    {"van", "von", "de", "der", "den", "del", "della", "di", "da", "das", "do", "dos", "du",
     "la", "le", "les", "ter", "ten", "te", "het", "t", "'t", "zu", "zum", "zur", "d'", "l'",
     "af", "av", "bin", "ibn"}
)  # fmt: skip


def _is_particle(word: str) -> bool:
    return word.casefold() in _SURNAME_PARTICLES


def split_full_name(full_name: str | None) -> tuple[str, str]:
    """Return ``(first, last)`` for a Core ``full_name``.

    Surname particles belong to the last name (``Lois van der Laan`` → ``("Lois", "van der
    Laan")``), including the Dutch index forms ``Mare Bourgondië, van`` and
    ``Hans Dussen van``; ``Last, First`` is swapped; a single word is a first name.
    """
    text = " ".join((full_name or "").split())
    if not text:
        return "", ""
    if "," in text:
        before, _, after = (part.strip() for part in text.partition(","))
        after_words = after.split()
        if after_words and all(_is_particle(word) for word in after_words):
            text = before + " " + after  # index form: the particle moves back in front below
        elif before and after:
            return after, before
        else:
            text = before or after
    words = text.split()
    trailing = 0
    while trailing < len(words) - 1 and _is_particle(words[-1 - trailing]):
        trailing += 1
    if trailing and len(words) - trailing >= 2:
        # "Hans Dussen van": the particle was written after the surname it belongs to.
        particles = words[len(words) - trailing :]
        words = words[: len(words) - trailing - 1] + particles + [words[len(words) - trailing - 1]]
    if len(words) == 1:
        return words[0], ""
    start = len(words) - 1
    for index in range(1, len(words) - 1):
        if _is_particle(words[index]):
            start = index
            break
    return " ".join(words[:start]), " ".join(words[start:])


# --------------------------------------------------------------------------- timestamps

_ZERO_DATE = re.compile(r"0000-|\d{4}-00-|\d{4}-\d{2}-00")


def _parse_timestamp(raw: datetime | date | str | None) -> datetime | None:
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return raw
    if isinstance(raw, date):
        return datetime.combine(raw, time())
    text = raw.strip()
    # MySQL writes "unknown" as the zero date, or zeros inside a date ("2019-00-00").
    if not text or _ZERO_DATE.match(text):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a timestamp: {raw!r}") from None


def berlin_to_utc(value: datetime | date | str | None) -> datetime | None:
    """Return Portal's naive Europe/Berlin wall-clock time as an aware UTC datetime.

    ``None`` for empty input and MySQL zero dates. Input that already carries an offset is
    converted as it is. Wall-clock times that the DST change makes ambiguous or impossible
    are resolved as Python's ``fold=0`` does, so re-runs give the same answer:

    * autumn overlap (02:00–02:59 happens twice): the first occurrence, summer time (+02:00);
    * spring gap (02:00–02:59 never happens): read with the winter offset (+01:00), i.e.
      moved forward by the hour that was skipped.

    Raises ``ValueError`` for text that is not a timestamp at all.
    """
    moment = _parse_timestamp(value)
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BERLIN, fold=0)
    return moment.astimezone(UTC)
