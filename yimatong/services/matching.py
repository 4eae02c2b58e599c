"""Policy eligibility as a tree of conditions over facts about an enterprise, evaluated in three
states: met, unmet, unknown (the profile lacks the fact). No user text is ever evaluated as code:
a tree is data, checked against the catalogue of facts and operators below.

A tree is ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": node}`` or a leaf
``{"fact": "rd_ratio", "op": ">=", "value": 5}``. A tiered leaf picks its threshold by a band of
another fact: ``{"fact": "rd_ratio", "op": ">=", "by": "revenue", "tiers": [[0, 5], [5000, 4],
[20000, 3]]}`` (R&D ≥ 5% under 5,000万元 of revenue, ≥ 4% from 5,000万, ≥ 3% from 2亿).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

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
        ok = {
            "number": _is_number(value),
            "text": (isinstance(value, str) and value != "")
            or (op == "in" and isinstance(value, list) and value),
            "chain": isinstance(value, str) and value != "",
            "set": value in CERTIFICATIONS,
            "bool": isinstance(value, bool),
        }[kind]
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
    met and unmet."""
    outcome = Outcome(MET)

    def walk(node: dict[str, Any], negated: bool) -> str:
        if "all" in node or "any" in node:
            results = [walk(child, negated) for child in node.get("all") or node.get("any")]
            if "all" in node:
                return UNMET if UNMET in results else (UNKNOWN if UNKNOWN in results else MET)
            return MET if MET in results else (UNKNOWN if UNKNOWN in results else UNMET)
        if "not" in node:
            inner = walk(node["not"], not negated)
            return {MET: UNMET, UNMET: MET, UNKNOWN: UNKNOWN}[inner]
        result, text = _leaf(node, facts, chain_paths or {})
        effective = {MET: UNMET, UNMET: MET, UNKNOWN: UNKNOWN}[result] if negated else result
        outcome.leaves += 1
        if effective == MET:
            outcome.met += 1
        elif effective == UNMET:
            outcome.missing.append(_("（不应满足）%(text)s") % {"text": text} if negated else text)
        else:
            outcome.unknown.append(text)
        return result

    outcome.status = walk(tree, False)
    return outcome


def _leaf(node: dict[str, Any], facts: dict[str, Any], chain_paths: dict[str, set[str]]) -> tuple[str, str]:
    fact, op = node["fact"], node["op"]
    label, kind, unit = FACTS[fact]
    value = facts.get(fact)
    threshold = node.get("value")
    if "tiers" in node:
        band = facts.get(node["by"])
        if band is None:
            return UNKNOWN, _("未知：%(label)s（分档依据“%(by)s”未填写）") % {
                "label": label,
                "by": FACTS[node["by"]][0],
            }
        # The highest band the enterprise reaches; below every band, the lowest band's bar.
        bands = sorted(node["tiers"], key=lambda pair: Decimal(str(pair[0])))
        applicable = [t for lower, t in bands if Decimal(str(band)) >= Decimal(str(lower))]
        threshold = applicable[-1] if applicable else bands[0][1]
    if value is None or (kind == "set" and threshold in facts.get(f"{fact}_unknown", ())):
        return UNKNOWN, _("未知：%(label)s（请补充企业信息）") % {"label": label}
    if kind == "number":
        met = _compare(Decimal(str(value)), op, Decimal(str(threshold)))
        wanted = f"{label} {op} {_with_unit(threshold, unit)}"
        return (
            (MET, wanted)
            if met
            else (
                UNMET,
                _("差：%(wanted)s，当前 %(now)s") % {"wanted": wanted, "now": _with_unit(value, unit)},
            )
        )
    if kind == "text":
        text = str(value)
        if op == "prefix":
            met = text.startswith(str(threshold))
        elif op == "in":
            met = text in [str(v) for v in threshold]
        else:
            met = text == str(threshold)
        wanted = f"{label} {op} {threshold}"
        return (
            (MET, wanted)
            if met
            else (UNMET, _("差：%(wanted)s，当前 %(now)s") % {"wanted": wanted, "now": text})
        )
    if kind == "chain":
        met = str(threshold) in chain_paths.get(str(value), {str(value)})
        wanted = _("%(label)s属于 %(code)s") % {"label": label, "code": threshold}
        return (
            (MET, wanted)
            if met
            else (UNMET, _("差：%(wanted)s，当前 %(now)s") % {"wanted": wanted, "now": value})
        )
    if kind == "set":
        met = threshold in value
        wanted = _("具有%(cert)s认定") % {"cert": CERTIFICATIONS[threshold]}
        return (MET, wanted) if met else (UNMET, _("差：%(wanted)s") % {"wanted": wanted})
    met = bool(value) == bool(threshold)
    wanted = label if threshold else _("%(label)s（否）") % {"label": label}
    return (MET, wanted) if met else (UNMET, _("差：%(wanted)s") % {"wanted": wanted})


def _compare(a: Decimal, op: str, b: Decimal) -> bool:
    return {">=": a >= b, ">": a > b, "<=": a <= b, "<": a < b, "==": a == b}[op]


def _plain(value: Any) -> str:
    number = Decimal(str(value))
    return f"{number.normalize():f}" if number == number.to_integral() else f"{number:f}".rstrip("0")


def _with_unit(value: Any, unit: str) -> str:
    """A number with its unit, as the language writes it ("100人", "100 people")."""
    if not unit:
        return _plain(value)
    return _("%(number)s%(unit)s") % {"number": _plain(value), "unit": unit}
