"""Folding text for search: lower case, no diacritics, one character per character.

The comment search (``q``) compares folded texts, so ``giao hang`` finds ``Giao hàng``; because
folding keeps the length of NFC text, a match in the folded text is a span of the original.
"""

from __future__ import annotations

import unicodedata

from nlp.normalize import strip_diacritics


def fold(text: str) -> str:
    """Lower case without diacritics, one character per character of NFC ``text``.

    >>> fold("Giao HÀNG đúng hẹn")
    'giao hang dung hen'
    """
    nfc = unicodedata.normalize("NFC", text)
    folded = strip_diacritics(nfc).lower()
    # Spans found in the folded text must index the original, so lengths must match.
    return folded if len(folded) == len(nfc) else nfc.lower()
