"""Request and response shapes. Business rules live in the services, not here."""

from __future__ import annotations

from django.utils.encoding import smart_str
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backoffice.projects.models import Document, Project
from backoffice.projects.selectors import projects_for_user
from rbac.models import Company, Membership, Role, Team, User
from rbac.selectors import companies_for_user, teams_for_user, users_for_user

# --- lean lists ------------------------------------------------------------------------

# Fields whose Python value is not already its JSON value.
CONVERTED_FIELDS = (serializers.DateTimeField, serializers.DateField, serializers.DecimalField)


def values_plan(serializer_class: type[serializers.Serializer]) -> list[tuple[str, str, object]]:
    """Return (output name, values() path, converter or None) for each readable field.

    Lets a list endpoint fetch plain rows with `.values()` and skip model instances and
    per-field serializer calls, while the serializer stays the one description of the shape.
    """
    plan = []
    for name, field in serializer_class().fields.items():
        if field.write_only:
            continue
        if isinstance(field, serializers.SlugRelatedField):
            path = f"{field.source}__{field.slug_field}"
        elif isinstance(field, serializers.BaseSerializer) or "." in field.source:
            raise TypeError(f"{serializer_class.__name__}.{name} cannot be read from values().")
        else:
            path = field.source
        convert = field.to_representation if isinstance(field, CONVERTED_FIELDS) else None
        plan.append((name, path, convert))
    return plan


def rows_to_representation(rows, plan) -> list[dict]:
    return [
        {
            name: row[path] if convert is None or row[path] is None else convert(row[path])
            for name, path, convert in plan
        }
        for row in rows
    ]


# --- fields limited to what the caller may see ------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """An id that must name an object the caller may view; any other id reads as unknown."""

    # Without the id: the message must read the same for a foreign id and a missing one.
    default_error_messages = {
        **serializers.PrimaryKeyRelatedField.default_error_messages,
        "does_not_exist": "No such object.",
    }

    def __init__(self, selector, **kwargs):
        self.selector = selector
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.selector(user=self.context["request"].user)


def scoped(selector, **kwargs) -> ScopedPrimaryKeyRelatedField:
    return ScopedPrimaryKeyRelatedField(selector, **kwargs)


# --- companies, teams --------------------------------------------------------------------


class CompanySerializer(serializers.ModelSerializer):
    class Meta:
        model = Company
        fields = ["id", "name", "legal_name", "vat_number", "country", "domain", "status",
                  "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class TeamSerializer(serializers.ModelSerializer):
    company = scoped(companies_for_user)
    parent = scoped(teams_for_user, allow_null=True, required=False)

    class Meta:
        model = Team
        fields = ["id", "company", "parent", "name", "created_at"]
        read_only_fields = ["id", "created_at"]


class TeamUpdateSerializer(TeamSerializer):
    company = serializers.PrimaryKeyRelatedField(read_only=True)


# --- memberships -------------------------------------------------------------------------


class UserBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name"]


class RoleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Role
        fields = ["slug", "name", "rank"]


class MembershipSerializer(serializers.ModelSerializer):
    user = UserBriefSerializer(read_only=True)
    role = RoleSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "company", "team", "role", "created_at"]
        read_only_fields = fields


class RoleField(serializers.SlugRelatedField):
    """A role by its slug; text PostgreSQL cannot hold (a NUL byte) is simply no role."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="slug", queryset=Role.objects.all(), **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=smart_str(data))
        return super().to_internal_value(data)


class MembershipCreateSerializer(serializers.Serializer):
    user = scoped(users_for_user)
    company = scoped(companies_for_user)
    team = scoped(teams_for_user, allow_null=True, required=False)
    role = RoleField()

    def validate(self, attrs):
        team = attrs.get("team")
        if team is not None and team.company_id != attrs["company"].pk:
            raise serializers.ValidationError({"team": "The team belongs to another company."})
        return attrs


class MembershipUpdateSerializer(serializers.Serializer):
    role = RoleField()


class InvitationCreateSerializer(serializers.Serializer):
    """Someone to invite: a new address gets a set-password e-mail, a known one the role."""

    company = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    email = serializers.EmailField(max_length=254)
    role = RoleField()
    team = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, required=False, allow_null=True,
        help_text="A team of the company; empty: the role holds for the whole company.",
    )


class InvitationSerializer(serializers.Serializer):
    user = UserBriefSerializer()
    membership = MembershipSerializer()
    user_created = serializers.BooleanField(help_text="A new user was made for the address.")
    membership_created = serializers.BooleanField()
    email_sent = serializers.BooleanField(help_text="The set-password e-mail went out.")


# --- projects, documents -----------------------------------------------------------------


class ProjectSerializer(serializers.ModelSerializer):
    company = scoped(companies_for_user)
    team = scoped(teams_for_user, allow_null=True, required=False)

    class Meta:
        model = Project
        fields = ["id", "company", "team", "code", "name", "status", "budget", "archived",
                  "created_at"]
        read_only_fields = ["id", "created_at"]
        # (company, code) uniqueness is checked by the service's full_clean().
        validators = []


class ProjectUpdateSerializer(ProjectSerializer):
    company = serializers.PrimaryKeyRelatedField(read_only=True)


class DocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Document
        fields = ["id", "company", "team", "project", "original_name", "content_type", "size",
                  "uploaded_by", "uploaded_at"]
        read_only_fields = fields


class DocumentCreateSerializer(serializers.Serializer):
    """Send `file` (multipart) to upload through the server; omit it on S3 for a pre-signed POST."""

    company = scoped(companies_for_user)
    team = scoped(teams_for_user, allow_null=True, required=False)
    project = scoped(projects_for_user, allow_null=True, required=False)
    file = serializers.FileField(required=False, write_only=True)
    original_name = serializers.CharField(max_length=255, required=False)
    content_type = serializers.CharField(max_length=255, required=False, allow_blank=True)
    size = serializers.IntegerField(min_value=0, required=False, allow_null=True)

    def validate(self, attrs):
        upload = attrs.get("file")
        if not attrs.get("original_name"):
            if upload is None:
                raise serializers.ValidationError({"original_name": "Name the document."})
            attrs["original_name"] = upload.name[:255]
        if upload is not None and not attrs.get("content_type"):
            attrs["content_type"] = getattr(upload, "content_type", "") or ""
        return attrs


class PresignedPostSerializer(serializers.Serializer):
    url = serializers.URLField()
    fields = serializers.DictField(child=serializers.CharField())


class DocumentCreatedSerializer(DocumentSerializer):
    upload = PresignedPostSerializer(
        allow_null=True, read_only=True,
        help_text="On S3: POST the file to `url` as multipart with these `fields`; else null.",
    )

    class Meta(DocumentSerializer.Meta):
        fields = [*DocumentSerializer.Meta.fields, "upload"]
        read_only_fields = fields


# --- grants ------------------------------------------------------------------------------

RESOURCE_TYPES = ("company", "team", "project", "document")
GRANT_PERMISSIONS = ("view", "change", "delete", "share")


class GrantSerializer(serializers.Serializer):
    id = serializers.CharField(read_only=True, help_text='"<resource_type>-<number>".')
    user = serializers.IntegerField(read_only=True)
    user_email = serializers.EmailField(read_only=True)
    resource_type = serializers.ChoiceField(choices=RESOURCE_TYPES, read_only=True)
    resource_id = serializers.IntegerField(read_only=True)
    permission = serializers.ChoiceField(choices=GRANT_PERMISSIONS, read_only=True)


class GrantCreateSerializer(serializers.Serializer):
    user = scoped(users_for_user)
    resource_type = serializers.ChoiceField(choices=RESOURCE_TYPES)
    resource_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    permission = serializers.ChoiceField(choices=GRANT_PERMISSIONS)


# --- me ----------------------------------------------------------------------------------


class CompanyBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Company
        fields = ["id", "name", "country"]


class TeamBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name"]


class MyMembershipSerializer(serializers.ModelSerializer):
    company = CompanyBriefSerializer()
    team = TeamBriefSerializer(allow_null=True)
    role = RoleSerializer()

    class Meta:
        model = Membership
        fields = ["id", "company", "team", "role"]


class MyGrantSerializer(serializers.Serializer):
    resource_type = serializers.ChoiceField(choices=RESOURCE_TYPES)
    resource_id = serializers.IntegerField()
    permission = serializers.CharField()


class MyAPIKeySerializer(serializers.Serializer):
    name = serializers.CharField()
    prefix = serializers.CharField()
    company = CompanyBriefSerializer()
    scopes = serializers.ListField(child=serializers.CharField())


class MeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["user", "api_key"])
    user = UserBriefSerializer(allow_null=True)
    is_superuser = serializers.BooleanField()
    memberships = MyMembershipSerializer(many=True)
    object_permissions = MyGrantSerializer(many=True)
    api_key = MyAPIKeySerializer(allow_null=True)
