"""VLSP shared-task corpora: 2018 ABSA (hotel, restaurant) and 2016 sentiment."""

from __future__ import annotations

import re
from pathlib import Path

from nlp.errors import DataError

from .files import read_text
from .records import Aspect, SourceRow, frozen_meta

_VLSP2018_FILE = {
    "train": "1-VLSP2018-SA-{D}-train.txt",
    "dev": "2-VLSP2018-SA-{D}-dev.txt",
    "test": "3-VLSP2018-SA-{D}-test.txt",
}
_RECORD_START = re.compile(r"^#(\d+)\s*$", re.MULTILINE)
_TUPLE = re.compile(r"\{\s*([^,{}]+?)\s*,\s*(positive|negative|neutral)\s*\}")
_VLSP2016_SENTIMENT = {"-1": "negative", "0": "neutral", "1": "positive"}


def parse_vlsp2018(domain: str, data_dir: Path, split: str) -> list[SourceRow]:
    """The authoritative .txt release: ``#id``, text lines, one ``{E#A, polarity}, ...`` line.

    Records are cut at ``#<digits>`` lines rather than blank lines because restaurant posts
    contain blank lines and hashtags of their own.
    """
    path = data_dir / "vlsp2018_absa" / domain / _VLSP2018_FILE[split].format(D=domain.title())
    content = read_text(path)
    starts = list(_RECORD_START.finditer(content))
    rows = []
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(content)
        lines = [line for line in content[match.end() : end].split("\n") if line.strip()]
        if not lines or not lines[-1].lstrip().startswith("{"):
            raise DataError(f"{path} record #{match.group(1)}: no label line", path=str(path))
        aspects = tuple(Aspect(label, polarity) for label, polarity in _TUPLE.findall(lines[-1]))
        rows.append(
            SourceRow(
                raw="\n".join(lines[:-1]).strip(),
                aspects=aspects,
                meta=frozen_meta({"id": match.group(1)}),
            )
        )
    return rows


def parse_vlsp2016(data_dir: Path, split: str) -> list[SourceRow]:
    """Tab-separated despite the .csv name; ``Class`` is -1/0/1, quotes are literal text."""
    path = data_dir / "vlsp2016_sa" / f"sentiment_{split}.csv"
    rows = []
    for number, line in enumerate(read_text(path).split("\n")[1:], 2):
        if not line.strip():
            continue
        label, _, text = line.partition("\t")
        if label.strip() not in _VLSP2016_SENTIMENT:
            raise DataError(f"{path} line {number}: unknown class {label!r}", path=str(path))
        rows.append(SourceRow(raw=text.strip(), sentiment=_VLSP2016_SENTIMENT[label.strip()]))
    return rows
