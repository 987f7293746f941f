"""Reading a release back: :func:`load`, ``datasets.load_dataset`` at a version's tag."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..schema import DIFFICULTIES, difficulty_name
from .versioning import _version_str, parse_version


def load(
    repo_or_folder: str | Path,
    config: str | None = None,
    *,
    version: str | None = None,
    difficulty: str | None = None,
    split: str | None = None,
    token: str | None = None,
    **load_dataset_kwargs: Any,
) -> Any:
    """One call to read a Case2Code dataset: ``datasets.load_dataset`` at a version's tag.

    Defaults as ``load_dataset`` does: no config is the dataset's default (``raw``), no split
    gives every split (a ``DatasetDict``); other keyword arguments (``streaming=True``,
    ``cache_dir``, ``num_proc``, ...) are passed through.

    Args:
        repo_or_folder: ``org/name`` on the Hub, or a local dataset folder.
        config: a config of the dataset (``raw``, ``prompted``, ``chat``, ``text``, ``rl``, ``eval``).
        version: ``X.Y.Z`` (the tag ``vX.Y.Z``); default the repo's ``main``. Hub only.
        difficulty: ``easy`` / ``medium`` / ``hard``: the eval split of that name, or the rows of
            that difficulty in the other configs.
        split: the split to read; with ``difficulty`` on ``eval``, at most that difficulty or ``test``.
        token: a Hub token for private repos.
        **load_dataset_kwargs: passed to ``datasets.load_dataset``.

    Returns:
        What ``load_dataset`` returns: a ``Dataset`` (or ``IterableDataset`` when streaming) for
        a split, else a ``DatasetDict``.

    Raises:
        ConfigError: an unknown difficulty, a version for a local folder, or a split that
            contradicts ``difficulty``, or a split the build has no rows of.
    """
    from datasets import load_dataset

    if difficulty is not None and difficulty not in DIFFICULTIES:
        raise ConfigError(f"difficulty must be one of {', '.join(DIFFICULTIES)}, got {difficulty!r}", field="difficulty")
    local = Path(repo_or_folder).is_dir()
    if local and version is not None:
        raise ConfigError("a version applies to a Hub repo, not to a local folder", field="version")
    revision = f"v{_version_str(parse_version(version))}" if version is not None else None
    filter_difficulty = None
    if config == "eval" and difficulty is not None:
        if split not in (None, "test", difficulty):
            raise ConfigError(f"split {split!r} contradicts difficulty {difficulty!r}", field="split")
        split = difficulty
    elif difficulty is not None:
        filter_difficulty = difficulty
    kwargs: dict[str, Any] = {"split": split, **load_dataset_kwargs}
    if not local:
        kwargs.update(revision=revision, token=token)
    try:
        dataset = load_dataset(str(repo_or_folder), config, **kwargs)
    except ValueError as exc:
        if not str(exc).startswith("Unknown split"):
            raise
        where = f"{repo_or_folder}@{revision}" if revision else str(repo_or_folder)
        raise ConfigError(f"{where}: config {config!r} has no split {split!r} (no rows of it in this build)", field="split") from None
    if filter_difficulty is not None:
        # A ClassLabel code, or the name in a release from before the column was a ClassLabel.
        dataset = dataset.filter(lambda level: difficulty_name(level) == filter_difficulty, input_columns="difficulty")
    return dataset
