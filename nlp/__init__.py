"""vicx's Vietnamese text pipeline: normalise, tokenise, featurise, and the model heads.

``from nlp import Analyzer`` is the public entry point; nothing here imports web code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nlp.analyzer import Analyzer
    from nlp.result import Result

__all__ = ["Analyzer", "Result"]


def __getattr__(name: str) -> Any:
    # Lazy, so `import nlp` (e.g. by the CLI's --help) does not pay for scikit-learn and pandas.
    if name == "Analyzer":
        from nlp.analyzer import Analyzer

        return Analyzer
    if name == "Result":
        from nlp.result import Result

        return Result
    raise AttributeError(f"module 'nlp' has no attribute {name!r}")
