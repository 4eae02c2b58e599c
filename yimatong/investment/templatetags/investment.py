from typing import Any

from django import template
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.dateparse import parse_datetime

register = template.Library()


@register.filter
def field_label(name: str, model: str = "investment.Project") -> str:
    """A field's label in the current language (events store field names, not labels)."""
    try:
        return str(apps.get_model(model)._meta.get_field(name).verbose_name)
    except (LookupError, FieldDoesNotExist):
        return name


@register.filter
def choice_label(value: Any, path: str) -> str:
    """``{{ status|choice_label:"investment.SiteVisit.status" }}``: the label of a stored choice."""
    app_model, _sep, field_name = path.rpartition(".")
    try:
        field = apps.get_model(app_model)._meta.get_field(field_name)
    except (LookupError, FieldDoesNotExist):
        return str(value)
    return str(dict(field.flatchoices).get(value, value))


@register.filter
def zip_lights(counts: list[int]) -> list[tuple[int, str]]:
    """Pair the green/yellow/red counts of a row with their light names."""
    return list(zip(counts, ("green", "yellow", "red"), strict=False))


@register.filter
def local_datetime(value: Any) -> str:
    """A moment stored in an event (ISO text, UTC) shown in the park's time: ``2026-12-09 17:30``."""
    moment = parse_datetime(value) if isinstance(value, str) else value
    if moment is None:
        return str(value or "")
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return format_date(moment, "Y-m-d H:i")
