"""Exceptions that actions raise and both the console and the API know how to answer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext_lazy as _


class ActionError(Exception):
    """A refused change: the message is for the user; ``fields`` names the fields at fault."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = str(message)
        if code:
            self.code = code
        self.fields = fields or {}

    def add_to(self, form: Any) -> None:
        """This refusal on a form: each message beside the field it names, and the rule itself
        on top unless it is already one of them."""
        placed = set()
        for field, errors in self.fields.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
                placed.add(str(error))
        if self.message not in placed:
            form.add_error(None, self.message)


class StaleObject(ActionError):
    """Someone else changed the record since it was loaded; nothing was written."""

    status = 409
    code = "stale"

    def __init__(self, what: str = ""):
        super().__init__(
            _("该记录已被他人修改（%(what)s），您的修改未保存。请刷新后查看最新内容再修改。")
            % {"what": what},
        )


class InUse(ActionError):
    """A record that others still refer to cannot be deleted."""

    status = 409
    code = "in_use"


class Conflict(ActionError):
    """A change that collided with another one made at the same moment; nothing was written."""

    status = 409
    code = "conflict"


@contextmanager
def refused_while_in_use(name: str) -> Iterator[None]:
    """Deleting the record called ``name``: while other records still refer to it (a protecting
    foreign key, or the database's own check), nothing is deleted and the refusal says what uses it."""
    try:
        with transaction.atomic():
            yield
    except (ProtectedError, RestrictedError) as exc:
        users = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        kinds = Counter(str(obj._meta.verbose_name) for obj in users)
        uses = _("、").join(
            _("%(kind)s %(count)d 条") % {"kind": kind, "count": count}
            for kind, count in sorted(kinds.items())
        )
        raise InUse(
            _("「%(name)s」还被其他记录使用（%(uses)s），不能删除；请先处理这些记录。")
            % {"name": name, "uses": uses}
        ) from exc
    except IntegrityError as exc:
        raise InUse(_("「%(name)s」还被其他记录使用，不能删除；请先处理这些记录。") % {"name": name}) from exc
