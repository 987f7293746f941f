"""Dataset building: difficulty, train/eval split, prompt templates, the card, and the folder build."""

from .folder import BuildConfig, BuildReport, build_dataset

__all__ = ["BuildConfig", "BuildReport", "build_dataset"]
