"""Mark a comment's evidence spans (from the comments JSON) with ``<mark>``, coloured by the
polarity of the topic each span belongs to.

The spans come from ``api.service.comments.evidence_spans``, the function the API uses, so the
words lit up on the page are the spans an API client receives.

>>> str(highlight("Nhân viên dễ thương", [{"topic": "people", "start": 10, "end": 19}],
...               {"people": "positive"}))
'Nhân viên <mark class="ev ev-positive" data-topic="people">dễ thương</mark>'
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape


def _without_overlaps(spans: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Left to right; where spans overlap, the one starting first (then the longest) wins."""
    ordered = sorted(spans, key=lambda span: (span["start"], -(span["end"] - span["start"])))
    kept: list[Mapping[str, Any]] = []
    for span in ordered:
        if not kept or span["start"] >= kept[-1]["end"]:
            kept.append(span)
    return kept


def highlight(
    text: str,
    spans: Sequence[Mapping[str, Any]],
    polarities: Mapping[str, str] | None,
) -> Markup:
    """HTML-escaped ``text`` (NFC, as the spans index it) with each span in a ``<mark>``."""
    text = unicodedata.normalize("NFC", text)
    parts: list[str] = []
    cursor = 0
    for span in _without_overlaps(spans):
        start, end, topic = int(span["start"]), int(span["end"]), str(span["topic"])
        polarity = (polarities or {}).get(topic, "neutral")
        parts.append(str(escape(text[cursor:start])))
        parts.append(
            f'<mark class="ev ev-{escape(polarity)}" data-topic="{escape(topic)}">'
            f"{escape(text[start:end])}</mark>"
        )
        cursor = end
    parts.append(str(escape(text[cursor:])))
    return Markup("".join(parts))
