"""Which corpora exist, how each is parsed, and the shared load pipeline.

Pipeline per corpus: parse every split -> (optionally) strip template phrases -> normalise ->
drop empty texts -> de-duplicate within each split -> remove from earlier splits the texts a
later split holds (see :mod:`nlp.corpora.dedup`). Whole corpora are built at once because the
cross-split rule needs every split, and cached because training calls ``load_corpus`` often.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from types import MappingProxyType

from nlp.errors import CorpusNotFoundError, DataError
from nlp.normalize import normalize
from nlp.paths import corpora_dir

from . import ecommerce, uit, vlsp
from .dedup import SplitReport, dedup_within, drop_texts
from .records import SPLITS, CorpusRecord, SourceRow
from .templates import strip_templates as strip_template_phrases

Parser = Callable[[Path, str], list[SourceRow]]


def _unchanged(raw: str) -> str:
    return raw


def _not_spam(row: SourceRow) -> bool:
    return row.meta.get("spam") == "0"


def _every_row(row: SourceRow) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class CorpusSpec:
    name: str
    splits: tuple[str, ...]
    licence: str
    leakage_group: str
    parse: Parser
    # The text normalisation starts from (tiki must undo its word segmentation first).
    surface: Callable[[str], str] = _unchanged
    keep: Callable[[SourceRow], bool] = _every_row


_RESEARCH_VLSP = "VLSP user agreement, research use only (third-party redistribution)"
_SPECS: tuple[CorpusSpec, ...] = (
    CorpusSpec(
        "uit_vsfc",
        SPLITS,
        "UIT-VSFC (KSE 2018): no licence stated, research use only; ask UIT before commercial use",
        "uit_vsfc",
        uit.parse_vsfc,
    ),
    CorpusSpec(
        "uit_visfd",
        SPLITS,
        "UIT-ViSFD (KSEM 2021): free for research; commercial use needs UIT's permission",
        "uit_smartphone",
        uit.parse_visfd,
    ),
    CorpusSpec(
        "uit_visd4sa",
        SPLITS,
        "UIT-ViSD4SA (PACLIC 2021): no licence stated, research use only",
        "uit_smartphone",
        uit.parse_visd4sa,
    ),
    CorpusSpec(
        "vlsp2018_hotel",
        SPLITS,
        f"VLSP 2018 ABSA hotel: {_RESEARCH_VLSP}",
        "vlsp2018_hotel",
        partial(vlsp.parse_vlsp2018, "hotel"),
    ),
    CorpusSpec(
        "vlsp2018_restaurant",
        SPLITS,
        f"VLSP 2018 ABSA restaurant: {_RESEARCH_VLSP}",
        "vlsp2018_restaurant",
        partial(vlsp.parse_vlsp2018, "restaurant"),
    ),
    CorpusSpec(
        "vlsp2016_sa",
        ("train", "test"),
        f"VLSP 2016 SA: {_RESEARCH_VLSP}",
        "vlsp2016_sa",
        vlsp.parse_vlsp2016,
    ),
    CorpusSpec(
        "aivivn2019",
        ("train",),
        "AIVIVN 2019 competition data: no terms stated, research use only, redistribution unknown",
        "aivivn2019",
        ecommerce.parse_aivivn,
    ),
    CorpusSpec(
        "tiki_fashion_absa",
        SPLITS,
        "MIT License (c) 2024 Pham Xuan Khang; review texts are Tiki user content",
        "tiki_fashion_absa",
        ecommerce.parse_tiki,
        surface=ecommerce.tiki_surface_text,
    ),
    CorpusSpec(
        "shopee_lipstick_absa",
        SPLITS,
        "PACLIC 2022 (UIT): no licence stated, research use only; texts are Shopee user content",
        "shopee_lipstick_absa",
        ecommerce.parse_shopee,
    ),
    CorpusSpec(
        "vispamreviews",
        SPLITS,
        "ViSpamReviews (ACIIDS 2022): CC BY-NC 4.0, non-commercial research use only",
        "vispamreviews",
        ecommerce.parse_vispam,
        keep=_not_spam,
    ),
)
_REGISTRY: Mapping[str, CorpusSpec] = MappingProxyType({spec.name: spec for spec in _SPECS})

CORPORA: tuple[str, ...] = tuple(_REGISTRY)
LEAKAGE_GROUP: Mapping[str, str] = MappingProxyType(
    {spec.name: spec.leakage_group for spec in _SPECS}
)


def _spec(name: str) -> CorpusSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise CorpusNotFoundError(
            f"Unknown corpus {name!r}; valid names: {', '.join(CORPORA)}", name=name
        ) from None


def corpus_splits(name: str) -> tuple[str, ...]:
    """The labelled splits of ``name``, in train -> test order."""
    return _spec(name).splits


def corpus_licence(name: str) -> str:
    """A one-line licence / terms summary from the corpus's SOURCE.md, for model manifests."""
    return _spec(name).licence


@dataclass(frozen=True, slots=True)
class _BuiltCorpus:
    records: Mapping[str, tuple[CorpusRecord, ...]]
    reports: Mapping[str, SplitReport]


@lru_cache(maxsize=64)
def _parse(name: str, data_dir: Path, split: str) -> tuple[SourceRow, ...]:
    return tuple(_spec(name).parse(data_dir, split))


@lru_cache(maxsize=64)
def _build(name: str, data_dir: Path, strip_templates: bool, include_spam: bool) -> _BuiltCorpus:
    spec = _spec(name)
    keep = _every_row if include_spam else spec.keep
    staged: dict[str, list[CorpusRecord]] = {}
    counts: dict[str, dict[str, int]] = {}
    for split in spec.splits:
        rows = [row for row in _parse(name, data_dir, split) if keep(row)]
        records = []
        for row in rows:
            source = strip_template_phrases(row.raw) if strip_templates else row.raw
            text = normalize(spec.surface(source)).strip()
            if text:
                records.append(
                    CorpusRecord(
                        name, split, row.raw, text, row.sentiment, row.stars, row.aspects, row.meta
                    )
                )
        kept, duplicates, conflicting = dedup_within(records)
        staged[split] = kept
        counts[split] = {
            "source_rows": len(rows),
            "template_only": len(rows) - len(records),
            "duplicates": duplicates,
            "conflicting": conflicting,
        }
    later: set[str] = set()
    built: dict[str, tuple[CorpusRecord, ...]] = {}
    reports: dict[str, SplitReport] = {}
    for split in reversed(spec.splits):
        kept, removed = drop_texts(staged[split], later)
        later.update(record.text for record in kept)
        built[split] = tuple(kept)
        reports[split] = SplitReport(**counts[split], in_later_split=removed, kept=len(kept))
    return _BuiltCorpus(MappingProxyType(built), MappingProxyType(reports))


def _load(
    name: str, data_dir: Path | None, strip_templates: bool, include_spam: bool
) -> _BuiltCorpus:
    # Resolved per call, not cached, so a changed VICX_DATA_DIR takes effect.
    root = (data_dir if data_dir is not None else corpora_dir()).resolve()
    if not root.is_dir():
        raise CorpusNotFoundError(
            f"Corpora folder not found: {root}. Set VICX_DATA_DIR to the folder that holds "
            "the shared corpora (default ../shared/data).",
            path=str(root),
        )
    return _build(name, root, strip_templates, include_spam)


def _check_split(name: str, split: str) -> None:
    if split not in corpus_splits(name):
        raise DataError(
            f"Corpus {name!r} has no split {split!r}; valid splits: "
            f"{', '.join(corpus_splits(name))}",
            name=name,
            split=split,
        )


def load_corpus(
    name: str, split: str, *, data_dir: Path | None = None, strip_templates: bool = True
) -> list[CorpusRecord]:
    """The de-duplicated records of one split of one corpus.

    >>> [r.sentiment for r in load_corpus("aivivn2019", "train")][:2]  # doctest: +SKIP
    ['positive', 'positive']
    """
    _spec(name)
    _check_split(name, split)
    return list(_load(name, data_dir, strip_templates, include_spam=False).records[split])


def load_spam_reviews(
    split: str, *, data_dir: Path | None = None, strip_templates: bool = True
) -> list[CorpusRecord]:
    """vispamreviews with the spam rows kept (``meta['spam']`` "1", ``meta['spam_type']``),
    for training a junk-answer filter. De-duplicated like every corpus."""
    _check_split("vispamreviews", split)
    return list(_load("vispamreviews", data_dir, strip_templates, include_spam=True).records[split])


def dedup_report(
    name: str, *, data_dir: Path | None = None, strip_templates: bool = True
) -> Mapping[str, SplitReport]:
    """Per split, how many source rows each cleaning step removed (see docs/CORPORA.md)."""
    return _load(name, data_dir, strip_templates, include_spam=False).reports
