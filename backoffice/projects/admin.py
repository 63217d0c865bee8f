from django.contrib import admin
from django.utils.html import format_html

from rbac.admin import DirectPermissionAdmin, ObjectPermissionPagesMixin
from rbac.admin_access import WhoCanSeeMixin
from rbac.admin_scoping import ScopedModelAdmin
from rbac.admin_teams import TeamPickerMixin
from rbac.dashboard import DashboardCount, model_count

from .list_filters import DocumentKindFilter
from .models import Document, DocumentUserObjectPermission, Project, ProjectUserObjectPermission


@admin.register(Project)
class ProjectAdmin(TeamPickerMixin, WhoCanSeeMixin, ObjectPermissionPagesMixin, ScopedModelAdmin):
    list_display = ("code", "name", "company", "team", "status", "budget", "archived")
    list_select_related = ("company", "team")
    list_filter = ("status", "archived")
    search_fields = ("code", "name", "company__name")
    autocomplete_fields = ("company", "team")


@admin.register(Document)
class DocumentAdmin(TeamPickerMixin, WhoCanSeeMixin, ObjectPermissionPagesMixin, ScopedModelAdmin):
    list_display = ("original_name", "company", "team", "project", "size", "uploaded_at",
                    "stored_at")
    list_select_related = ("company", "team", "project")
    list_filter = (DocumentKindFilter,)
    search_fields = ("original_name", "company__name", "legacy_key")
    autocomplete_fields = ("company", "team", "project", "uploaded_by")
    date_hierarchy = None
    readonly_fields = ("legacy_bucket", "legacy_key")

    @admin.display(description="stored at")
    def stored_at(self, obj: Document):
        if obj.file:
            return obj.file.name
        if obj.legacy_key:
            return format_html("<span title='legacy'>s3://{}/{}</span>", obj.legacy_bucket,
                               obj.legacy_key)
        return "—"


admin.site.register(ProjectUserObjectPermission, DirectPermissionAdmin)
admin.site.register(DocumentUserObjectPermission, DirectPermissionAdmin)


def document_count(request) -> list[DashboardCount]:
    return model_count(request, admin.site._registry[Document], "documents")


admin.site.add_dashboard_count(document_count)
