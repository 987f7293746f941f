"""Scoring model completions in the sandbox: the eval config, the imported official test set, one
completion (``grade``) and RL rewards (``CaseReward``), all by one grading rule."""

from .compare import case_matches, values_close
from .extract import Extracted, extract_code
from .grading import Grade, grade
from .passk import mean_pass_at_k, pass_at_k
from .rewards import CaseReward, pass_rates
from .grading import EvalConfig
from .scorer import EvalReport, evaluate, load_items, load_predictions, score

__all__ = [
    "CaseReward",
    "EvalConfig",
    "EvalReport",
    "Extracted",
    "Grade",
    "case_matches",
    "evaluate",
    "extract_code",
    "grade",
    "load_items",
    "load_predictions",
    "mean_pass_at_k",
    "pass_at_k",
    "pass_rates",
    "score",
    "values_close",
]
