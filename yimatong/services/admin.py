from typing import Any

from django.contrib import admin

from yimatong.accounts.admin import AuditedAdmin
from yimatong.services import actions
from yimatong.services.models import BankProduct, DemandCategory, WorkCalendarDay, calendar_overrides


@admin.register(DemandCategory)
class DemandCategoryAdmin(AuditedAdmin):
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
class WorkCalendarDayAdmin(AuditedAdmin):
    list_display = ("date", "is_workday", "note")
    list_filter = ("is_workday",)
    date_hierarchy = "date"

    # A day entered, changed or removed moves the working hours measured across it and the
    # deadlines of the open demands that reach it (recomputed from the calendar as it was).
    def save_model(self, request: Any, obj: WorkCalendarDay, form: Any, change: bool) -> None:
        before = calendar_overrides()
        previous = WorkCalendarDay.objects.filter(pk=obj.pk).values_list("date", flat=True).first()
        super().save_model(request, obj, form, change)
        actions.calendar_changed(*({obj.date, previous} - {None}), before=before, actor=request.user)

    def delete_model(self, request: Any, obj: WorkCalendarDay) -> None:
        before = calendar_overrides()
        super().delete_model(request, obj)
        actions.calendar_changed(obj.date, before=before, actor=request.user)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        before = calendar_overrides()
        days = list(queryset.values_list("date", flat=True))
        for obj in queryset:  # each audited; the demands recomputed once for all the days
            AuditedAdmin.delete_model(self, request, obj)
        actions.calendar_changed(*days, before=before, actor=request.user)


@admin.register(BankProduct)
class BankProductAdmin(AuditedAdmin):
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
