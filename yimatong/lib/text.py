"""Chinese text helpers: pinyin for search by initials, and company-name normalization."""

from __future__ import annotations

import json
import os
import re
import sys
import unicodedata
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

_PHRASES_JSON = Path(find_spec("pypinyin").origin).with_name("phrases_dict.json")  # type: ignore[arg-type]


def _compact_phrases(path: Path = _PHRASES_JSON) -> dict[str, list[list[str]]]:
    """pypinyin's phrase dictionary (47,000 words and their readings), read entry by entry with
    the readings shared: the ~1,250 distinct ``["zhòng"]`` lists are one object each instead of
    one per character of every word. pypinyin copies a phrase's readings before it uses them
    (``deepcopy`` in its converter), so sharing is safe. In each app server this takes 12 MiB
    instead of the 36 MiB of pypinyin's own ``json.loads`` and copy, memory the issue's 200 MiB
    per worker counts in every worker."""
    text = path.read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    key = re.compile(r'[\s,]*"((?:[^"\\]|\\.)*)"\s*:\s*')
    readings: dict[tuple[str, ...], list[str]] = {}
    phrases: dict[str, list[list[str]]] = {}
    at = text.index("{") + 1
    while match := key.match(text, at):
        value, at = decoder.raw_decode(text, match.end())
        word = json.loads(f'"{match.group(1)}"')
        phrases[word] = [readings.setdefault(tuple(r), r) for r in value]
    if text[at:].strip(" \t\r\n,") != "}":
        raise ValueError(f"{path}: not a JSON object of phrases at offset {at}")
    return phrases


def _import_pypinyin() -> Any:
    """pypinyin with its phrases loaded by ``_compact_phrases`` (its own loading is switched off
    by its documented environment variables while it is imported)."""
    if "pypinyin" in sys.modules:  # imported before this module: its own dictionary is in place
        import pypinyin

        return pypinyin
    names = ("PYPINYIN_NO_PHRASES", "PYPINYIN_NO_DICT_COPY")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(dict.fromkeys(names, "1"))
    try:
        import pypinyin
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    pypinyin.load_phrases_dict(_compact_phrases())
    return pypinyin


_import_pypinyin()

from pypinyin import Style, lazy_pinyin  # noqa: E402  (after the phrases are loaded)
from pypinyin.constants import RE_HANS  # noqa: E402
from pypinyin.core import Pinyin  # noqa: E402

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_SEGMENTER = Pinyin()
_HANS = re.compile(RE_HANS.pattern.lstrip("^").removesuffix("$"))
_RUNS = re.compile(f"{_HANS.pattern}|(?:(?!{_HANS.pattern}).)+", re.DOTALL)


@lru_cache(maxsize=50_000)
def _word_pinyin(word: str, style: Style) -> tuple[str, ...]:
    return tuple(lazy_pinyin(word, style=style))


@lru_cache(maxsize=50_000)
def _hans_pinyin(run: str, style: Style) -> str:
    """A run of Chinese characters, segmented into the words of pypinyin's phrase dictionary
    (重庆, 有限公司 …) and single characters, each word converted on its own so that the words'
    readings are kept."""
    return "".join(part for word in _SEGMENTER.seg(run) for part in _word_pinyin(word, style))


def _pinyin(text: str, style: Style) -> str:
    """``lazy_pinyin`` joined. pypinyin splits a text into runs of Chinese characters and runs
    of anything else (kept as they are) before it segments the Chinese runs; the same split is
    done here so that each Chinese run is segmented once for all the names that share it (a
    ledger import converts 100,000 names: 基准导入00001生物科技有限公司 and its neighbours share
    基准导入 and 生物科技有限公司)."""
    return "".join(_hans_pinyin(run, style) if _HANS.match(run) else run for run in _RUNS.findall(text))


def pinyin_initials(text: str) -> str:
    """zxjt for 智翔金泰; latin letters and digits are kept (ADC药物 -> adcyw)."""
    return _NON_ALNUM.sub("", _pinyin(text or "", Style.FIRST_LETTER).lower())


def pinyin_full(text: str) -> str:
    """zhixiangjintai for 智翔金泰 (no tones, no spaces)."""
    return _NON_ALNUM.sub("", _pinyin(text or "", Style.NORMAL).lower())


# Legal-form suffixes, longest first so 股份有限公司 goes before 有限公司.
_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "有限公司",
    "股份公司",
    "集团公司",
    "集团",
    "合伙企业(有限合伙)",
    "(有限合伙)",
    "有限合伙",
    "分公司",
    "公司",
    "股份",
    "研究院",
    "研究所",
)
# Place names that prefix a company name without telling two companies apart.
_PLACES = (
    "中华人民共和国",
    "中国",
    "重庆市",
    "重庆",
    "巴南区",
    "巴南",
    "北京市",
    "北京",
    "上海市",
    "上海",
    "天津市",
    "天津",
    "四川省",
    "四川",
    "成都市",
    "成都",
    "广东省",
    "广东",
    "深圳市",
    "深圳",
    "广州市",
    "广州",
    "江苏省",
    "江苏",
    "苏州市",
    "苏州",
    "南京市",
    "南京",
    "浙江省",
    "浙江",
    "杭州市",
    "杭州",
    "湖北省",
    "湖北",
    "武汉市",
    "武汉",
    "山东省",
    "山东",
    "香港",
    "澳门",
    "台湾",
)
_PARENTHESIZED = re.compile(r"\([^()]*\)")


def normalize_org_name(name: str) -> str:
    """A key under which names of the same company collide.

    重庆智翔金泰生物制药股份有限公司, 智翔金泰（重庆）生物制药有限公司 and
    智翔金泰生物制药 all become 智翔金泰生物制药. Full-width characters are folded
    (NFKC), bracketed parts removed, then legal forms and leading place names, until nothing
    more comes off (so normalizing a normalized name changes nothing).
    """
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name or "").lower())
    previous = None
    while text != previous:
        previous = text
        text = _PARENTHESIZED.sub("", text) or text
        for suffix in _SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                break
        for place in _PLACES:
            if text.startswith(place) and len(text) > len(place) + 1:
                text = text[len(place) :]
                break
    return text
