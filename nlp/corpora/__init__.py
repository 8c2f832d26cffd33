"""Loaders for the shared labelled corpora, one ``CorpusRecord`` shape for all of them.

Read only by training and evaluation code. ``load_corpus(name, split)`` returns the records
with templates stripped, text normalised and duplicates removed so the test splits are clean;
``LEAKAGE_GROUP`` says which corpora share texts (never train on one and test on another of
the same group). docs/CORPORA.md documents what each loader keeps.
"""

from .records import Aspect, CorpusRecord
from .registry import (
    CORPORA,
    LEAKAGE_GROUP,
    corpus_licence,
    corpus_splits,
    dedup_report,
    load_corpus,
    load_spam_reviews,
)

__all__ = [
    "CORPORA",
    "LEAKAGE_GROUP",
    "Aspect",
    "CorpusRecord",
    "corpus_licence",
    "corpus_splits",
    "dedup_report",
    "load_corpus",
    "load_spam_reviews",
]
