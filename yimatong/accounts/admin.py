from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from yimatong.accounts import audit
from yimatong.accounts.models import ApiToken, AuditEntry, Department, Team, User


class AuditedAdmin(admin.ModelAdmin):
    """Changes made in Django's admin go to the audit log like every other change."""

    def save_model(self, request: HttpRequest, obj, form, change) -> None:
        obj._audit_before = audit.snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        obj = form.instance
        before = getattr(obj, "_audit_before", None)
        if before is None:
            audit.log_create(obj, actor=request.user)
        else:
            audit.log_change(obj, before, actor=request.user)

    def delete_model(self, request: HttpRequest, obj) -> None:
        before, pk = audit.snapshot(obj), obj.pk
        super().delete_model(request, obj)
        audit.log_delete(obj, before, object_id=pk, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    list_display = (
        "username",
        "name",
        "role",
        "team",
        "department",
        "organization",
        "is_active",
        "locked_until",
    )
    list_filter = ("role", "team", "department", "is_active")
    search_fields = ("username", "name", "phone")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("个人信息"), {"fields": ("name", "phone", "email")}),
        (_("角色与范围"), {"fields": ("role", "team", "department", "organization")}),
        (
            _("状态"),
            {"fields": ("is_active", "is_staff", "is_superuser", "failed_login_count", "locked_until")},
        ),
        (_("时间"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "name",
                    "role",
                    "team",
                    "department",
                    "organization",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    readonly_fields = ("failed_login_count", "last_login", "date_joined")
    autocomplete_fields = ("organization",)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            audit.log_event(AuditEntry.Action.PASSWORD_CHANGED, User.objects.get(pk=id), actor=request.user)
        return response


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ("name", "code")
    filter_horizontal = ("chain_nodes",)
    search_fields = ("name", "code")


@admin.register(Department)
class DepartmentAdmin(AuditedAdmin):
    list_display = ("name", "code", "phone")
    search_fields = ("name", "code")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "name", "prefix", "digest", "created_at", "last_used_at", "revoked_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False  # revoked in the console, where it is audited; never deleted


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the audit log can be searched here but never edited or deleted."""

    list_display = ("at", "actor_name", "action", "content_type", "object_repr", "channel", "ip")
    list_filter = ("action", "channel", "content_type")
    search_fields = ("actor_name", "object_repr", "object_id")
    date_hierarchy = "at"

    def get_readonly_fields(self, request: HttpRequest, obj: AuditEntry | None = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False
