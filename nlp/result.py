"""The result contract shared by the CLI, the API, batch jobs and exports.

See DESIGN.md, "Result fields".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Final

SENTIMENTS: Final = ("positive", "neutral", "negative")
#: The sentiment of a cell with no analysable text (empty, emoji only, not text).
EMPTY_TEXT_SENTIMENT: Final = "neutral"

#: Flags explain why a row carries default values, or model output for only part of its text.
FLAG_EMPTY_TEXT: Final = "empty_text"
FLAG_NOT_TEXT: Final = "not_text"
#: The text was longer than ``nlp.analyzer.MAX_TEXT_CHARS``: only its beginning was analysed.
FLAG_TRUNCATED: Final = "truncated"


@dataclass(slots=True)
class Result:
    """What vicx says about one comment.

    The topic fields, ``evidence`` and the detractor fields stay empty until their heads are
    installed; the shape does not change when they arrive.
    """

    sentiment: str
    sentiment_scores: dict[str, float]
    topics: list[str] = field(default_factory=list)
    topic_scores: dict[str, float] = field(default_factory=dict)
    topic_sentiments: dict[str, str] = field(default_factory=dict)
    detractor_probability: float | None = None
    detractor_drivers: list[str] = field(default_factory=list)
    evidence: dict[str, list[str]] = field(default_factory=dict)
    model_version: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def empty(cls, flag: str, model_version: dict[str, str]) -> Result:
        """The row written for a cell that holds no analysable text: neutral, nothing detected."""
        return cls(
            sentiment=EMPTY_TEXT_SENTIMENT,
            sentiment_scores={s: float(s == EMPTY_TEXT_SENTIMENT) for s in SENTIMENTS},
            model_version=dict(model_version),
            flags=[flag],
        )


RESULT_FIELDS: Final = tuple(Result.__dataclass_fields__)
