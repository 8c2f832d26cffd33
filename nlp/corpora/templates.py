"""Stripping the e-commerce auto-filled phrases listed in data/lexicons/template_phrases.txt."""

from __future__ import annotations

import re
from functools import lru_cache

from nlp.paths import lexicon_dir

from .files import read_text

TEMPLATE_LEXICON = "template_phrases.txt"


def template_phrases() -> tuple[str, ...]:
    """The phrases of the lexicon, in file order."""
    return _phrases()


@lru_cache(maxsize=1)
def _phrases() -> tuple[str, ...]:
    lines = read_text(lexicon_dir() / TEMPLATE_LEXICON).splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    # Longest first, so "Đóng gói sản phẩm rất đẹp và chắc chắn" wins over any shorter phrase
    # it contains; flexible whitespace because users and apps wrap the tags onto new lines.
    phrases = sorted(_phrases(), key=len, reverse=True)
    alternatives = "|".join(r"\s+".join(map(re.escape, phrase.split())) for phrase in phrases)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)[\s.,;:!]*", re.IGNORECASE)


def strip_templates(raw: str) -> str:
    """``raw`` without template phrases; may be empty when the review was only templates.

    >>> strip_templates("Chất lượng sản phẩm tuyệt vời. Son mịn")
    'Son mịn'
    """
    return _pattern().sub(" ", raw).strip()
