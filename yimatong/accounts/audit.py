"""The only writer of the audit log, and the reader that turns it into a timeline.

Actions call ``snapshot(obj)`` before a change and ``log_change(obj, before, actor=...)``
after it; creates and deletes have their own helpers. Values are stored as they were at the
time (a foreign key keeps both its id and the name it had), so the timeline stays truthful
after the referenced record is renamed or removed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext as _

from yimatong.accounts.middleware import current_origin
from yimatong.accounts.models import AuditEntry, User
from yimatong.lib import bulk
from yimatong.lib.identifiers import mask_phone

# Bookkeeping fields that change on every save and say nothing to a reader. (UUID ``code``
# fields are skipped by type: they never change; readable codes such as a district's are kept.)
_SKIPPED = {
    "id",
    "created_at",
    "updated_at",
    "version",
    "normalized_name",
    "name_initials",
    "name_pinyin",
    "password",
    "last_login",
    "failed_login_count",
    "locked_until",
}

# Shown masked to anyone who may not change the record.
MASKED_FIELDS = {"mobile", "phone"}

Snapshot = dict[str, dict[str, Any]]


def plain(value: Any) -> Any:
    """A JSON-safe form of a field value (decimals and dates as text)."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def snapshot(obj: models.Model, *, m2m: bool = True) -> Snapshot:
    """Each audited field's raw value and, for relations, the name it displays as."""
    data: Snapshot = {}
    for field in obj._meta.concrete_fields:
        if field.name in _SKIPPED or isinstance(field, models.UUIDField):
            continue
        if field.is_relation:
            raw = getattr(obj, field.attname)
            display = str(getattr(obj, field.name)) if raw is not None else None
            data[field.name] = {"value": plain(raw), "display": display}
        else:
            data[field.name] = {"value": plain(getattr(obj, field.attname))}
    if m2m and obj.pk is not None:
        for field in obj._meta.many_to_many:
            related = sorted(getattr(obj, field.name).all(), key=lambda r: r.pk)
            data[field.name] = {
                "value": [r.pk for r in related],
                "display": "、".join(str(r) for r in related) or None,
            }
    return data


def _diff(before: Snapshot, after: Snapshot) -> list[dict[str, Any]]:
    changes = []
    for name in after.keys() | before.keys():
        old, new = before.get(name, {}), after.get(name, {})
        if old.get("value") != new.get("value"):
            changes.append(
                {
                    "field": name,
                    "old": old.get("value"),
                    "new": new.get("value"),
                    "old_display": old.get("display"),
                    "new_display": new.get("display"),
                }
            )
    return sorted(changes, key=lambda c: c["field"])


def _write(
    action: str,
    obj: models.Model,
    actor: User | None,
    changes: list[dict[str, Any]],
    *,
    object_id: Any = None,
) -> AuditEntry:
    origin = current_origin()
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_name=(actor.display_name if actor is not None else "")[:150],
        action=action,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(object_id if object_id is not None else obj.pk),
        object_repr=str(obj)[:200],
        changes=changes,
        ip=origin.ip,
        channel=origin.channel,
        user_agent=origin.user_agent,
    )


def log_create(obj: models.Model, *, actor: User | None, m2m: bool = True) -> AuditEntry:
    """``m2m=False`` when the caller knows the new record's many-to-many fields are empty (they
    are left out of the entry anyway; reading them costs one query each)."""
    after = snapshot(obj, m2m=m2m)
    changes = _diff({}, {k: v for k, v in after.items() if v["value"] not in (None, "", [], False)})
    return _write(AuditEntry.Action.CREATE, obj, actor, changes)


def log_creates(objs: list[models.Model], *, actor: User | None, batch_size: int = 2000) -> int:
    """``log_create`` for many records just created together (a ledger import): the same
    entries, written with one insert per batch. The records are new, so their many-to-many
    fields are empty and are not read (one query each otherwise)."""
    if not objs:
        return 0
    origin = current_origin()
    content_type = ContentType.objects.get_for_model(objs[0], for_concrete_model=False)
    actor_id = actor.pk if actor is not None and actor.pk else None
    actor_name = (actor.display_name if actor is not None else "")[:150]
    specs = _created_fields(type(objs[0]))
    action = AuditEntry.Action.CREATE
    # A relation's display (the related record's name) is worked out once per related record.
    displays: dict[tuple[str, Any], str] = {}

    def entry(obj: models.Model) -> dict[str, Any]:
        changes = []
        for name, attname, is_relation in specs:  # what _diff({}, snapshot(obj)) lists, in its order
            raw = getattr(obj, attname)
            value = plain(raw)
            if value in (None, "", [], False):
                continue
            display = None
            if is_relation:
                display = displays.get((name, raw))
                if display is None:
                    display = displays[(name, raw)] = str(getattr(obj, name))
            changes.append(
                {"field": name, "old": None, "new": value, "old_display": None, "new_display": display}
            )
        return {
            "actor_id": actor_id,
            "actor_name": actor_name,
            "action": action,
            "content_type_id": content_type.pk,
            "object_id": str(obj.pk),
            "object_repr": str(obj)[:200],
            "changes": changes,
            "ip": origin.ip,
            "channel": origin.channel,
            "user_agent": origin.user_agent,
        }

    return bulk.insert_values(AuditEntry, (entry(obj) for obj in objs), batch_size=batch_size)


def _created_fields(model: type[models.Model]) -> list[tuple[str, str, bool]]:
    """(name, attname, is_relation) of the fields ``snapshot`` reads, sorted by name."""
    return sorted(
        (field.name, field.attname, field.is_relation)
        for field in model._meta.concrete_fields
        if field.name not in _SKIPPED and not isinstance(field, models.UUIDField)
    )


def log_change(obj: models.Model, before: Snapshot, *, actor: User | None) -> AuditEntry | None:
    """Record what changed since ``before``; nothing is written when nothing changed."""
    changes = _diff(before, snapshot(obj))
    if not changes:
        return None
    return _write(AuditEntry.Action.UPDATE, obj, actor, changes)


def log_delete(obj: models.Model, before: Snapshot, *, object_id: Any, actor: User | None) -> AuditEntry:
    changes = _diff({k: v for k, v in before.items() if v["value"] not in (None, "", [], False)}, {})
    return _write(AuditEntry.Action.DELETE, obj, actor, changes, object_id=object_id)


def log_event(action: str, obj: models.Model, *, actor: User | None) -> AuditEntry:
    """A security event about a record (sign-in, lock-out, token) with no field changes."""
    return _write(action, obj, actor, [])


# Reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeRow:
    field: str
    label: str
    old: str
    new: str


def _display(field: models.Field | None, value: Any, display: str | None) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if display is not None:
        return display
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def change_rows(entry: AuditEntry, *, reveal: bool = False) -> list[ChangeRow]:
    """The entry's changes in the order the model declares its fields, with their labels.

    Phone numbers stay masked (138****1234) unless ``reveal``: the history must not show
    readers what the record itself hides from them.
    """
    model = entry.content_type.model_class()
    order = {f.name: i for i, f in enumerate(model._meta.get_fields())} if model else {}
    rows = []
    for change in sorted(entry.changes, key=lambda c: order.get(c["field"], len(order))):
        field: models.Field | None
        try:
            field = model._meta.get_field(change["field"]) if model else None
        except FieldDoesNotExist:
            field = None
        label = str(field.verbose_name) if field is not None else change["field"]
        old = _display(field, change.get("old"), change.get("old_display"))
        new = _display(field, change.get("new"), change.get("new_display"))
        if change["field"] in MASKED_FIELDS and not reveal:
            old, new = (mask_phone(v) if v != "—" else v for v in (old, new))
        rows.append(ChangeRow(field=change["field"], label=label, old=old, new=new))
    return rows


def record_type(entry: AuditEntry) -> str:
    model = entry.content_type.model_class()
    return str(model._meta.verbose_name) if model else entry.content_type.model


def timeline(
    obj: models.Model, *, reveal: bool = False, limit: int = 200
) -> list[tuple[AuditEntry, list[ChangeRow]]]:
    entries = AuditEntry.objects.for_object(obj).select_related("content_type")[:limit]
    return [(entry, change_rows(entry, reveal=reveal)) for entry in entries]
