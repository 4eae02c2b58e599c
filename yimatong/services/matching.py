"""Policy eligibility as a tree of conditions over facts about an enterprise, evaluated in three
states: met, unmet, unknown (the profile lacks the fact). No user text is ever evaluated as code:
a tree is data, checked against the catalogue of facts and operators below.

A tree is ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": node}`` or a leaf
``{"fact": "rd_ratio", "op": ">=", "value": 5}``. A tiered leaf picks its threshold by a band of
another fact: ``{"fact": "rd_ratio", "op": ">=", "by": "revenue", "tiers": [[0, 5], [5000, 4],
[20000, 3]]}`` (R&D ≥ 5% under 5,000万元 of revenue, ≥ 4% from 5,000万, ≥ 3% from 2亿).
"""

from __future__ import annotations

import bisect
import json
import operator
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MET, UNMET, UNKNOWN = "met", "unmet", "unknown"

# fact: (label, kind, unit)
FACTS: dict[str, tuple[Any, str, str]] = {
    "chain_node": (gettext_lazy("产业链环节"), "chain", ""),
    "industry_code": (gettext_lazy("国民经济行业代码"), "text", ""),
    "district": (gettext_lazy("所在区县代码"), "text", ""),
    "years_registered": (gettext_lazy("成立年限"), "number", gettext_lazy("年")),
    "registered_capital": (gettext_lazy("注册资本"), "number", gettext_lazy("万元")),
    "revenue": (gettext_lazy("上年营业收入"), "number", gettext_lazy("万元")),
    "rd_ratio": (gettext_lazy("研发投入占比"), "number", "%"),
    "employees": (gettext_lazy("从业人数"), "number", gettext_lazy("人")),
    "patents_invention": (gettext_lazy("发明专利"), "number", gettext_lazy("件")),
    "patents_utility": (gettext_lazy("实用新型专利"), "number", gettext_lazy("件")),
    "patents_design": (gettext_lazy("外观设计专利"), "number", gettext_lazy("件")),
    "patent_score": (gettext_lazy("专利加权分（发明 5、实用新型 2、外观 1）"), "number", gettext_lazy("分")),
    "certifications": (gettext_lazy("资质认定"), "set", ""),
    "is_above_scale": (gettext_lazy("规上企业"), "bool", ""),
}
OPERATORS = {
    "number": {">=", ">", "<=", "<", "=="},
    "text": {"prefix", "in", "=="},
    "chain": {"within"},
    "set": {"has"},
    "bool": {"is"},
}
CERTIFICATIONS = {
    "high_tech": gettext_lazy("高新技术企业"),
    "specialized": gettext_lazy("专精特新"),
    "tech_sme": gettext_lazy("科技型中小企业"),
}
MAX_DEPTH = 6
MAX_LEAVES = 40


class TreeError(ValueError):
    """The tree is not valid; ``errors`` says where and why, in the user's language."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


def validate(tree: Any) -> list[str]:
    """Every problem with a tree, as messages naming the node ("条件 1.2：…")."""
    errors: list[str] = []
    leaves = [0]

    def walk(node: Any, where: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            errors.append(_("%(where)s：嵌套超过 %(n)s 层。") % {"where": where, "n": MAX_DEPTH})
            return
        if not isinstance(node, dict) or len(node) == 0:
            errors.append(_("%(where)s：应为一个条件或条件组。") % {"where": where})
            return
        if "all" in node or "any" in node:
            key = "all" if "all" in node else "any"
            children = node[key]
            if set(node) != {key} or not isinstance(children, list) or not children:
                errors.append(_("%(where)s：条件组须包含至少一个条件。") % {"where": where})
                return
            for index, child in enumerate(children, 1):
                walk(child, f"{where}.{index}", depth + 1)
            return
        if "not" in node:
            if set(node) != {"not"}:
                errors.append(_("%(where)s：“非”只能包含一个条件。") % {"where": where})
                return
            walk(node["not"], f"{where}.1", depth + 1)
            return
        leaves[0] += 1
        fact, op = node.get("fact"), node.get("op")
        if fact not in FACTS:
            errors.append(_("%(where)s：没有“%(fact)s”这项企业信息。") % {"where": where, "fact": fact})
            return
        kind = FACTS[fact][1]
        if op not in OPERATORS[kind]:
            errors.append(
                _("%(where)s：“%(fact)s”不能用“%(op)s”比较。")
                % {"where": where, "fact": FACTS[fact][0], "op": op}
            )
            return
        if "tiers" in node:
            if kind != "number" or node.get("by") not in FACTS or FACTS[node["by"]][1] != "number":
                errors.append(_("%(where)s：分档条件须按数值类信息分档。") % {"where": where})
                return
            tiers = node["tiers"]
            if (
                not isinstance(tiers, list)
                or not tiers
                or not all(
                    isinstance(t, list) and len(t) == 2 and all(_is_number(x) for x in t) for t in tiers
                )
            ):
                errors.append(_("%(where)s：分档应为 [下限, 门槛] 的列表。") % {"where": where})
            elif len({Decimal(str(t[0])) for t in tiers}) != len(tiers):
                errors.append(_("%(where)s：分档的下限不能重复。") % {"where": where})
            return
        value = node.get("value")
        if kind == "number":
            ok = _is_number(value)
        elif kind == "text" and op == "in":
            ok = isinstance(value, list) and bool(value) and all(isinstance(v, str) and v for v in value)
        elif kind in ("text", "chain"):
            ok = isinstance(value, str) and value != ""
        elif kind == "set":
            ok = isinstance(value, str) and value in CERTIFICATIONS
        else:
            ok = isinstance(value, bool)
        if not ok:
            errors.append(_("%(where)s：“%(fact)s”的取值无效。") % {"where": where, "fact": FACTS[fact][0]})

    walk(tree, _("条件"), 1)
    if leaves[0] > MAX_LEAVES:
        errors.append(_("条件过多（最多 %(n)s 条）。") % {"n": MAX_LEAVES})
    return errors


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


@dataclass
class Outcome:
    status: str
    met: int = 0
    leaves: int = 0
    missing: list[str] = field(default_factory=list)  # unmet leaves, "差：…"
    unknown: list[str] = field(default_factory=list)  # leaves whose fact is not known

    @property
    def pass_rate(self) -> float:
        return round(self.met * 100 / self.leaves, 1) if self.leaves else 100.0

    @property
    def near_miss(self) -> bool:
        """One condition short: unmet, with exactly one unmet condition and nothing unknown."""
        return self.status == UNMET and len(self.missing) == 1 and not self.unknown


def evaluate(
    tree: dict[str, Any], facts: dict[str, Any], chain_paths: dict[str, set[str]] | None = None
) -> Outcome:
    """Kleene three-valued logic: ``all`` is unmet if any child is unmet, else unknown if any is
    unknown; ``any`` is met if any child is met, else unknown if any is unknown; ``not`` swaps
    met and unmet. Every leaf is counted (no short cut), so the pass rate and the list of what is
    missing cover the whole tree."""
    return Compiled(tree, chain_paths).outcome(prepare(facts))


NUMBER_FACTS = tuple(name for name, (_label, kind, _unit) in FACTS.items() if kind == "number")
FLIP = {MET: UNMET, UNMET: MET, UNKNOWN: UNKNOWN}
COMPARE = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}


def prepare(facts: dict[str, Any]) -> dict[str, Any]:
    """The facts with every number as a Decimal, converted once per enterprise rather than once
    per condition (a float is read through its shortest text, as the user wrote it)."""
    prepared = dict(facts)
    for name in NUMBER_FACTS:
        value = prepared.get(name)
        if value is not None and not isinstance(value, (Decimal, int)):
            prepared[name] = Decimal(str(value))
    return prepared


_COMPILED: dict[tuple[str, str, str], Compiled] = {}
_COMPILED_MAX = 5000


def paths_key(chain_paths: dict[str, set[str]]) -> str:
    return json.dumps(sorted((code, sorted(codes)) for code, codes in chain_paths.items()))


def compiled(
    tree: dict[str, Any] | str,
    chain_paths: dict[str, set[str]],
    *,
    chain_key: str | None = None,
    language: str | None = None,
) -> Compiled:
    """A tree compiled once per process (per language and chain): matching one enterprise
    against every policy, after a profile change, then costs the evaluation alone.
    ``chain_key`` is ``paths_key(chain_paths)`` and ``language`` the active language, both
    computed once by a caller compiling many.
    ``tree`` may be its JSON text as the database holds it: then it is decoded only the
    first time (two spellings of one tree are merely compiled twice)."""
    key = (
        language if language is not None else translation.get_language() or "",
        chain_key if chain_key is not None else paths_key(chain_paths),
        tree if isinstance(tree, str) else json.dumps(tree, sort_keys=True, default=str),
    )
    found = _COMPILED.get(key)
    if found is None:
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.clear()
        found = _COMPILED[key] = Compiled(json.loads(tree) if isinstance(tree, str) else tree, chain_paths)
    return found


class Compiled:
    """A validated tree turned once into closures, for evaluating it against many enterprises.

    ``status(facts)`` is the fast path (no text): the Kleene result and how many conditions are
    met, unmet and unknown; ``outcome(facts)`` adds the texts ("差：…", "未知：…"), written from
    phrases translated once here, in the language active when the tree is compiled. Both take
    facts through :func:`prepare`."""

    def __init__(self, tree: dict[str, Any], chain_paths: dict[str, set[str]] | None = None):
        self.tree = tree
        self.paths = chain_paths or {}
        self.leaves: list[tuple[Any, Any, bool]] = []  # (check, describe, negated) in tree order
        self.phrases = {
            "short": _("差：%(wanted)s，当前 %(now)s"),
            "short_plain": _("差：%(wanted)s"),
            "not": _("（不应满足）%(text)s"),
            "unit": _("%(number)s%(unit)s"),
        }
        self._run = self._build(tree, False)

    @cached_property
    def chain_key(self) -> str:
        return paths_key(self.paths)

    def status(self, facts: dict[str, Any]) -> tuple[str, int, int, int]:
        counts = {MET: 0, UNMET: 0, UNKNOWN: 0}
        result = self._run(facts, counts)
        return result, counts[MET], counts[UNMET], counts[UNKNOWN]

    def outcome(self, facts: dict[str, Any]) -> Outcome:
        status, met, _unmet, _unknown = self.status(facts)
        outcome = Outcome(status, met=met, leaves=len(self.leaves))
        if _unmet or _unknown:
            outcome.missing, outcome.unknown = self.explain(facts)
        return outcome

    def explain(self, facts: dict[str, Any]) -> tuple[list[str], list[str]]:
        """What is missing and what is unknown, leaf by leaf in tree order."""
        missing: list[str] = []
        unknown: list[str] = []
        for check, describe, negated in self.leaves:
            result = check(facts)
            effective = FLIP[result] if negated else result
            if effective == UNMET:
                text = describe(facts, result)
                missing.append(self.phrases["not"] % {"text": text} if negated else text)
            elif effective == UNKNOWN:
                unknown.append(describe(facts, result))
        return missing, unknown

    # Building ------------------------------------------------------------------------------

    def _build(self, node: dict[str, Any], negated: bool) -> Any:
        if "all" in node:
            kids = [self._build(child, negated) for child in node["all"]]

            def run_all(facts: dict[str, Any], counts: dict[str, int]) -> str:
                results = [kid(facts, counts) for kid in kids]
                return UNMET if UNMET in results else (UNKNOWN if UNKNOWN in results else MET)

            return run_all
        if "any" in node:
            kids = [self._build(child, negated) for child in node["any"]]

            def run_any(facts: dict[str, Any], counts: dict[str, int]) -> str:
                results = [kid(facts, counts) for kid in kids]
                return MET if MET in results else (UNKNOWN if UNKNOWN in results else UNMET)

            return run_any
        if "not" in node:
            inner = self._build(node["not"], not negated)
            return lambda facts, counts: FLIP[inner(facts, counts)]
        check, describe = self._leaf(node)
        self.leaves.append((check, describe, negated))
        if negated:

            def run_negated_leaf(facts: dict[str, Any], counts: dict[str, int]) -> str:
                result = check(facts)
                counts[FLIP[result]] += 1
                return result

            return run_negated_leaf

        def run_leaf(facts: dict[str, Any], counts: dict[str, int]) -> str:
            result = check(facts)
            counts[result] += 1
            return result

        return run_leaf

    def _leaf(self, node: dict[str, Any]) -> tuple[Any, Any]:
        fact, op = node["fact"], node["op"]
        label, kind, unit = FACTS[fact]
        label = str(label)
        threshold = node.get("value")
        if kind == "number":
            return self._number(node, fact, op, label, str(unit))
        unknown_text = _("未知：%(label)s（请补充企业信息）") % {"label": label}
        short = self.phrases["short"]
        if kind in ("text", "chain"):
            if kind == "chain":
                code = str(threshold)
                within = {c for c, ancestors in self.paths.items() if code in ancestors} | {code}
                wanted = _("%(label)s属于 %(code)s") % {"label": label, "code": threshold}

                def holds(value: Any) -> bool:
                    return str(value) in within

            else:
                wanted = f"{label} {op} {threshold}"
                if op == "prefix":
                    prefix = str(threshold)

                    def holds(value: Any) -> bool:
                        return str(value).startswith(prefix)

                elif op == "in":
                    allowed = {str(v) for v in threshold}

                    def holds(value: Any) -> bool:
                        return str(value) in allowed

                else:
                    equal = str(threshold)

                    def holds(value: Any) -> bool:
                        return str(value) == equal

            def check(facts: dict[str, Any]) -> str:
                value = facts.get(fact)
                if value is None:
                    return UNKNOWN
                return MET if holds(value) else UNMET

            def describe(facts: dict[str, Any], result: str) -> str:
                if result == UNKNOWN:
                    return unknown_text
                return wanted if result == MET else short % {"wanted": wanted, "now": facts.get(fact)}

            return check, describe
        if kind == "set":
            wanted = _("具有%(cert)s认定") % {"cert": CERTIFICATIONS[threshold]}
            missing = self.phrases["short_plain"] % {"wanted": wanted}
            not_known = f"{fact}_unknown"

            def check(facts: dict[str, Any]) -> str:
                value = facts.get(fact)
                if value is None or threshold in facts.get(not_known, ()):
                    return UNKNOWN
                return MET if threshold in value else UNMET

        else:  # bool
            wanted = label if threshold else _("%(label)s（否）") % {"label": label}
            missing = self.phrases["short_plain"] % {"wanted": wanted}
            expected = bool(threshold)

            def check(facts: dict[str, Any]) -> str:
                value = facts.get(fact)
                if value is None:
                    return UNKNOWN
                return MET if bool(value) == expected else UNMET

        texts = {MET: wanted, UNMET: missing, UNKNOWN: unknown_text}
        return check, lambda facts, result: texts[result]

    def _number(self, node: dict[str, Any], fact: str, op: str, label: str, unit: str) -> tuple[Any, Any]:
        compare = COMPARE[op]
        unknown_text = _("未知：%(label)s（请补充企业信息）") % {"label": label}
        short, unit_phrase = self.phrases["short"], self.phrases["unit"]

        def with_unit(value: Any) -> str:
            return unit_phrase % {"number": _plain(value), "unit": unit} if unit else _plain(value)

        if "tiers" in node:
            by = node["by"]
            # The highest band the enterprise reaches; below every band, the lowest band's bar.
            bands = sorted((Decimal(str(lower)), Decimal(str(bar))) for lower, bar in node["tiers"])
            wanted_by_bar = {bar: f"{label} {op} {with_unit(bar)}" for _lower, bar in bands}
            band_unknown = _("未知：%(label)s（分档依据“%(by)s”未填写）") % {
                "label": label,
                "by": FACTS[by][0],
            }

            def bar_for(facts: dict[str, Any]) -> Decimal:
                band = facts[by]
                reached = [bar for lower, bar in bands if band >= lower]
                return reached[-1] if reached else bands[0][1]

            def check(facts: dict[str, Any]) -> str:
                if facts.get(by) is None:
                    return UNKNOWN
                value = facts.get(fact)
                if value is None:
                    return UNKNOWN
                return MET if compare(value, bar_for(facts)) else UNMET

            def describe(facts: dict[str, Any], result: str) -> str:
                if facts.get(by) is None:
                    return band_unknown
                if result == UNKNOWN:
                    return unknown_text
                wanted = wanted_by_bar[bar_for(facts)]
                if result == MET:
                    return wanted
                return short % {"wanted": wanted, "now": with_unit(facts[fact])}

            return check, describe
        bar = Decimal(str(node["value"]))
        wanted = f"{label} {op} {with_unit(node['value'])}"

        def check(facts: dict[str, Any]) -> str:
            value = facts.get(fact)
            if value is None:
                return UNKNOWN
            return MET if compare(value, bar) else UNMET

        def describe(facts: dict[str, Any], result: str) -> str:
            if result == UNKNOWN:
                return unknown_text
            if result == MET:
                return wanted
            return short % {"wanted": wanted, "now": with_unit(facts[fact])}

        return check, describe


def _plain(value: Any) -> str:
    number = Decimal(str(value))
    return f"{number.normalize():f}" if number == number.to_integral() else f"{number:f}".rstrip("0")


# Column-wise evaluation -----------------------------------------------------------------------------
#
# Matching a tree against every enterprise pair by pair costs ~10 µs a pair (20,000 x 500 pairs:
# minutes). Here the facts of all enterprises are held once as columns and a set of enterprises
# is a Python int used as a bitset (bit i: enterprise i), so each node of a tree is a handful of
# bitwise operations over all enterprises at once. A leaf on a number is read off the column
# sorted once (a bisect, then a suffix of the sorted order); any other leaf groups the
# enterprises by the value it reads and runs the compiled leaf's own check once per distinct
# value, so both evaluators share one definition of every operator. Only the pairs that are
# stored (met, unknown, one condition short) are then visited one by one, for their texts.

BLOCK = 64  # sorted positions per precomputed suffix bitset


_OFFSETS = [tuple(bit for bit in range(8) if byte >> bit & 1) for byte in range(256)]


def indices(mask: int) -> list[int]:
    """The positions of the set bits, lowest first (read a byte at a time, skipping zero bytes)."""
    found: list[int] = []
    append = found.append
    for at, byte in enumerate(mask.to_bytes((mask.bit_length() + 7) // 8, "little")):
        if byte:
            base = at << 3
            for bit in _OFFSETS[byte]:
                append(base + bit)
    return found


class Columns:
    """The prepared facts (:func:`prepare`) of many enterprises, position i for enterprise i,
    with what the column-wise evaluation derives from them built on first use."""

    def __init__(self, facts: list[dict[str, Any]]):
        self.facts = facts
        self.size = len(facts)
        self.all = (1 << self.size) - 1
        self._sorted: dict[str, tuple[list[Any], list[int], list[int], int]] = {}
        self._groups: dict[tuple[str, ...], dict[tuple[Any, ...], int]] = {}
        self._leaves: dict[tuple[str, str], tuple[int, int]] = {}

    def column(self, fact: str) -> list[Any]:
        return [row.get(fact) for row in self.facts]

    # Numbers: sorted once, a bitset for every BLOCK-th suffix of the sorted order.

    def _numbers(self, fact: str) -> tuple[list[Any], list[int], list[int], int]:
        found = self._sorted.get(fact)
        if found is None:
            pairs = sorted(((v, i) for i, v in enumerate(self.column(fact)) if v is not None))
            values = [v for v, _i in pairs]
            order = [i for _v, i in pairs]
            suffixes = [0] * (len(order) // BLOCK + 2)
            acc = 0
            for block in range(len(order) // BLOCK, -1, -1):
                for i in order[block * BLOCK : (block + 1) * BLOCK]:
                    acc |= 1 << i
                suffixes[block] = acc
            found = self._sorted[fact] = (values, order, suffixes, acc)
        return found

    def _from(self, fact: str, position: int) -> int:
        """The enterprises at ``position`` and after in ``fact``'s sorted order."""
        _values, order, suffixes, _known = self._numbers(fact)
        block = -(-position // BLOCK)
        mask = suffixes[block] if block * BLOCK < len(order) else 0
        for i in order[position : block * BLOCK]:
            mask |= 1 << i
        return mask

    def known(self, fact: str) -> int:
        return self._numbers(fact)[3]

    def compare(self, fact: str, op: str, bar: Decimal) -> int:
        """The enterprises whose ``fact`` is known and ``compare(value, bar)`` holds."""
        values, _order, _suffixes, known = self._numbers(fact)
        if op in (">=", "<"):
            at_least = self._from(fact, bisect.bisect_left(values, bar))
            return at_least if op == ">=" else known & ~at_least
        above = self._from(fact, bisect.bisect_right(values, bar))
        if op == ">":
            return above
        if op == "<=":
            return known & ~above
        return self._from(fact, bisect.bisect_left(values, bar)) & ~above  # ==

    # Anything else: enterprises grouped by the values a leaf reads.

    def groups(self, facts: tuple[str, ...]) -> dict[tuple[Any, ...], int]:
        found = self._groups.get(facts)
        if found is None:
            found = {}
            for i, row in enumerate(self.facts):
                key = tuple(_hashable(row.get(name)) for name in facts)
                found[key] = found.get(key, 0) | (1 << i)
            self._groups[facts] = found
        return found


def _hashable(value: Any) -> Any:
    return frozenset(value) if isinstance(value, (set, list)) else value


@dataclass
class Bulk:
    """One tree against every enterprise of a :class:`Columns`: the Kleene result as bitsets,
    and ``kept``, the enterprises a stored match is kept for (met, unknown, or unmet by exactly
    one condition with nothing unknown)."""

    met: int
    unmet: int
    unknown: int
    kept: int
    leaves: list[tuple[int, int, int, bool]]  # per leaf in tree order: effective met, unmet, unknown, negated
    counts: dict[int, int]  # leaves met -> the kept enterprises with that many


def evaluate_columns(tree: Compiled, columns: Columns) -> Bulk:
    leaves: list[tuple[int, int, int, bool]] = []
    universe = columns.all

    def walk(node: dict[str, Any], negated: bool) -> tuple[int, int]:
        if "all" in node or "any" in node:
            results = [walk(child, negated) for child in node.get("all") or node.get("any")]
            if "all" in node:
                met, unmet = universe, 0
                for child_met, child_unmet in results:
                    met &= child_met
                    unmet |= child_unmet
            else:
                met, unmet = 0, universe
                for child_met, child_unmet in results:
                    met |= child_met
                    unmet &= child_unmet
            return met, unmet
        if "not" in node:
            met, unmet = walk(node["not"], not negated)
            return unmet, met
        met, unmet = _leaf_masks(tree, node, len(leaves), columns)
        unknown = universe & ~(met | unmet)
        leaves.append((unmet, met, unknown, True) if negated else (met, unmet, unknown, False))
        return met, unmet

    met, unmet = walk(tree.tree, False)
    unknown = universe & ~(met | unmet)
    # Exactly one leaf unmet and none unknown, counted as bitsets.
    once = twice = any_unknown = 0
    for _met, leaf_unmet, leaf_unknown, _negated in leaves:
        twice |= once & leaf_unmet
        once |= leaf_unmet
        any_unknown |= leaf_unknown
    kept = met | unknown | (unmet & once & ~twice & ~any_unknown)
    # How many leaves each kept enterprise meets: a binary counter whose digits are bitsets.
    digits: list[int] = []
    for leaf_met, _unmet, _unknown, _negated in leaves:
        carry = leaf_met & kept
        for position, digit in enumerate(digits):
            digits[position], carry = digit ^ carry, digit & carry
        if carry:
            digits.append(carry)
    counts = {0: kept}
    for position, digit in enumerate(digits):
        split: dict[int, int] = {}
        for value, members in counts.items():
            if members & digit:
                split[value + (1 << position)] = members & digit
            if members & ~digit:
                split[value] = members & ~digit
        counts = split
    return Bulk(met, unmet, unknown, kept, leaves, counts)


def _leaf_masks(tree: Compiled, node: dict[str, Any], index: int, columns: Columns) -> tuple[int, int]:
    """The raw (not negated) met and unmet bitsets of a leaf, cached per Columns and language."""
    key = (
        json.dumps(node, sort_keys=True, default=str),
        tree.chain_key if node["fact"] == "chain_node" else "",
    )
    found = columns._leaves.get(key)
    if found is not None:
        return found
    fact, op = node["fact"], node["op"]
    if FACTS[fact][1] == "number":
        if "tiers" in node:
            by = node["by"]
            bands = sorted((Decimal(str(lower)), Decimal(str(bar))) for lower, bar in node["tiers"])
            known = columns.known(by) & columns.known(fact)
            met, upper = 0, 0  # upper: the enterprises in a higher band than the current one
            for position in range(len(bands) - 1, -1, -1):
                lower, bar = bands[position]
                at_least = columns.compare(by, ">=", lower)
                band = at_least & ~upper
                if position == 0:  # below every band: the lowest band's bar
                    band = columns.known(by) & ~upper
                met |= band & columns.compare(fact, op, bar)
                upper |= at_least
            met &= known
        else:
            met = columns.compare(fact, op, Decimal(str(node["value"])))
            known = columns.known(fact)
        found = (met, known & ~met)
    else:
        check = tree.leaves[index][0]
        reads = (fact, f"{fact}_unknown") if FACTS[fact][1] == "set" else (fact,)
        met = unmet = 0
        for values, members in columns.groups(reads).items():
            result = check(
                {name: value for name, value in zip(reads, values, strict=True) if value is not None}
            )
            if result == MET:
                met |= members
            elif result == UNMET:
                unmet |= members
        found = (met, unmet)
    columns._leaves[key] = found
    return found


def kept_outcomes(
    tree: Compiled, bulk: Bulk, columns: Columns, encode: Callable[[list[str]], Any] | None = None
) -> list[tuple[int, str, int, Any, Any]]:
    """(position, status, leaves met, missing, unknown) of every kept enterprise, with the same
    texts as ``Compiled.explain`` (none for a met one: the branches not taken don't matter).
    ``encode``: applied once to each list of texts (an empty one too), as they are stored."""
    explained = bulk.kept & ~bulk.met
    missing: defaultdict[int, list[str]] = defaultdict(list)
    unknown: defaultdict[int, list[str]] = defaultdict(list)
    facts = columns.facts
    not_phrase = tree.phrases["not"]
    for (_check, describe, negated), (_met, leaf_unmet, leaf_unknown, _negated) in zip(
        tree.leaves, bulk.leaves, strict=True
    ):
        if negated:
            for i in indices(leaf_unmet & explained):
                missing[i].append(not_phrase % {"text": describe(facts[i], MET)})
        else:
            for i in indices(leaf_unmet & explained):
                missing[i].append(describe(facts[i], UNMET))
        for i in indices(leaf_unknown & explained):
            unknown[i].append(describe(facts[i], UNKNOWN))
    rows: list[tuple[int, str, int, Any, Any]] = []
    empty: Any = []
    if encode is not None:
        empty = encode([])
        missing = {i: encode(texts) for i, texts in missing.items()}  # type: ignore[assignment]
        unknown = {i: encode(texts) for i, texts in unknown.items()}  # type: ignore[assignment]
    for count, members in bulk.counts.items():
        for i in indices(members & bulk.met):
            rows.append((i, MET, count, empty, empty))
        for status, among in ((UNKNOWN, bulk.unknown), (UNMET, bulk.unmet)):
            for i in indices(members & among & explained):
                rows.append((i, status, count, missing.get(i, empty), unknown.get(i, empty)))
    return rows
