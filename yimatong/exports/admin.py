from django.contrib import admin

from yimatong.exports.models import Export


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    list_display = ("kind", "requested_by", "status", "row_count", "created_at", "finished_at")
    list_filter = ("kind", "status")
    readonly_fields = [f.name for f in Export._meta.fields]

    def has_add_permission(self, request):
        return False
