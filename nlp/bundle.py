"""Model bundles: a folder with ``manifest.json``, ``model.joblib`` and ``CARD.md``.

Loading checks the file hashes and the library versions the bundle was built with, because a
joblib pickle from another scikit-learn release can load silently and predict garbage.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Final

import joblib

from nlp.errors import (
    ModelCorruptedError,
    ModelIncompatibleError,
    ModelNotFoundError,
)

MANIFEST: Final = "manifest.json"
MODEL_FILE: Final = "model.joblib"
CARD: Final = "CARD.md"
FORMAT_VERSION: Final = 1

#: Libraries whose pickled objects live inside bundles; a minor-version change can alter them.
PINNED_LIBRARIES: Final = ("scikit-learn", "numpy", "scipy")


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in (*PINNED_LIBRARIES, "joblib", "vicx"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


@dataclass(slots=True)
class Bundle:
    """A loaded bundle: the fitted object plus its manifest."""

    name: str
    version: str
    path: Path
    model: Any
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def tag(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def model_sha256(self) -> str | None:
        """The recorded hash of ``model.joblib``: what a head pins as ``features_sha256``."""
        files = self.manifest.get("files", {})
        sha = files.get(MODEL_FILE)
        return None if sha is None else str(sha)


def save_bundle(
    folder: Path,
    model: Any,
    *,
    name: str,
    version: str,
    manifest: dict[str, Any],
    card: str,
) -> Path:
    """Write the model, its card and a manifest that records hashes and library versions."""
    folder.mkdir(parents=True, exist_ok=True)
    model_path = folder / MODEL_FILE
    # compress=3 is a good size/speed trade-off for float32 coefficient arrays.
    joblib.dump(model, model_path, compress=3)
    (folder / CARD).write_text(card, encoding="utf-8")
    full_manifest = {
        "format_version": FORMAT_VERSION,
        "name": name,
        "version": version,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "libraries": library_versions(),
        **manifest,
        "files": {MODEL_FILE: sha256(model_path), CARD: sha256(folder / CARD)},
    }
    (folder / MANIFEST).write_text(
        json.dumps(full_manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return folder


def read_manifest(folder: Path) -> dict[str, Any]:
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise ModelNotFoundError(
            f"No model bundle at {folder} (missing {MANIFEST}).",
            path=str(folder),
        )
    try:
        manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelCorruptedError(
            f"The manifest of bundle {folder} is not valid JSON: {exc}.", path=str(folder)
        ) from exc
    return manifest


def check_compatible(manifest: dict[str, Any], folder: Path, retrain_hint: str) -> None:
    built_with = manifest.get("libraries", {})
    running = library_versions()
    for library in PINNED_LIBRARIES:
        built, now = built_with.get(library), running.get(library)
        if built is None or now is None or _minor(built) != _minor(now):
            raise ModelIncompatibleError(
                f"Bundle {folder.name} was built with {library} {built}, but {now} is installed. "
                f"Install {library}=={built} or retrain: {retrain_hint}",
                path=str(folder),
                library=library,
                built_with=built,
                installed=now,
            )


def _check_schema(model: Any, folder: Path, retrain_hint: str) -> None:
    """A class that declares ``SCHEMA`` refuses pickles of an older layout of itself.

    Unpickling never runs ``__init__``, so an object saved before a parameter was added loads
    fine and fails later, mid-analysis, with an AttributeError; this turns that into a clear
    error at load time.
    """
    expected = getattr(type(model), "SCHEMA", None)
    found = getattr(model, "schema_", None)
    if expected is not None and found != expected:
        raise ModelIncompatibleError(
            f"Bundle {folder.name} holds a {type(model).__name__} of layout {found}, but this "
            f"version of vicx reads layout {expected}. {retrain_hint}",
            path=str(folder),
            built_with=found,
            installed=expected,
        )


def load_bundle(folder: Path, *, retrain_hint: str) -> Bundle:
    """Load a bundle after checking hashes and library versions; errors say how to rebuild it."""
    manifest = read_manifest(folder)
    for filename, expected in manifest.get("files", {}).items():
        path = folder / filename
        if not path.is_file():
            raise ModelCorruptedError(
                f"Bundle {folder.name} lacks {filename}. {retrain_hint}", path=str(path)
            )
        if sha256(path) != expected:
            raise ModelCorruptedError(
                f"Bundle {folder.name}: {filename} does not match its recorded hash "
                f"(the file is corrupted or was edited). {retrain_hint}",
                path=str(path),
            )
    check_compatible(manifest, folder, retrain_hint)
    try:
        model = joblib.load(folder / MODEL_FILE)
    except Exception as exc:  # a pickle can fail in many ways; all mean the same to the user
        raise ModelCorruptedError(
            f"Bundle {folder.name} could not be unpickled ({type(exc).__name__}: {exc}). "
            f"{retrain_hint}",
            path=str(folder),
        ) from exc
    _check_schema(model, folder, retrain_hint)
    return Bundle(
        name=str(manifest["name"]),
        version=str(manifest["version"]),
        path=folder,
        model=model,
        manifest=manifest,
    )
