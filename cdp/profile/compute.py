"""What a person is now, from what is known of them: their metrics and the segments
they belong in. Pure: the per-person refresh and the bulk recompute both call it, so an
event and a recompute can never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cdp.metrics.profile import Interaction
from cdp.metrics.summary import BaseModels, summarise_folded, summarise_person
from cdp.privacy.consent import Consent, marketing_channels
from cdp.profile.carried import Carried, fold_document, fold_on
from cdp.segments.changes import SEGMENT_EVENT_TYPES
from cdp.segments.definitions import INTEREST_PREFIX, SegmentDefinition, SegmentKind
from cdp.segments.evaluate import EventFacts, Predicate, Subject, predicate
from cdp.segments.rules import EventCount, HasIdentifier, conditions
from cdp.segments.tally import counted_leaves

Document = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The segments a refresh decides, compiled once for every person it covers, and
    what their rules read beyond metrics and traits."""

    segments: tuple[tuple[str, Predicate], ...]
    needs_events: bool
    needs_identifier_types: bool
    definitions: tuple[SegmentDefinition, ...] = ()
    counted: Mapping[str, EventCount] = field(default_factory=dict)  # cdp.segments.tally

    @classmethod
    def decided_by_refresh(cls, every_segment: Sequence[SegmentDefinition]) -> Evaluation:
        """:meth:`of` the segments a refresh decides (interest segments follow the
        metrics), compiled again only when a definition changed: the stored ones are
        the same objects while their documents are (``SegmentStore.derived``), and
        compiling every rule for every single event was 2 to 3% of its service time."""
        segments = tuple(s for s in every_segment if s.kind is not SegmentKind.INTEREST)
        last = _COMPILED[0] if _COMPILED else None
        if (
            last is not None
            and len(last.definitions) == len(segments)
            and all(a is b for a, b in zip(last.definitions, segments, strict=True))
        ):
            return last
        compiled = cls.of(segments)
        _COMPILED[:] = [compiled]
        return compiled

    @classmethod
    def of(cls, segments: Sequence[SegmentDefinition]) -> Evaluation:
        leaves = [leaf for segment in segments for leaf in conditions(segment.rule)]
        return cls(
            definitions=tuple(segments),
            segments=tuple((segment.id, predicate(segment.rule)) for segment in segments),
            needs_events=any(isinstance(leaf, EventCount) for leaf in leaves),
            needs_identifier_types=any(isinstance(leaf, HasIdentifier) for leaf in leaves),
            counted=counted_leaves(segment.rule for segment in segments),
        )


# The last evaluation a refresh compiled (it keeps its definitions alive, so comparing
# them by identity cannot be fooled by an object's id reused)
_COMPILED: list[Evaluation] = []


def evaluate_person(
    traits: Mapping[str, Any],
    events: Sequence[Document],
    consents: Sequence[Consent],
    identifier_types: frozenset[str],
    models: BaseModels,
    evaluation: Evaluation,
    now: datetime,
) -> tuple[dict[str, Any], set[str]]:
    """A person's metrics and the segments they belong in (pure; the bulk path uses it)."""
    metrics = summarise_person(
        interactions(events), traits, marketing_channels(consents), models, now
    )
    return metrics, evaluate_segments(traits, metrics, events, identifier_types, evaluation, now)


def evaluate_carried(
    traits: Mapping[str, Any],
    events: Sequence[Document],
    carried: Carried | None,
    consents: Sequence[Consent],
    identifier_types: frozenset[str],
    models: BaseModels,
    evaluation: Evaluation,
    now: datetime,
) -> tuple[dict[str, Any], set[str], dict[str, Any] | None]:
    """:func:`evaluate_person` from a stored fold and the events after its key (or, with
    no fold, from the whole history), with the fold to store: the same metrics, since
    they are read from a fold either way, and the same segments (rules count from the
    fold's tallies, or from the whole history). ``carried`` must hold the counts of
    every rule of ``evaluation`` (:func:`cdp.profile.carried.carried_of`)."""
    fold = fold_on(carried, events, now, evaluation.counted)
    metrics = summarise_folded(fold.folded, traits, marketing_channels(consents), models, now)
    if carried is None:
        inside = evaluate_segments(traits, metrics, events, identifier_types, evaluation, now)
    else:
        inside = evaluate_segments(
            traits, metrics, [], identifier_types, evaluation, now, fold.rules.count
        )
    return metrics, inside, fold_document(fold)


def evaluate_segments(
    traits: Mapping[str, Any],
    metrics: Mapping[str, Any],
    events: Sequence[Document],
    identifier_types: frozenset[str],
    evaluation: Evaluation,
    now: datetime,
    counts: Callable[[EventCount, datetime], int] | None = None,
) -> set[str]:
    """The segments a person with these metrics belongs in, interest ones included; rules
    count ``events``, or ask ``counts`` (a fold's tallies) when given."""
    subject = Subject(
        traits=traits,
        metrics=metrics,
        identifier_types=identifier_types,
        events=[EventFacts(e["type"], e["timestamp"], e.get("properties") or {}) for e in events]
        if evaluation.needs_events and counts is None
        else [],
        counts=counts,
    )
    inside = {segment for segment, fits in evaluation.segments if fits(subject, now)}
    inside.update(f"{INTEREST_PREFIX}{topic}" for topic in metrics.get("interest_topics") or [])
    return inside


def interactions(events: Sequence[Document]) -> list[Interaction]:
    """What the metrics read of a person's events (their segment entries and exits left
    out: those are about the person, not things they did)."""
    return [Interaction.of(e) for e in events if e["type"] not in SEGMENT_EVENT_TYPES]
