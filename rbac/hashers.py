"""Password hashers for credentials that come from the legacy systems."""

from django.contrib.auth.hashers import BCryptPasswordHasher


class LegacyBCryptPasswordHasher(BCryptPasswordHasher):
    """Verify Core's jBCrypt hashes, stored as "bcrypt$$2a$10$…".

    bcrypt 5 raises on passwords over 72 bytes; such a password cannot be the legacy
    one (jBCrypt cut it at 72 bytes only on input it never saw), so it is a wrong password.
    """

    algorithm = "bcrypt"

    def verify(self, password: str, encoded: str) -> bool:
        if password is not None and len(password.encode()) > 72:
            # Spend the same bcrypt work as any other attempt, then refuse.
            super().verify(password.encode()[:72].decode(errors="ignore"), encoded)
            return False
        return super().verify(password, encoded)
