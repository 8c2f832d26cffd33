"""Word segmentation: underthesea's CRF segmenter and the syllable fast path.

Vietnamese writes one syllable per space-separated unit, and most words are two syllables
("nhân viên", "thanh toán"). Segmentation joins them into words; the fast path keeps syllables
and lets word bigrams recover the compounds. Which one the shipped models use is measured by
``vicx evaluate --tokenizer`` and written in the model card.
"""

from __future__ import annotations

from typing import Final, Literal

TokenizerName = Literal["syllable", "underthesea"]
TOKENIZERS: Final[tuple[TokenizerName, ...]] = ("syllable", "underthesea")


def syllables(text: str) -> list[str]:
    """Split normalised text on spaces: ``"phục vụ chậm"`` -> ``["phục", "vụ", "chậm"]``."""
    return text.split()


def segment(text: str) -> list[str]:
    """underthesea word segmentation, compounds joined with ``_``.

    >>> segment("nhân viên phục vụ chậm")
    ['nhân_viên', 'phục_vụ', 'chậm']
    """
    # Imported here: underthesea loads its CRF model on first use, which the fast path never pays.
    from underthesea import word_tokenize

    return [word.replace(" ", "_") for word in word_tokenize(text)]


def tokenize(text: str, tokenizer: TokenizerName = "syllable") -> list[str]:
    if tokenizer == "syllable":
        return syllables(text)
    return segment(text)
