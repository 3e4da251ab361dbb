"""A segment or eligibility rule in words, for the people who read reasons aloud.

"orders at least 2 and trait country is FR" rather than the JSON the API takes: an
agent explaining why a customer got an offer says it in a sentence. Pure.
"""

from __future__ import annotations

from cdp.segments.rules import All, AnyOf, Compare, EventCount, HasIdentifier, Not, Op, Rule

_OPS = {
    Op.EQ: "is",
    Op.NE: "is not",
    Op.GT: "above",
    Op.GTE: "at least",
    Op.LT: "below",
    Op.LTE: "at most",
}


def describe(rule: Rule) -> str:
    if isinstance(rule, Compare):
        subject = rule.name.replace("_", " ") if rule.scope == "metric" else f"trait {rule.name}"
        if rule.op is Op.EXISTS:
            return f"{subject} {'is known' if rule.value else 'is unknown'}"
        if rule.op is Op.IN:
            return f"{subject} is one of {', '.join(str(v) for v in rule.value)}"
        return f"{subject} {_OPS[rule.op]} {_value(rule.value)}"
    if isinstance(rule, HasIdentifier):
        return f"has a {rule.type.replace('_', ' ')}"
    if isinstance(rule, EventCount):
        return _events(rule)
    if isinstance(rule, All):
        return " and ".join(_part(p) for p in rule.parts)
    if isinstance(rule, AnyOf):
        return " or ".join(_part(p) for p in rule.parts)
    if isinstance(rule, Not):
        return f"not ({describe(rule.part)})"
    raise TypeError(f"no words for {type(rule).__name__}")


def _part(rule: Rule) -> str:
    said = describe(rule)
    return f"({said})" if isinstance(rule, All | AnyOf) else said


def _events(rule: EventCount) -> str:
    kind = rule.type.replace("_", " ")
    where = "".join(f" with {path} {_value(value)}" for path, value in rule.where)
    if rule.at_least is not None and rule.at_most is not None:
        times = f"{rule.at_least} to {rule.at_most} times"
    elif rule.at_most is not None:
        times = f"at most {rule.at_most} times"
    else:
        times = f"at least {rule.at_least if rule.at_least is not None else 1} times"
    within = f" in the last {rule.within_days} days" if rule.within_days else ""
    return f"{kind}{where} {times}{within}"


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
