"""E-commerce review corpora: aivivn2019, tiki_fashion_absa, shopee_lipstick_absa, vispamreviews."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

from nlp.errors import DataError

from .files import read_text, require_file
from .records import POLARITIES, Aspect, SourceRow, frozen_meta

# Inverted on purpose by the competition: 0 is the POSITIVE class.
AIVIVN_SENTIMENT = {"0": "positive", "1": "negative"}
_AIVIVN_RECORD = re.compile(r'^(train_\d+)\n"(.*?)"\n([01])[ \t]*$', re.MULTILINE | re.DOTALL)

_SPLIT_FILE = {"train": "data_train.csv", "dev": "data_val.csv", "test": "data_test.csv"}
TIKI_ASPECTS = (
    "appearance",
    "delivery",
    "fabric_quality",
    "others",
    "packaging",
    "price",
    "service",
    "size_fit",
)
_TIKI_POLARITY = {"1": "negative", "2": "neutral", "3": "positive"}
SHOPEE_ASPECTS = (
    "stayingpower",
    "texture",
    "smell",
    "price",
    "others",
    "colour",
    "shipping",
    "packing",
)
# "others" only ever carries "neutral" in both corpora: it flags a mention, not a polarity.
_MENTION_ONLY = "others"
_SPAM_TYPE = {"0": "no_spam", "1": "fake_review", "2": "brand_only", "3": "irrelevant"}


def _csv_rows(path: Path) -> Iterator[dict[str, str]]:
    with require_file(path).open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def parse_aivivn(data_dir: Path, split: str) -> list[SourceRow]:
    """``train_XXXXXX\\n"<text>"\\n<label>`` records; only train has labels."""
    path = data_dir / "aivivn2019" / "original" / f"{split}.crash"
    return [
        SourceRow(
            raw=text.strip(), sentiment=AIVIVN_SENTIMENT[label], meta=frozen_meta({"id": key})
        )
        for key, text, label in _AIVIVN_RECORD.findall(read_text(path))
    ]


def parse_tiki(data_dir: Path, split: str) -> list[SourceRow]:
    """The processed splits (``data_{train,val,test}.csv``), with underscores undone.

    Why processed rather than the raw ``fashion_comment_data.csv``: the official split exists
    only over the processed rows, and their preprocessing also expanded teencode
    ("mik" -> "mình", "k" -> "không") and dropped punctuation, so only about two thirds of
    the rows can be matched back to a raw review exactly. A fuzzy match would risk attaching
    one review's labels to another. What is lost: casing, punctuation, raw teencode and the
    product metadata (and the product-average rating, which is not a per-review star anyway).
    ``raw`` keeps the released ``processed_text``; ``text`` is built from it with the word
    segmentation underscores turned back into spaces, so it tokenises like every other corpus.
    Codes: 0 not mentioned, 1 negative, 2 neutral, 3 positive.
    """
    path = data_dir / "tiki_fashion_absa" / _SPLIT_FILE[split]
    rows = []
    for number, record in enumerate(_csv_rows(path), 2):
        aspects = []
        for aspect in TIKI_ASPECTS:
            code = record[aspect].strip()
            if code == "0":
                continue
            if code not in _TIKI_POLARITY:
                raise DataError(f"{path} line {number}: {aspect}={code!r}", path=str(path))
            polarity = None if aspect == _MENTION_ONLY else _TIKI_POLARITY[code]
            aspects.append(Aspect(aspect, polarity))
        rows.append(SourceRow(raw=record["processed_text"].strip(), aspects=tuple(aspects)))
    return rows


def tiki_surface_text(raw: str) -> str:
    """Undo the word segmentation (``mô_tả`` -> ``mô tả``) before normalisation."""
    return raw.replace("_", " ")


def parse_shopee(data_dir: Path, split: str) -> list[SourceRow]:
    """``data`` plus eight aspect columns holding a polarity or nothing."""
    path = data_dir / "shopee_lipstick_absa" / _SPLIT_FILE[split]
    rows = []
    for number, record in enumerate(_csv_rows(path), 2):
        aspects = []
        for aspect in SHOPEE_ASPECTS:
            value = record[aspect].strip()
            if not value:
                continue
            if value not in POLARITIES:
                raise DataError(f"{path} line {number}: {aspect}={value!r}", path=str(path))
            aspects.append(Aspect(aspect, None if aspect == _MENTION_ONLY else value))
        rows.append(SourceRow(raw=record["data"].strip(), aspects=tuple(aspects)))
    return rows


def parse_vispam(data_dir: Path, split: str) -> list[SourceRow]:
    """Every row, spam included; the registry decides whether to keep spam (``meta['spam']``)."""
    path = data_dir / "vispamreviews" / f"{split}.csv"
    return [
        SourceRow(
            raw=record["Comment"].strip(),
            stars=int(record["Rating"]),
            meta=frozen_meta(
                {"spam": record["Label"], "spam_type": _SPAM_TYPE[record["SpamLabel"]]}
            ),
        )
        for record in _csv_rows(path)
    ]
