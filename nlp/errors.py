"""The error catalogue of the text pipeline.

Every error vicx raises on purpose is a :class:`VicxError` with a stable ``code``. The CLI and
the API translate these once, at their boundary, into exit codes and HTTP envelopes; library
code never prints or exits.
"""

from __future__ import annotations

from typing import Any


class VicxError(Exception):
    """Base class: ``code`` is stable and machine-readable, the message is for people."""

    code = "E000_internal"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class InputError(VicxError):
    """The caller's input cannot be used as given."""

    code = "E100_bad_input"


class UnsupportedFormatError(InputError):
    """The file's extension is not one vicx reads (CSV, TSV, XLSX, JSONL)."""

    code = "E101_unsupported_format"


class EncodingError(InputError):
    """The file is not UTF-8, UTF-8 with BOM, UTF-16 with BOM or Windows-1258 text."""

    code = "E102_unreadable_encoding"


class MissingColumnError(InputError):
    """A named column is not in the file; details list the available ones."""

    code = "E103_missing_column"


class EmptyInputError(InputError):
    """The file or request holds no rows or no text to analyse."""

    code = "E104_empty_input"


class MalformedFileError(InputError):
    """The file cannot be parsed as its format (broken CSV quoting, bad JSON line, not a zip)."""

    code = "E105_malformed_file"


class ScoreRangeError(InputError):
    """A score column holds values outside its scale (NPS 0-10, CSAT 1-5, CES 1-7, stars 1-5)."""

    code = "E106_score_out_of_range"


class TooFewRowsError(InputError):
    """Too few scored rows (or too few of one class) to fit and cross-validate a model."""

    code = "E107_too_few_rows"


class SingleClassError(InputError):
    """Every scored row falls on the same side of the detractor cut: nothing to learn."""

    code = "E108_single_class"


class DateParseError(InputError):
    """A date cell is not a date vicx can read (ISO yyyy-mm-dd, dd/mm/yyyy and the like)."""

    code = "E109_unparseable_date"


class ModelError(VicxError):
    """A model bundle is missing, corrupted or incompatible."""

    code = "E200_model"


class ModelNotFoundError(ModelError):
    """A model bundle folder or file is missing."""

    code = "E201_model_not_found"


class ModelCorruptedError(ModelError):
    """A model bundle's file does not match its manifest hash or cannot be unpickled."""

    code = "E202_model_corrupted"


class ModelIncompatibleError(ModelError):
    """A bundle was built with other library versions or another features (or sentiment) bundle."""

    code = "E203_model_incompatible"


class DataError(VicxError):
    """Training or evaluation data (corpora, gold sets) is missing or malformed."""

    code = "E300_data"


class CorpusNotFoundError(DataError):
    """A corpus file is missing under the corpora folder (VICX_DATA_DIR)."""

    code = "E301_corpus_not_found"


class GoldSetError(DataError):
    """A gold or training JSONL row is malformed."""

    code = "E302_gold_set_invalid"


RETRAIN_HINT = (
    "Rebuild the bundles with `vicx train sentiment`, then `vicx train topics` and "
    "`vicx train detractor` (see README, 'Training and evaluation')."
)
