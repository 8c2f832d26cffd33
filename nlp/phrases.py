"""Leftmost-longest phrase lookup over token lists: the one dict walk the lexicon matchers share.

A phrase table costs a few dict lookups per token whatever its size, which keeps every lexicon
pass far below the cost of the shared features.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Generic, TypeVar

Value = TypeVar("Value")


class PhraseTable(Generic[Value]):
    """Space-joined phrases mapped to values.

    >>> table = PhraseTable({"nhưng": 1, "nhưng mà": 2})
    >>> list(table.find("ngon nhưng mà đắt".split()))
    [(1, 3, 2)]
    """

    def __init__(self, phrases: Mapping[str, Value]) -> None:
        self.phrases = dict(phrases)
        # First token -> the longest phrase starting with it, so a lookup tries few lengths.
        self._longest: dict[str, int] = {}
        for phrase in self.phrases:
            words = phrase.split()
            self._longest[words[0]] = max(self._longest.get(words[0], 0), len(words))

    def starts(self, token: str) -> bool:
        """Whether any phrase begins with ``token`` (the cheap test before ``longest_at``)."""
        return token in self._longest

    def longest_at(self, tokens: Sequence[str], start: int) -> tuple[int, Value] | None:
        """The longest phrase starting at ``start`` as ``(length, value)``, or None."""
        max_length = self._longest.get(tokens[start])
        if max_length is None:
            return None
        for length in range(min(max_length, len(tokens) - start), 0, -1):
            value = self.phrases.get(" ".join(tokens[start : start + length]))
            if value is not None:
                return length, value
        return None

    def find(self, tokens: Sequence[str]) -> Iterator[tuple[int, int, Value]]:
        """Non-overlapping ``(start, end, value)`` matches, leftmost-longest."""
        i = 0
        while i < len(tokens):
            found = self.longest_at(tokens, i)
            if found is None:
                i += 1
                continue
            length, value = found
            yield i, i + length, value
            i += length
