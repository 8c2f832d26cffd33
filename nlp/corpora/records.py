"""The records every corpus loader returns, whatever the source format."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

POLARITIES: frozenset[str] = frozenset({"positive", "neutral", "negative"})
SPLITS: tuple[str, ...] = ("train", "dev", "test")


@dataclass(frozen=True, slots=True)
class Aspect:
    """One aspect label of a record, in the corpus's own vocabulary.

    ``polarity`` is None when the source gives the label no polarity (uit_visfd ``OTHERS``,
    the uit_vsfc topic, the "mentioned" flag ``others`` of tiki and shopee).
    """

    label: str
    polarity: str | None
    span: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class CorpusRecord:
    """One labelled text. ``raw`` is the source text; ``text`` is what models should see."""

    corpus: str
    split: str
    raw: str
    text: str
    sentiment: str | None
    stars: int | None
    aspects: tuple[Aspect, ...]
    meta: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class SourceRow:
    """A parsed row before template stripping, normalisation and de-duplication."""

    raw: str
    sentiment: str | None = None
    stars: int | None = None
    aspects: tuple[Aspect, ...] = ()
    # A read-only view: parsed rows are cached and shared between callers.
    meta: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


def frozen_meta(values: Mapping[str, str]) -> Mapping[str, str]:
    """A read-only copy, because cached records are handed to every caller."""
    return MappingProxyType(dict(values))
