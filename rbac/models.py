"""Users, companies, teams, roles and memberships: who may do what, where."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import (
    AbstractBaseUser,
    BaseUserManager,
    Permission,
    PermissionsMixin,
)
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from guardian.models import UserObjectPermissionBase
from simple_history.models import HistoricalRecords


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra) -> User:
        if not email:
            raise ValueError("A user needs an e-mail address.")
        user = self.model(email=self.normalize_email(email).strip(), **extra)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str) -> User:
        # Log-in is case-insensitive, as the database constraint is.
        return self.get(email__iexact=username.strip())


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("e-mail address", max_length=254, unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(
        "staff status", default=False, help_text="May log in to the back-office."
    )
    is_active = models.BooleanField(default=True)
    email_verified = models.BooleanField(default=False)
    # NULL, not "", means no sub: the unique constraint skips NULLs only.
    cognito_sub = models.CharField(  # noqa: DJ001 - nullable unique value
        "Cognito sub",
        max_length=64,
        blank=True,
        null=True,
        help_text="Portal's Cognito user id, kept until the user has a password of ours.",
    )
    date_joined = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords(excluded_fields=["password", "last_login"])
    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = "user"
        verbose_name_plural = "users"
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="rbac_user_email_ci_unique"),
            models.UniqueConstraint(
                fields=["cognito_sub"],
                condition=models.Q(cognito_sub__isnull=False),
                name="rbac_user_cognito_sub_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).strip()
        clash = User.objects.filter(email__iexact=self.email).exclude(pk=self.pk)
        if clash.exists():
            raise ValidationError({"email": "A user with this e-mail address already exists."})

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email

    def get_short_name(self) -> str:
        return self.first_name or self.email


class Company(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        ARCHIVED = "archived", "Archived"

    name = models.CharField(max_length=200)
    legal_name = models.CharField(max_length=255, blank=True)
    # NULL, not "", means no VAT number: the unique constraint skips NULLs only.
    vat_number = models.CharField(  # noqa: DJ001 - nullable unique value
        "VAT number",
        max_length=32,
        blank=True,
        null=True,
        help_text="Normalised: country prefix and digits, no separators.",
    )
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2.")
    domain = models.CharField(max_length=253, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "company"
        verbose_name_plural = "companies"
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["vat_number"],
                condition=models.Q(vat_number__isnull=False),
                name="rbac_company_vat_unique",
            ),
        ]
        indexes = [models.Index(Lower("name"), name="rbac_company_name_ci")]
        permissions = [
            ("manage_permissions", "Can manage roles and object permissions"),
            ("view_billing", "Can view invoices and billing"),
            ("share_company", "Can share company"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.country})" if self.country else self.name

    def clean(self) -> None:
        super().clean()
        if self.vat_number == "":
            self.vat_number = None
        if self.country:
            self.country = self.country.upper()
            if len(self.country) != 2 or not self.country.isalpha():
                raise ValidationError({"country": "Use the ISO 3166-1 alpha-2 code, e.g. DE."})


class Team(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="teams")
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    name = models.CharField(max_length=200)
    # Ids of every ancestor, root first, as "/1/5/": finds a subtree with one indexed prefix
    # search instead of a recursive query. Kept in step by rbac.services.
    ancestry = models.CharField(max_length=512, default="/", editable=False, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "team"
        verbose_name_plural = "teams"
        ordering = ["company_id", "name"]
        constraints = [
            models.UniqueConstraint("company", Lower("name"), name="rbac_team_name_ci_unique"),
        ]
        permissions = [("share_team", "Can share team")]

    def __str__(self) -> str:
        return self.name

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.ancestry.strip("/").split("/") if part]

    @property
    def subtree_prefix(self) -> str:
        return f"{self.ancestry}{self.pk}/"

    def clean(self) -> None:
        super().clean()
        if self.parent_id is None:
            return
        if self.parent.company_id != self.company_id:
            raise ValidationError({"parent": "The parent team belongs to another company."})
        if self.pk and (self.parent_id == self.pk or self.pk in self.parent.ancestor_ids):
            raise ValidationError({"parent": "A team cannot be nested inside itself."})


class Role(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    rank = models.PositiveSmallIntegerField(
        help_text="Higher outranks lower. A person may grant roles ranked at or below their own."
    )
    description = models.TextField(blank=True)
    permissions = models.ManyToManyField(Permission, blank=True, related_name="rbac_roles")

    history = HistoricalRecords(m2m_fields=[permissions])

    class Meta:
        verbose_name = "role"
        verbose_name_plural = "roles"
        ordering = ["-rank", "name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    # No index of its own: the unique (user, company, team) key below starts with it and
    # serves lookups by user, and by user and company, as well.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships",
        db_index=False,
    )
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        help_text="Empty: the role holds for the whole company.",
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="memberships")
    created_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "membership"
        verbose_name_plural = "memberships"
        ordering = ["company_id", "team_id", "user_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "company", "team"], name="rbac_membership_unique_team_scope"
            ),
            models.UniqueConstraint(
                fields=["user", "company"],
                condition=models.Q(team__isnull=True),
                name="rbac_membership_unique_company_scope",
            ),
        ]

    def __str__(self) -> str:
        where = f"{self.company} / {self.team}" if self.team_id else str(self.company)
        return f"{self.user} — {self.role} in {where}"

    @property
    def scope_label(self) -> str:
        return f"team {self.team}" if self.team_id else "company"

    def clean(self) -> None:
        super().clean()
        if self.team_id and self.company_id and self.team.company_id != self.company_id:
            raise ValidationError({"team": "The team belongs to another company."})


class APIKey(models.Model):
    class Scheme(models.TextChoices):
        SHA256 = "sha256", "SHA-256 of the key (Portal pk_ keys and new keys)"
        BCRYPT = "bcrypt", "bcrypt of the client secret (Core OAuth2 clients)"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=200)
    prefix = models.CharField(
        max_length=64, db_index=True, help_text="Looks the key up: pk_ prefix or Core client id."
    )
    hashed_key = models.CharField(max_length=255)
    hash_scheme = models.CharField(max_length=16, choices=Scheme.choices, default=Scheme.SHA256)
    scopes = models.CharField(
        max_length=100, default="read", help_text="Space-separated: read write admin."
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords(excluded_fields=["last_used_at"])

    class Meta:
        verbose_name = "API key"
        verbose_name_plural = "API keys"
        ordering = ["company_id", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class CompanyUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Company, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = "direct company permission"


class TeamUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Team, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = "direct team permission"


class AccessToken(models.Model):
    """A short-lived bearer token, for a person or for an API key; only its hash is stored."""

    token_hash = models.CharField("SHA-256 of the token", max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
        related_name="access_tokens",
    )
    api_key = models.ForeignKey(
        APIKey, on_delete=models.CASCADE, null=True, blank=True, related_name="access_tokens"
    )
    scopes = models.CharField(max_length=100, help_text="Space-separated: read write admin.")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "access token"
        verbose_name_plural = "access tokens"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(user__isnull=False, api_key__isnull=True)
                    | models.Q(user__isnull=True, api_key__isnull=False)
                ),
                name="rbac_accesstoken_one_holder",
            ),
        ]

    def __str__(self) -> str:
        holder = self.user if self.user_id else self.api_key
        return f"token of {holder}, expires {self.expires_at:%Y-%m-%d %H:%M}"

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class AccessVersion(models.Model):
    """How many times what a user may do has changed: a cached access profile built at one
    version is exact while the version stays. Written only by database triggers
    (rbac.access_versions), in the transaction of the change; no foreign key constraint, so
    a user's deletion does not depend on when the triggers wrote their row."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, primary_key=True,
        db_constraint=False, related_name="access_version",
    )
    version = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "access version"
        verbose_name_plural = "access versions"
        ordering = ["user_id"]

    def __str__(self) -> str:
        return f"user {self.user_id}: version {self.version}"
