"""Scoring model completions on the eval config (and the imported official test set) in the sandbox."""

from .compare import case_matches, values_close
from .extract import Extracted, extract_code
from .passk import mean_pass_at_k, pass_at_k
from .scorer import EvalConfig, EvalReport, evaluate, load_items, load_predictions, score

__all__ = [
    "EvalConfig",
    "EvalReport",
    "Extracted",
    "case_matches",
    "evaluate",
    "extract_code",
    "load_items",
    "load_predictions",
    "mean_pass_at_k",
    "pass_at_k",
    "score",
    "values_close",
]
