from django.contrib import admin

from yimatong.services.models import BankProduct, DemandCategory, WorkCalendarDay


@admin.register(DemandCategory)
class DemandCategoryAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "code",
        "statutory_days",
        "promised_days",
        "default_department",
        "position",
        "is_active",
    )
    list_editable = ("statutory_days", "promised_days", "position", "is_active")


@admin.register(WorkCalendarDay)
class WorkCalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "is_workday", "note")
    list_filter = ("is_workday",)
    date_hierarchy = "date"


@admin.register(BankProduct)
class BankProductAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "bank",
        "amount_min",
        "amount_max",
        "max_term_months",
        "rate",
        "collateral",
        "is_active",
    )
    filter_horizontal = ("target_chain",)
