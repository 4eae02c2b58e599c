"""Fuzzing the callback with correctly signed pushes, plain and encrypted: field values, types
(nested, attributes, repeats, empty), encodings, sizes and stray bytes. Whatever comes, the
answer is 200 or 400, never an error; a refused push stores nothing; an accepted push is stored
once, and sent again changes nothing; a push WeChat could have sent is never refused."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wechatpy.crypto import PrpCrypto

from tests import wechat_support as wx
from yimatong.investment.models import Lead, LeadEvent, LeadSource
from yimatong.notifications.models import Notification
from yimatong.wechat import protocol, push
from yimatong.wechat.models import Follower, InboundMessage, OutboundMessage, QrCode

pytestmark = pytest.mark.usefixtures("on_commit_runs")

STORED = (InboundMessage, Follower, OutboundMessage, Lead, LeadSource, LeadEvent, Notification)
FUZZ = settings(
    max_examples=150,
    derandomize=True,  # the same cases on every machine: the run below counts both outcomes
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_nonces = itertools.count()

# Characters XML allows (no controls, surrogates or the two non-characters), and anything.
xml_chars = st.characters(
    codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters="\ufffe\uffff"
) | st.sampled_from("\t\n")
xml_text = st.text(xml_chars, max_size=40)
any_text = st.text(st.characters(codec="utf-8"), max_size=40)
# Long values around the columns' limits, in one-, two- and three-byte characters.
long_text = st.builds(lambda c, n: c * n, st.sampled_from(["o", "é", "中", "İ"]), st.integers(0, 260))
value = st.one_of(xml_text, long_text, any_text)

SHAPES = ("text", "text", "text", "cdata", "cdata", "nested", "attribute", "repeated", "empty", "absent")


def xml_legal(text: str) -> bool:
    return all(
        c in "\t\n\r" or (c >= " " and not 0xD800 <= ord(c) <= 0xDFFF and c not in "\ufffe\uffff")
        for c in text
    )


@dataclass
class Field:
    name: str
    value: str
    shape: str

    def xml(self) -> str:
        escaped = self.value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        cdata = "<![CDATA[" + self.value.replace("]]>", "]]]]><![CDATA[>") + "]]>"
        return {
            "text": f"<{self.name}>{escaped}</{self.name}>",
            "cdata": f"<{self.name}>{cdata}</{self.name}>",
            "nested": f"<{self.name}><v>{escaped}</v></{self.name}>",
            "attribute": f'<{self.name} lang="zh">{escaped}</{self.name}>',
            "repeated": f"<{self.name}>{escaped}</{self.name}>" * 2,
            "empty": f"<{self.name}/>",
            "absent": "",
        }[self.shape]

    def stored_as(self) -> str | None:
        """The text the parser gives for it, or None when the callback cannot read it as text."""
        if self.shape == "absent" or self.shape == "empty":
            return ""
        if self.shape not in ("text", "cdata") or not xml_legal(self.value):
            return None
        return self.value.replace("\r\n", "\n").replace("\r", "\n").strip()


@st.composite
def pushes(draw: st.DrawFn) -> list[Field]:
    """The fields of a push: half of them in the shapes WeChat sends, the others in any shape."""
    hostile = draw(st.booleans())
    shapes = st.sampled_from(SHAPES if hostile else ("text", "cdata"))
    values = value if hostile else (xml_text | long_text)

    def field(name: str, typical: st.SearchStrategy[str]) -> Field:
        return Field(name, draw(typical | values), draw(shapes))

    fields = [
        field("ToUserName", st.just("gh_park")),
        field("FromUserName", st.from_regex(r"o[A-Za-z0-9_-]{27}", fullmatch=True)),
        field("CreateTime", st.integers(-(10**12), 10**13).map(str)),
        field("MsgType", st.sampled_from(["text", "event", "image", "location", "link", "miniprogrampage"])),
    ]
    if fields[-1].value == "event":
        fields.append(field("Event", st.sampled_from(["subscribe", "SCAN", "unsubscribe", "CLICK", "VIEW"])))
        fields.append(field("EventKey", st.sampled_from(["qrscene_fuzz-expo", "fuzz-expo", "CONTACT"])))
    else:
        fields.append(field("MsgId", st.integers(1, 2**64).map(str)))
    optional = st.sampled_from(
        ["Content", "UnionId", "Label", "Title", "Url", "Recognition", "ScanCodeInfo", "Other"]
    )
    for name in draw(st.lists(optional, max_size=3, unique=True)):
        fields.append(field(name, xml_text))
    return fields


def could_come_from_wechat(fields: list[Field]) -> bool:
    """Every field the callback reads is text within its column, and the required ones are there."""
    read = {f.name: f.stored_as() for f in fields if f.name in push.LIMITS}
    if any(text is None for text in read.values()):
        return False
    if not read.get("FromUserName") or not read.get("MsgType"):
        return False
    for name, text in read.items():
        limit = push.LIMITS[name]
        if limit is not None and len(push.NORMALISED.get(name, str)(text)) > limit:
            return False
    return True


@st.composite
def bodies(draw: st.DrawFn) -> tuple[bytes, bool]:
    """The push's bytes, and whether WeChat could have sent them."""
    fields = draw(pushes())
    xml = "<xml>" + "".join(f.xml() for f in fields) + "</xml>"
    encoding = draw(st.sampled_from(["utf-8"] * 6 + ["utf-8-sig", "utf-16", "gbk", "latin-1"]))
    body = xml.encode(encoding, errors="replace")
    plausible = could_come_from_wechat(fields) and body in (xml.encode("utf-8"), xml.encode("utf-8-sig"))
    if draw(st.integers(0, 19)) == 0:  # a stray byte somewhere
        at = draw(st.integers(0, len(body)))
        body = body[:at] + bytes([draw(st.integers(0, 255))]) + body[at:]
        plausible = False
    return body, plausible


def signed_post(client, account, body: bytes, *, encrypted: bool):
    timestamp, nonce = "1700000000", f"fuzz{next(_nonces)}"
    query = {"signature": wx.sign(account.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
    if encrypted:
        ciphertext = PrpCrypto(protocol._aes_key(account.encoding_aes_key)).encrypt(body, account.appid)
        ciphertext = ciphertext.decode("ascii")
        query.update(encrypt_type="aes", msg_signature=wx.sign(account.token, timestamp, nonce, ciphertext))
        body = f"<xml><ToUserName><![CDATA[gh_park]]></ToUserName><Encrypt><![CDATA[{ciphertext}]]></Encrypt></xml>".encode()
    return client.post(f"{account.callback_path()}?{urlencode(query)}", data=body, content_type="text/xml")


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in STORED}


@pytest.fixture
def fuzz_accounts(wechat_offline, wechat_accounts):
    safe, plain = wechat_accounts
    for account in (safe, plain):
        QrCode.objects.create(
            account=account,
            name="展会",
            scene=f"fuzz-expo{'' if account is safe else '-en'}",
            is_permanent=True,
            url="u",
        )
    return wechat_accounts


def check_push(client, account, body: bytes, plausible: bool, *, encrypted: bool) -> str:
    """Post the push (twice when accepted) in a savepoint rolled back afterwards; the outcome."""
    with transaction.atomic():
        before = counts()
        response = signed_post(client, account, body, encrypted=encrypted)
        assert response.status_code in (200, 400), response.status_code
        after = counts()
        if response.status_code == 400:
            assert not plausible, body
            assert after == before
            outcome = "refused"
        else:
            assert after["InboundMessage"] == before["InboundMessage"] + 1
            message = InboundMessage.objects.select_related("follower").latest("pk")
            follower = message.follower
            assert isinstance(follower.openid, str) and follower.openid == message.data["FromUserName"]
            wx.reply_text(account, response)  # a passive reply, when there is one, is well-formed
            again = signed_post(client, account, body, encrypted=encrypted)
            assert again.status_code == 200 and again.content == b"success"
            assert counts() == after
            outcome = "accepted"
        transaction.set_rollback(True)
    return outcome


@pytest.mark.parametrize("mode", ["plain", "encrypted"])
def test_signed_pushes_of_any_shape_are_stored_once_or_refused_without_a_trace(client, fuzz_accounts, mode):
    safe, plain = fuzz_accounts
    account, encrypted = (safe, True) if mode == "encrypted" else (plain, False)
    outcomes: list[str] = []

    @FUZZ
    @given(bodies())
    def run(case: tuple[bytes, bool]) -> None:
        body, plausible = case
        outcomes.append(check_push(client, account, body, plausible, encrypted=encrypted))

    run()
    # The fuzz reaches both sides of the gate.
    assert outcomes.count("accepted") >= 10 and outcomes.count("refused") >= 10, outcomes
