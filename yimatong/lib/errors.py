"""Exceptions that actions raise and both the console and the API know how to answer."""

from __future__ import annotations

from typing import Any

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
