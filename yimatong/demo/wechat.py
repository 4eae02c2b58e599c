"""The demo park's WeChat side: a Chinese official account in safe mode and an English one in
plain mode, keyword and menu replies, the portal's park introduction and policy pages, channel
codes (created through the QR API of a fake WeChat started for the load), and a few investors'
conversations received through the same code path as the callback.

Loading twice adds nothing: accounts, articles and codes are found by their keys, and the
conversations' pushes carry fixed message ids that the callback's de-duplication recognises.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.conf import settings
from django.utils import timezone

from yimatong.accounts.models import User
from yimatong.directory.models import ChainNode
from yimatong.wechat import actions
from yimatong.wechat.client import ParkClient
from yimatong.wechat.models import KeywordReply, OfficialAccount, OutboundMessage, PortalArticle, QrCode

TEMPLATES = {
    "visit_confirmed": "DEMO-TPL-VISIT-CONFIRMED",
    "meeting_scheduled": "DEMO-TPL-MEETING",
    "registered": "DEMO-TPL-REGISTERED",
    "reply": "DEMO-TPL-REPLY",
    "policy_match": "DEMO-TPL-POLICY",
    "report_due": "DEMO-TPL-REPORT",
}

ACCOUNTS = [
    {
        "slug": "park-cn",
        "name": "重庆国际生物城",
        "appid": "wxdemo0000biocity",
        "mode": OfficialAccount.Mode.SAFE,
        "language": OfficialAccount.Language.ZH,
        "welcome_text": "欢迎关注重庆国际生物城！我们聚焦生物药、化学药、现代中药、医疗器械，"
        "为投资者提供从考察到投产的全程服务。直接留言即可咨询，招商专员会尽快回复。",
        "default_reply": "已收到您的留言，招商专员会尽快回复（工作日 9:00–17:30）。",
    },
    {
        "slug": "park-en",
        "name": "Chongqing International Bio-City",
        "appid": "wxdemo000biocityen",
        "mode": OfficialAccount.Mode.PLAIN,
        "language": OfficialAccount.Language.EN,
        "welcome_text": "Welcome to Chongqing International Bio-City: biologics, chemical drugs, modern TCM "
        "and medical devices, with one team from your first visit to production. Leave us a message.",
        "default_reply": "Thank you, an investment manager will answer shortly (working days 9:00–17:30, UTC+8).",
    },
]

KEYWORDS = {
    "park-cn": [
        ("keyword", "政策", "生物城投资支持政策（用地、厂房、研发、人才）请看：", "policies"),
        ("keyword", "考察", "欢迎来园考察！请在此预约时间，招商专员会与您确认：", "visit"),
        ("keyword", "联系", "招商热线：023-6516 0000（工作日 9:00–17:30），或直接留言。", ""),
        ("click", "政策", "生物城投资支持政策：", "policies"),
        ("click", "考察", "预约来园考察：", "visit"),
        ("click", "联系", "招商热线：023-6516 0000（工作日 9:00–17:30），或直接留言。", ""),
    ],
    "park-en": [
        ("keyword", "policy", "Investment support (land, plants, R&D, talent):", "policies"),
        ("keyword", "visit", "Book a site visit here and we will confirm it:", "visit"),
        ("click", "Policies", "Investment support:", "policies"),
        ("click", "Visit", "Book a site visit:", "visit"),
    ],
}

ARTICLES = [
    {
        "slug": "park",
        "kind": PortalArticle.Kind.PARK,
        "title": "重庆国际生物城",
        "title_en": "Chongqing International Bio-City",
        "summary": "位于重庆巴南区的生物医药产业园，构建“1+3+N”产业体系：以生物药为核心，化学药、现代中药、"
        "医疗器械为特色，配套 CRO/CDMO、P3 实验室、冷链物流等公共服务平台。",
        "summary_en": "A biomedical industrial park in Banan, Chongqing, built around a 1+3+N system: biologics at "
        "the core; chemical drugs, modern TCM and medical devices as features; shared platforms (CRO/CDMO, "
        "a BSL-3 laboratory, cold-chain logistics) in support.",
        "body": "生物城提供标准厂房、定制厂房和产业用地，配套药品检验检测、药物安全评价、P3 实验室、"
        "医药冷链等公共服务平台。招商局为每个项目配备招商专员，从考察、洽谈、签约到注册落地、开工投产全程服务；"
        "项目落地后由企业服务中心受理诉求、推送政策。",
        "body_en": "The park offers standard and built-to-suit plants and industrial land, with shared platforms "
        "for testing, drug safety evaluation, a BSL-3 laboratory and pharmaceutical cold chain. The investment "
        "bureau assigns each project an investment manager from the first visit through signing, registration, "
        "construction and production; after landing, the enterprise service centre handles requests and policies.",
        "issuer": "",
        "position": 1,
    },
    {
        "slug": "plant-rent",
        "kind": PortalArticle.Kind.POLICY,
        "title": "标准厂房租金支持",
        "title_en": "Support for standard plant rent",
        "summary": "新落户的生物医药制造项目租用园区标准厂房，可按协议约定享受租金减免或补贴。",
        "summary_en": "New biomedical manufacturing projects renting the park's standard plants may receive rent "
        "relief or subsidies as set out in their agreement.",
        "body": "适用对象：新签约落户、从事生物医药制造的企业。\n支持方式：按投资协议约定的期限和比例给予租金减免或补贴。\n"
        "申请材料：投资协议、租赁合同、营业执照。具体条件以投资协议和有权机关的正式文件为准，请咨询招商专员。",
        "body_en": "For: newly signed biomedical manufacturers.\nHow: rent relief or a subsidy for the period and "
        "share set in the investment agreement.\nDocuments: the agreement, the lease, the business licence. The "
        "agreement and official documents govern; ask your investment manager.",
        "issuer": "重庆国际生物城管委会（示例）",
        "position": 10,
    },
    {
        "slug": "rd-reward",
        "kind": PortalArticle.Kind.POLICY,
        "title": "研发投入与创新药奖励",
        "title_en": "R&D and innovative-drug rewards",
        "summary": "对取得临床批件、注册证书的创新药和医疗器械，以及研发投入达到一定比例的企业给予奖励。",
        "summary_en": "Rewards for innovative drugs and devices reaching clinical approval or registration, and for "
        "firms whose R&D spending reaches a set share of revenue.",
        "body": "适用对象：园区注册、纳税的生物医药企业。\n支持方式：按取得的临床批件、注册证书类别和研发投入占比分档奖励。\n"
        "本页为演示内容，实际标准以正式政策文件为准。",
        "body_en": "For: biomedical firms registered and paying tax in the park.\nHow: tiered rewards by the "
        "approval obtained and the R&D share. Demo content; the official documents govern.",
        "issuer": "重庆国际生物城管委会（示例）",
        "position": 20,
    },
    {
        "slug": "talent",
        "kind": PortalArticle.Kind.POLICY,
        "title": "人才安居与团队支持",
        "title_en": "Talent housing and team support",
        "summary": "引进的高层次人才和核心团队可申请人才公寓、安家补贴，子女入学和医疗保障一站式办理。",
        "summary_en": "High-level talent and core teams may apply for talent apartments and settling-in support, with "
        "schooling and healthcare arranged in one place.",
        "body": "适用对象：园区企业引进的高层次人才及核心团队。\n支持方式：人才公寓、安家补贴、子女入学、医疗保障绿色通道。\n"
        "本页为演示内容，实际标准以正式政策文件为准。",
        "body_en": "For: high-level talent and core teams hired by park firms.\nHow: talent apartments, settling-in "
        "support, schooling and healthcare fast lanes. Demo content; the official documents govern.",
        "issuer": "重庆国际生物城管委会（示例）",
        "position": 30,
    },
]

# name, purpose, scene, permanent, days, caption, extra (promoter username / chain code / event)
CODES = [
    (
        "2026 中国生物医药大会展台",
        "event",
        "expo-cbio-2026",
        False,
        30,
        "扫码关注 · 预约来园考察",
        {"event_name": "2026 中国生物医药大会"},
    ),
    ("招商手册封底", "brochure", "brochure-2026", True, 0, "重庆国际生物城 · 招商一码通", {}),
    ("张专员名片", "promoter", "promoter-zhang", True, 0, "招商专员 张明", {"promoter": "promoter"}),
    ("抗体与 ADC 专题推介", "chain", "chain-adc", True, 0, "抗体药物 · ADC 产业招商", {"chain_node": "adc"}),
    ("官网首页", "channel", "website", True, 0, "关注重庆国际生物城", {}),
    (
        "English brochure",
        "brochure",
        "brochure-en",
        True,
        0,
        "Chongqing International Bio-City",
        {"account": "park-en"},
    ),
]

# Investors' conversations: (openid, account, scene or "", [(minutes ago, text)], staff reply or "")
CONVERSATIONS = [
    (
        "o_demo_expo_visitor1",
        "park-cn",
        "expo-cbio-2026",
        [(180, "您好，我们做 ADC 偶联工艺，想了解园区的 GMP 厂房和租金。")],
        "您好！ADC 项目我们有专门的洁净厂房，方便的话下周来园考察？",
    ),
    (
        "o_demo_brochure_reader",
        "park-cn",
        "brochure-2026",
        [(60 * 26, "请问 P3 实验室可以对外提供服务吗？")],
        "",
    ),
    (
        "o_demo_card_holder",
        "park-cn",
        "promoter-zhang",
        [(45, "张经理好，上次聊的细胞治疗项目，我们想约个时间再来看看。")],
        "",
    ),
    (
        "o_demo_en_investor",
        "park-en",
        "brochure-en",
        [(300, "Hello, we are a Singapore CDMO looking at western China. What land is available?")],
        "",
    ),
]


def _key(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def load_wechat(*, users: dict[str, User], nodes: dict[str, ChainNode], report: Any) -> None:
    accounts = {spec["slug"]: _account(spec, report) for spec in ACCOUNTS}
    for slug, rules in KEYWORDS.items():
        for position, (trigger, keyword, reply, page) in enumerate(rules):
            _, created = KeywordReply.objects.get_or_create(
                account=accounts[slug],
                trigger=trigger,
                keyword=keyword,
                defaults={"reply": reply, "portal_page": page, "priority": position},
            )
            report.count("created" if created else "unchanged")
    for spec in ARTICLES:
        _, created = PortalArticle.objects.get_or_create(slug=spec["slug"], defaults=spec)
        report.count("created" if created else "unchanged")
    _codes(accounts, users, nodes, report)
    _conversations(accounts, users, report)


def _account(spec: dict[str, Any], report: Any) -> OfficialAccount:
    account = OfficialAccount.objects.filter(slug=spec["slug"]).first()
    if account is not None:
        report.count("unchanged")
        return account
    digest = _key("demo-account", spec["slug"])
    account = OfficialAccount.objects.create(
        secret=digest[:32],
        token=digest[32:48],
        encoding_aes_key=(digest + digest)[:43] if spec["mode"] != OfficialAccount.Mode.PLAIN else "",
        templates=TEMPLATES,
        **spec,
    )
    report.count("created")
    return account


def _codes(
    accounts: dict[str, OfficialAccount], users: dict[str, User], nodes: dict[str, ChainNode], report: Any
) -> None:
    """Codes go through the real QR API, answered by a fake WeChat started for the load."""
    missing = [spec for spec in CODES if not QrCode.objects.filter(scene=spec[2]).exists()]
    report.unchanged += len(CODES) - len(missing)
    if not missing:
        return
    from yimatong.wechat.fake import FakeWeChat
    from yimatong.wechat.provider import fake_account

    # The codes' content points at the demo's own fake server (make demo runs it at that address).
    loopback = settings.WECHAT_API_BASE_URL.startswith(("http://127.0.0.1", "http://localhost"))
    with FakeWeChat(public_url=settings.WECHAT_API_BASE_URL if loopback else None) as fake:
        for account in accounts.values():
            fake.add_account(fake_account(account, base_url="http://127.0.0.1:8000"))
        for name, purpose, scene, permanent, days, caption, extra in missing:
            account = accounts[extra.get("account", "park-cn")]
            actions.create_code(
                actor=users["admin"],
                data={
                    "account": account,
                    "name": name,
                    "purpose": purpose,
                    "scene": scene,
                    "is_permanent": permanent,
                    "days": days or None,
                    "caption": caption,
                    "event_name": extra.get("event_name", ""),
                    "promoter": users[extra["promoter"]] if "promoter" in extra else None,
                    "chain_node": nodes[extra["chain_node"]] if "chain_node" in extra else None,
                },
                client=ParkClient(account, base_url=fake.base_url),
            )
            report.count("created")
        # The load's token belonged to this short-lived fake: the next process fetches its own.
        from yimatong.wechat.client import token_store

        for account in accounts.values():
            token_store().clear(account)


def _conversations(accounts: dict[str, OfficialAccount], users: dict[str, User], report: Any) -> None:
    now = timezone.now()
    for openid, slug, scene, messages, reply in CONVERSATIONS:
        account = accounts[slug]
        base = 1_700_000_000 + int(_key(openid)[:8], 16) % 10_000_000
        first = max(minutes for minutes, _text in messages) + 5
        subscribe_at = now - dt.timedelta(minutes=first)
        pushes = [
            (
                subscribe_at,
                {
                    "ToUserName": "gh_demo",
                    "FromUserName": openid,
                    "CreateTime": str(base),
                    "MsgType": "event",
                    "Event": "subscribe",
                    "EventKey": f"qrscene_{scene}" if scene else "",
                },
            )
        ]
        for index, (minutes, text) in enumerate(messages):
            pushes.append(
                (
                    now - dt.timedelta(minutes=minutes),
                    {
                        "ToUserName": "gh_demo",
                        "FromUserName": openid,
                        "CreateTime": str(base + index + 1),
                        "MsgType": "text",
                        "Content": text,
                        "MsgId": str(base * 10 + index),
                    },
                )
            )
        for at, fields in pushes:
            received = actions.receive(account, fields, now=at)
            if received.message is None:
                report.count("unchanged")
                continue
            actions.process_inbound(received.message.pk, now=at, backfill=False)
            report.count("created")
        follower = account.followers.get(openid=openid)
        if reply and not follower.outbound.filter(kind=OutboundMessage.Kind.CUSTOM).exists():
            # A reply from before this demo's fake WeChat existed: recorded as delivered.
            sender = follower.assigned_to or users["promoter"]
            OutboundMessage.objects.create(
                follower=follower,
                kind=OutboundMessage.Kind.CUSTOM,
                purpose="reply",
                text=reply,
                sender=sender,
                status=OutboundMessage.Status.SENT,
                sent_at=now - dt.timedelta(minutes=150),
                attempts=[{"at": (now - dt.timedelta(minutes=150)).isoformat(), "errcode": 0}],
            )
            account.followers.filter(pk=follower.pk).update(staff_read_at=now - dt.timedelta(minutes=150))
