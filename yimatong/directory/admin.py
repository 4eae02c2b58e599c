from django.contrib import admin

from yimatong.accounts.admin import AuditedAdmin
from yimatong.directory.models import ChainNode, Contact, District, IndustryCode, Organization


@admin.register(IndustryCode)
class IndustryCodeAdmin(AuditedAdmin):
    list_display = ("code", "name", "level", "parent_code")
    list_filter = ("level",)
    search_fields = ("code", "name")


@admin.register(District)
class DistrictAdmin(AuditedAdmin):
    list_display = ("code", "name", "full_name")
    search_fields = ("code", "name", "full_name")


@admin.register(ChainNode)
class ChainNodeAdmin(AuditedAdmin):
    list_display = ("name", "parent", "kind", "position", "code")
    list_filter = ("kind",)
    search_fields = ("name", "name_en", "code")


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    """Searchable for admins (e.g. to link an enterprise user); edited in the console, where
    every change is audited."""

    list_display = ("name", "org_type", "uscc", "chain_node", "owner")
    list_filter = ("org_type", "chain_node")
    search_fields = ("name", "uscc", "name_initials")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "position")
    search_fields = ("name", "organization__name")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
