from typing import Any

from django.contrib import admin

from yimatong.services import actions
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

    # A day entered, changed or removed moves the working hours measured across it.
    def save_model(self, request: Any, obj: WorkCalendarDay, form: Any, change: bool) -> None:
        previous = WorkCalendarDay.objects.filter(pk=obj.pk).values_list("date", flat=True).first()
        super().save_model(request, obj, form, change)
        for day in {obj.date, previous} - {None}:
            actions.calendar_changed(day)

    def delete_model(self, request: Any, obj: WorkCalendarDay) -> None:
        super().delete_model(request, obj)
        actions.calendar_changed(obj.date)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        days = list(queryset.values_list("date", flat=True))
        super().delete_queryset(request, queryset)
        for day in days:
            actions.calendar_changed(day)


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
