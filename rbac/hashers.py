"""Password hashers and secret checks for credentials that come from the legacy systems."""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging

import bcrypt
from django.contrib.auth.hashers import BCryptPasswordHasher, get_hasher

log = logging.getLogger(__name__)

# bcrypt reads at most 72 bytes of a password; bcrypt 5 raises ValueError beyond that.
BCRYPT_MAX_BYTES = 72
# The work factor of the dummy hash checked when a client id is unknown: Core's cost.
DUMMY_BCRYPT_COST = 10


class LegacyBCryptPasswordHasher(BCryptPasswordHasher):
    """Verify Core's jBCrypt hashes, stored as "bcrypt$$2a$10$…".

    A password over 72 bytes cannot be a Core password (Core refused them), so it is a
    wrong password: never a ValueError from bcrypt 5, and never a faster answer either.
    A stored hash bcrypt cannot read (a salt that is not canonical, a bad cost) is a failed
    log-in too, logged for an administrator to reset: never a server error.
    """

    algorithm = "bcrypt"

    def verify(self, password: str, encoded: str) -> bool:
        too_long = password is not None and len(password.encode()) > BCRYPT_MAX_BYTES
        if too_long:
            # Spend the same bcrypt work as any other attempt, then refuse.
            password = _bcrypt_safe(password.encode()).decode(errors="ignore")
        try:
            correct = super().verify(password, encoded) and not too_long
        except ValueError as error:
            _log_malformed(encoded, error)
            bcrypt.checkpw(b"", _dummy_bcrypt_hash())  # the work a readable hash costs
            correct = False
        if not correct:
            _spend_default_hasher(password)
        return correct

    def harden_runtime(self, password: str, encoded: str) -> None:
        # Django's reads the cost and salt from the hash, and raises on one it cannot read;
        # verify() has already spent the time of a readable hash then.
        try:
            super().harden_runtime(password, encoded)
        except ValueError:
            pass

    def safe_summary(self, encoded: str) -> dict:
        try:
            return super().safe_summary(encoded)
        except ValueError:  # a cost that is not a number: say so, on the admin's user page
            return {"algorithm": self.algorithm, "hash": "malformed: cannot be checked"}


def _log_malformed(encoded: str, error: ValueError) -> None:
    # The scheme and length only: the hash itself is a secret, even a broken one.
    scheme = encoded.split("$")[2] if encoded.count("$") >= 2 else "?"
    log.warning(
        "A stored legacy bcrypt hash cannot be read (%s; scheme %r, %d characters): the "
        "log-in fails; reset that person's password.", error, scheme, len(encoded),
    )


def _spend_default_hasher(password: str | None) -> None:
    # A right legacy password costs bcrypt plus the re-hash with the default hasher; a wrong
    # one would cost bcrypt alone, and the difference would tell a right guess apart early.
    default = get_hasher("default")
    if default.algorithm != LegacyBCryptPasswordHasher.algorithm:
        default.encode(password or "", default.salt())


def _bcrypt_safe(secret: bytes) -> bytes:
    return secret[:BCRYPT_MAX_BYTES]


@functools.cache
def _dummy_bcrypt_hash() -> bytes:
    return bcrypt.hashpw(b"no such client", bcrypt.gensalt(DUMMY_BCRYPT_COST))


def bcrypt_secret_matches(secret: str, hashed: str | None) -> bool:
    """Return whether a secret matches a raw bcrypt hash ("$2a$…"), as Core checked it.

    Too long a secret, an empty or malformed hash, or no hash at all (an unknown client)
    are a plain False after the same bcrypt work, so the answer time tells nothing.
    """
    raw = secret.encode()
    too_long = len(raw) > BCRYPT_MAX_BYTES
    try:
        expected = hashed.encode("ascii") if hashed else _dummy_bcrypt_hash()
        matches = bcrypt.checkpw(_bcrypt_safe(raw), expected)
    except ValueError:
        bcrypt.checkpw(_bcrypt_safe(raw), _dummy_bcrypt_hash())
        return False
    return matches and not too_long and hashed is not None


def sha256_hex(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def hex_digests_match(digest: str, stored_hex: str) -> bool:
    """Compare a SHA-256 hex digest with a stored one in constant time."""
    return hmac.compare_digest(digest, stored_hex.strip().lower())
