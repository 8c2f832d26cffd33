"""Where vicx finds its own resources and the shared corpora.

Resources (lexicons, shipped models) live in the source tree next to the packages during
development and inside the wheel (``nlp/_resources``) once installed; corpora are never
shipped and are looked up through ``VICX_DATA_DIR`` (default ``../shared/data``).
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_SOURCE_ROOT = _PACKAGE_DIR.parent
_INSTALLED_RESOURCES = _PACKAGE_DIR / "_resources"


def _resource_root() -> Path:
    """The folder that holds ``data/`` and ``models/``: the wheel's copy wins when present."""
    if (_INSTALLED_RESOURCES / "data").is_dir():
        return _INSTALLED_RESOURCES
    return _SOURCE_ROOT


def project_data_dir() -> Path:
    """The project's own data folder (lexicons, taxonomy, gold sets)."""
    return _resource_root() / "data"


def lexicon_dir() -> Path:
    return project_data_dir() / "lexicons"


def source_data_dir() -> Path:
    """``data/`` of the source checkout: gold and training sets are not installed with the wheel."""
    return _SOURCE_ROOT / "data"


def models_dir() -> Path:
    """The bundled models, overridable with ``VICX_MODEL_DIR``."""
    override = os.environ.get("VICX_MODEL_DIR")
    if override:
        return Path(override)
    return _resource_root() / "models"


def corpora_dir() -> Path:
    """The shared labelled corpora, read only by training and evaluation code."""
    override = os.environ.get("VICX_DATA_DIR")
    if override:
        return Path(override)
    return _SOURCE_ROOT.parent / "shared" / "data"
