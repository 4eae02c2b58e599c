"""What the callback reads from a push, checked before anything is written.

A push's fields arrive as parsed XML: a text-only element is a string, but an element with
children or attributes is a dict and a repeated element a list. Each field the callback reads
must be a string, and no longer than the column it is stored in (the limits are the model
fields' own): a push that fails is refused with 400 and stores nothing, instead of an error
deep in the transaction, or a dict stored as an openid. Fields the callback does not read may
be anything (some events carry nested elements) and are kept in ``data`` only when they are text.
Pure Python over the parsed dict: it costs the callback no query.
"""

from __future__ import annotations

from typing import Any

from yimatong.wechat.models import Follower, InboundMessage, OutboundMessage
from yimatong.wechat.protocol import MSG_KEY_PREFIX, BadFields


def _max(model: type, name: str) -> int:
    return model._meta.get_field(name).max_length


# Each field the callback reads, and the longest it may be once normalised (None: no column
# limits it beyond the size of the body). The event is lowercased and stored as the message's
# event and as the purpose of its passive reply; the message id makes the de-duplication key;
# the event key is stored cut to its column (the whole key stays in ``data``).
LIMITS: dict[str, int | None] = {
    "ToUserName": None,
    "FromUserName": _max(Follower, "openid"),
    "CreateTime": None,
    "MsgType": None,
    "MsgId": _max(InboundMessage, "dedup_key") - len(MSG_KEY_PREFIX),
    "Event": min(_max(InboundMessage, "event"), _max(OutboundMessage, "purpose")),
    "EventKey": None,
    "UnionId": _max(Follower, "unionid"),
    "Content": None,
    "Recognition": None,
    "Label": None,
    "Location_X": None,
    "Location_Y": None,
    "Title": None,
    "Url": None,
}
NORMALISED = {"Event": str.lower}
EVENT_KEY_LENGTH = _max(InboundMessage, "event_key")


def check(fields: dict[str, Any]) -> None:
    """Raise BadFields unless every field the callback reads can be stored as it came."""
    for name, limit in LIMITS.items():
        value = fields.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise BadFields(f"<{name}> must be text, not {type(value).__name__}")
        if limit is not None and len(NORMALISED.get(name, str)(value)) > limit:
            raise BadFields(f"<{name}> is longer than {limit} characters")
    if not fields.get("FromUserName") or not fields.get("MsgType"):
        raise BadFields("FromUserName and MsgType are required")
