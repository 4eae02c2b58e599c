"""A fake WeChat on loopback for tests, benchmarks and the demo (no Django needed).

>>> fake = FakeWeChat().start()
>>> fake.add_account(FakeAccount(appid="wx0123456789abcdef", secret="s", token="t"))
"""

from yimatong.wechat.fake.server import (
    ApiError,
    FakeAccount,
    FakeWeChat,
    PushResult,
    decode_ticket,
    encode_ticket,
    read_reply,
    sign,
    to_xml,
)

__all__ = [
    "ApiError",
    "FakeAccount",
    "FakeWeChat",
    "PushResult",
    "decode_ticket",
    "encode_ticket",
    "read_reply",
    "sign",
    "to_xml",
]
