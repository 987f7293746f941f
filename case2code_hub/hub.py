"""Versioned releases on the Hugging Face Hub: one commit and one ``vX.Y.Z`` tag per version.

:func:`push` publishes a dataset folder (what ``case2code build`` writes) as one commit holding
the data files, the card (with a changelog of all versions) and a ``case2code.json`` manifest,
then tags it. :func:`versions` lists what was published; :func:`load` reads any version back
with stock ``datasets.load_dataset``. Endpoint and token come from ``huggingface_hub``'s own
resolution (``HF_ENDPOINT``, ``HF_TOKEN``, ``hf auth login``) unless given.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from . import __version__
from .dataset.plots import dataset_plots
from .errors import ConfigError, DatasetError, HubError, VersionError
from .schema import DIFFICULTIES
from .utils.logging import get_logger

if TYPE_CHECKING:
    from huggingface_hub import HfApi

logger = get_logger(__name__)

MANIFEST = "case2code.json"
MANIFEST_FORMAT = 1
CARD = "README.md"
_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")
_TAG = re.compile(r"v(\d+)\.(\d+)\.(\d+)")
PLOTS_DIR = "plots"
_SECTIONS_START = "<!-- case2code-hub:release -->"
_SECTIONS_END = "<!-- /case2code-hub:release -->"


@dataclass
class PushResult:
    """What :func:`push` did (or, with ``dry_run``, would do).

    ``uploaded``: paths written by the commit (new or changed); ``unchanged``: local files already
    on the Hub with the same content, not sent again; ``deleted``: remote data files the version
    no longer has; ``resumed``: an earlier run's commit was found and only tagged.
    """

    repo_id: str
    version: str
    tag: str
    commit: str | None
    uploaded: list[str]
    unchanged: list[str]
    deleted: list[str]
    manifest: dict[str, Any]
    dry_run: bool = False
    resumed: bool = False
    commit_url: str | None = None
    pr_url: str | None = None


@dataclass
class VersionInfo:
    """One published version: its tag, commit, date and what its manifest says."""

    version: str
    tag: str
    commit: str
    date: datetime | None
    message: str | None
    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    difficulty: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    toolkit_version: str | None = None


def parse_version(version: str) -> tuple[int, int, int]:
    """``"1.2.3"`` or ``"v1.2.3"`` as a tuple of ints.

    Raises:
        VersionError: not of the form ``X.Y.Z``.
    """
    match = _VERSION.fullmatch(str(version).strip())
    if match is None:
        raise VersionError(f"version must look like 1.2.3, got {version!r}", version=str(version))
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def _version_str(parts: tuple[int, int, int]) -> str:
    return ".".join(map(str, parts))


# -- the local folder -------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _local_files(folder: Path) -> list[str]:
    """Every file to publish, as sorted posix paths; hidden paths and our own manifest are left out."""
    files = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts) and rel.as_posix() != MANIFEST:
            files.append(rel.as_posix())
    return sorted(files)


def _card_configs(card_data: Mapping[str, Any]) -> list[tuple[str, str, list[str]]]:
    """``(config, split, patterns)`` from the card's YAML ``configs:``."""
    out = []
    for config in card_data.get("configs") or []:
        data_files = config.get("data_files") or []
        if isinstance(data_files, str):
            data_files = [{"split": "train", "path": data_files}]
        for item in data_files:
            patterns = item.get("path")
            out.append((config["config_name"], item.get("split", "train"), [patterns] if isinstance(patterns, str) else list(patterns)))
    return out


def _config_files(facts: "FolderFacts", config: str) -> list[str]:
    """The folder's files that the card's ``configs:`` give to ``config``."""
    patterns = [p for name, _, pats in _card_configs(facts.card_data) if name == config for p in pats]
    return [n for n in facts.files if any(fnmatch.fnmatchcase(n, p) for p in patterns)]


def _count_rows(folder: Path, files: list[str], card_data: Mapping[str, Any]) -> tuple[dict, dict]:
    """Rows per config / split and, where rows have ``difficulty``, per difficulty too.

    Reads Parquet footers and the ``difficulty`` column only, never the whole data.
    """
    import pyarrow.parquet as pq

    per_file: dict[str, tuple[int, dict[str, int]]] = {}
    for name in files:
        if not name.endswith(".parquet"):
            continue
        meta = pq.ParquetFile(folder / name)
        levels: dict[str, int] = {}
        if "difficulty" in meta.schema_arrow.names:
            column = pq.read_table(folder / name, columns=["difficulty"]).column("difficulty").to_pylist()
            for level in column:
                levels[str(level)] = levels.get(str(level), 0) + 1
        per_file[name] = (meta.metadata.num_rows, levels)

    specs = _card_configs(card_data)
    if not specs:  # no configs in the card: one config per top folder, split from the file name
        specs = sorted({(n.split("/")[0], Path(n).name.split("-")[0], [f"{n.split('/')[0]}/{Path(n).name.split('-')[0]}-*"]) for n in per_file if "/" in n}, key=str)  # type: ignore[arg-type]
    rows: dict[str, dict[str, int]] = {}
    difficulty: dict[str, dict[str, dict[str, int]]] = {}
    for config, split, patterns in specs:
        matched = [n for n in per_file if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
        rows.setdefault(config, {})[split] = sum(per_file[n][0] for n in matched)
        levels: dict[str, int] = {}
        for name in matched:
            for level, count in per_file[name][1].items():
                levels[level] = levels.get(level, 0) + count
        if levels:
            ordered = [lvl for lvl in DIFFICULTIES if lvl in levels] + sorted(set(levels) - set(DIFFICULTIES))
            difficulty.setdefault(config, {})[split] = {lvl: levels[lvl] for lvl in ordered}
    return rows, difficulty


def _folder_metadata(folder: Path) -> dict[str, Any]:
    """Top-level JSON files the builder left (build facts, config), keyed by file name."""
    out: dict[str, Any] = {}
    for path in sorted(folder.glob("*.json")):
        if path.name == MANIFEST:
            continue
        try:
            out[path.name] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            logger.warning("%s: not readable JSON, left out of the manifest", path)
    return out


# -- the card's changelog -------------------------------------------------------------------


def _main_rows(rows: Mapping[str, Mapping[str, int]], config: str) -> int | None:
    splits = rows.get(config) or {}
    for split in ("train", "test"):
        if split in splits:
            return splits[split]
    return max(splits.values()) if splits else None


def changelog_section(history: list[VersionInfo], current: VersionInfo, *, repo_id: str) -> str:
    """Markdown changelog, newest first: each version's rows per config against the one before."""
    entries = sorted([*history, current], key=lambda v: parse_version(v.version), reverse=True)
    configs = sorted({c for v in entries for c in v.rows}, key=lambda c: (c not in ("raw", "prompted", "eval"), ("raw", "prompted", "eval").index(c) if c in ("raw", "prompted", "eval") else 0, c))
    lines = [
        "## Changelog",
        "",
        "Every version is a tag; pin the one you trained or evaluated on:",
        "",
        "```python",
        f'load_dataset("{repo_id}", "eval", split="hard", revision="{current.tag}")',
        "```",
        "",
        "Rows per config, with the change from the version before.",
        "",
        "| Version | Date | Message | " + " | ".join(f"`{c}`" for c in configs) + " |",
        "| --- | --- | --- |" + " ---: |" * len(configs),
    ]
    for index, entry in enumerate(entries):
        before = entries[index + 1] if index + 1 < len(entries) else None
        cells = []
        for config in configs:
            now = _main_rows(entry.rows, config)
            old = _main_rows(before.rows, config) if before else None
            cell = "" if now is None else str(now)
            if now is not None and old is not None:
                cell += f" ({now - old:+d})"
            cells.append(cell)
        date = entry.date.date().isoformat() if entry.date else "this version"
        message = (entry.message or "").replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `v{entry.version}` | {date} | {message} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plots_section(plots: Mapping[str, tuple[str, bytes]]) -> str:
    """Markdown that shows the release's plots (PNG files committed next to the card)."""
    if not plots:
        return ""
    lines = ["## Plots", ""]
    lines += [f"![{title}]({PLOTS_DIR}/{name})" for name, (title, _) in plots.items()]
    return "\n".join(lines)


def render_release_card(card_text: str, sections: str) -> str:
    """The folder's card with release sections (plots, changelog) before ``## Citation``.

    Sections an earlier release put in the card are replaced, not repeated.

    Rendered through ``huggingface_hub.DatasetCard`` so the YAML header round-trips unchanged.
    """
    from huggingface_hub import DatasetCard

    card = DatasetCard(card_text)
    body = card.text
    changelog = f"{_SECTIONS_START}\n{sections.strip()}\n{_SECTIONS_END}"
    if _SECTIONS_START in body and _SECTIONS_END in body:
        start, end = body.index(_SECTIONS_START), body.index(_SECTIONS_END) + len(_SECTIONS_END)
        body = body[:start] + changelog + body[end:]
    elif "\n## Citation" in body:
        at = body.index("\n## Citation")
        body = body[:at] + "\n" + changelog + "\n" + body[at:]
    else:
        body = body.rstrip("\n") + "\n\n" + changelog + "\n"
    card.text = body
    return str(card)


# -- the remote repo ------------------------------------------------------------------------


def _describe(exc: BaseException, token: str | None) -> str:
    """One line about a client error, without the token (defence in depth: clients never echo it)."""
    from huggingface_hub.errors import HfHubHTTPError

    if isinstance(exc, HfHubHTTPError) and exc.response is not None:
        text = f"HTTP {exc.response.status_code}"
        if server := (exc.server_message or "").strip():
            text += f": {server.splitlines()[0]}"
    else:
        cause = exc.__cause__ or exc
        text = f"{type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}".rstrip(": ")
    return text.replace(token, "***") if token else text


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _api(token: str | None, endpoint: str | None) -> "HfApi":
    from huggingface_hub import HfApi

    return HfApi(endpoint=endpoint, token=token, library_name="case2code-hub", library_version=__version__)


def _read_manifest(api: "HfApi", repo_id: str, revision: str) -> dict[str, Any] | None:
    from huggingface_hub.errors import EntryNotFoundError

    try:
        path = api.hf_hub_download(repo_id, MANIFEST, repo_type="dataset", revision=revision)
    except EntryNotFoundError:
        return None
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _tagged_versions(api: "HfApi", repo_id: str, *, include_prs: bool = False) -> tuple[dict[tuple[int, int, int], str], dict[str, str], list[str]] | None:
    """``({version: commit}, {branch: commit}, [PR head commits])``, or None when the repo does not exist."""
    from huggingface_hub.errors import RepositoryNotFoundError

    try:
        refs = api.list_repo_refs(repo_id, repo_type="dataset", include_pull_requests=include_prs)
    except RepositoryNotFoundError:
        return None
    tags = {}
    for ref in refs.tags:
        if m := _TAG.fullmatch(ref.name):
            tags[(int(m.group(1)), int(m.group(2)), int(m.group(3)))] = ref.target_commit
    branches = {ref.name: ref.target_commit for ref in refs.branches}
    prs = [ref.target_commit for ref in refs.pull_requests or []]
    return tags, branches, prs


def _history(api: "HfApi", repo_id: str, tags: Mapping[tuple[int, int, int], str]) -> list[VersionInfo]:
    out = []
    for parts, commit in sorted(tags.items()):
        manifest = _read_manifest(api, repo_id, commit) or {}
        date, title = None, None
        commits = api.list_repo_commits(repo_id, repo_type="dataset", revision=commit)
        if commits:
            date, title = commits[0].created_at, commits[0].title
        out.append(
            VersionInfo(
                version=_version_str(parts),
                tag=f"v{_version_str(parts)}",
                commit=commit,
                date=date,
                message=manifest.get("message") or title,
                rows=manifest.get("rows", {}),
                difficulty=manifest.get("difficulty", {}),
                toolkit_version=(manifest.get("toolkit") or {}).get("version"),
            )
        )
    return out


def versions(repo_id: str, *, token: str | None = None, endpoint: str | None = None) -> list[VersionInfo]:
    """Published versions of a dataset repo, oldest first, from its ``vX.Y.Z`` tags and manifests.

    Args:
        repo_id: ``org/name`` on the Hub.
        token: a Hub token; default huggingface_hub's resolution (``HF_TOKEN``, saved login).
        endpoint: the Hub's URL; default ``HF_ENDPOINT`` or huggingface.co.

    Returns:
        One :class:`VersionInfo` per version tag.

    Raises:
        HubError: the repo does not exist, is not visible with this token, or cannot be reached.
    """
    api = _api(token, endpoint)
    try:
        refs = _tagged_versions(api, repo_id)
        if refs is None:
            raise HubError(f"{repo_id}: dataset repo not found (private? pass a token)", repo_id=repo_id)
        return _history(api, repo_id, refs[0])
    except HubError:
        raise
    except Exception as exc:  # any client failure: one line, token scrubbed
        raise HubError(f"{repo_id}: cannot list versions: {_describe(exc, token)}", repo_id=repo_id) from None


def _remote_files(api: "HfApi", repo_id: str, revision: str) -> dict[str, tuple[str | None, str]]:
    """``path -> (lfs sha256 or None, git blob id)`` of every file at ``revision``."""
    from huggingface_hub.hf_api import RepoFile

    out = {}
    for item in api.list_repo_tree(repo_id, repo_type="dataset", revision=revision, recursive=True):
        if isinstance(item, RepoFile):
            out[item.path] = (item.lfs.sha256 if item.lfs else None, item.blob_id)
    return out


def _payload(source: Path | bytes) -> str | bytes:
    return source if isinstance(source, bytes) else str(source)


def _unchanged(local: Path | bytes, sha256: str, remote: tuple[str | None, str] | None) -> bool:
    """Whether the Hub already has this content at this path (LFS sha256, else git blob id)."""
    if remote is None:
        return False
    remote_sha256, blob_id = remote
    if remote_sha256 is not None:
        return remote_sha256 == sha256
    if isinstance(local, Path):
        if local.stat().st_size > 10 * 1024 * 1024:  # regular git files are small; a big one changed mode
            return False
        local = local.read_bytes()
    return blob_id == hashlib.sha1(b"blob %d\0" % len(local) + local).hexdigest()


def _stale(remote_path: str, local_files: Iterable[str]) -> bool:
    """A remote file the new version drops: a data file, or one in a folder this version writes."""
    local = set(local_files)
    if remote_path in local or remote_path in (MANIFEST, ".gitattributes"):
        return False
    top_folders = {name.split("/")[0] for name in local if "/" in name}
    return remote_path.endswith(".parquet") or ("/" in remote_path and remote_path.split("/")[0] in top_folders)


@dataclass
class FolderFacts:
    """What a dataset folder holds: files to publish, their checksums, counts and metadata."""

    files: list[str]
    checksums: dict[str, dict[str, Any]]
    rows: dict[str, dict[str, int]]
    difficulty: dict[str, dict[str, dict[str, int]]]
    card_text: str
    card_data: dict[str, Any]
    metadata: dict[str, Any]


def read_folder(folder: str | Path) -> FolderFacts:
    """Hash and count a dataset folder (Parquet footers and ``difficulty`` columns only).

    Raises:
        DatasetError: not a folder, no README.md, no Parquet files, or an unreadable card.
    """
    from huggingface_hub import DatasetCard

    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: dataset folder not found", path=str(folder))
    files = _local_files(folder)
    if CARD not in files:
        raise DatasetError(f"{folder}: no README.md: not a dataset folder (run `case2code build`)", path=str(folder))
    if not any(name.endswith(".parquet") for name in files):
        raise DatasetError(f"{folder}: no Parquet files to publish", path=str(folder))
    card_text = (folder / CARD).read_text(encoding="utf-8")
    try:
        card_data = DatasetCard(card_text).data.to_dict()
    except Exception as exc:  # yaml errors and ValueError alike: the card cannot be published
        raise DatasetError(f"{folder / CARD}: invalid card metadata: {exc}", path=str(folder / CARD)) from None
    rows, difficulty = _count_rows(folder, files, card_data)
    checksums = {name: {"sha256": _sha256(folder / name), "size": (folder / name).stat().st_size} for name in files if name != CARD}
    return FolderFacts(files, checksums, rows, difficulty, card_text, card_data, _folder_metadata(folder))


def build_manifest(
    facts: FolderFacts,
    *,
    version: str,
    message: str | None = None,
    previous: str | None = None,
    card_text: str | None = None,
    generated: Mapping[str, bytes] | None = None,
) -> dict[str, Any]:
    """The ``case2code.json`` of a release: toolkit, counts, sha256 of each file, folder metadata.

    Deterministic: no clock, no host, no token; the same folder and arguments give the same dict.

    Args:
        facts: what :func:`read_folder` found.
        version: ``X.Y.Z``.
        message: the release message.
        previous: the version this one follows, if any.
        card_text: the card as it will be published (default the folder's README.md).
        generated: files made for the release (plots), ``path -> bytes``.
    """
    card_bytes = (card_text if card_text is not None else facts.card_text).encode("utf-8")
    checksums = dict(facts.checksums)
    for name, data in {**(generated or {}), CARD: card_bytes}.items():
        checksums[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    return {
        "format": MANIFEST_FORMAT,
        "version": _version_str(parse_version(version)),
        "message": message,
        "previous_version": previous,
        "toolkit": {"name": "case2code-hub", "version": __version__},
        "pretty_name": facts.card_data.get("pretty_name"),
        "license": facts.card_data.get("license"),
        "rows": facts.rows,
        "difficulty": facts.difficulty,
        "files": dict(sorted(checksums.items())),
        "metadata": facts.metadata,
    }


def push(
    folder: str | Path,
    repo_id: str,
    *,
    version: str,
    message: str | None = None,
    private: bool = False,
    create_pr: bool = False,
    dry_run: bool = False,
    token: str | None = None,
    endpoint: str | None = None,
) -> PushResult:
    """Publish a dataset folder as version ``X.Y.Z``: one commit, then the tag ``vX.Y.Z`` on it.

    Nothing of a version is visible under its tag unless all of it landed. A run that failed after
    its commit landed but before the tag is finished by rerunning the same push: the commit is
    recognised by its manifest and only tagged. Files whose content is already on the Hub are not
    sent again; remote data files the new version no longer has are deleted in the same commit.

    Args:
        folder: the dataset folder (``README.md`` card, ``raw/``, ``prompted/``, ``eval/`` Parquet).
        repo_id: ``org/name`` of the dataset repo; created if missing.
        version: ``X.Y.Z``, above every version already published.
        message: release message (commit title and changelog); default ``"Release vX.Y.Z"``.
        private: create the repo private (an existing repo keeps its visibility).
        create_pr: commit as a pull request instead of onto ``main`` (the tag points at its commit).
        dry_run: read the repo, plan, and return what would be uploaded; write nothing.
        token: a Hub token; default huggingface_hub's resolution (``HF_TOKEN``, saved login).
        endpoint: the Hub's URL; default ``HF_ENDPOINT`` or huggingface.co.

    Returns:
        A :class:`PushResult`.

    Raises:
        VersionError: malformed version, already published, or not above the latest.
        DatasetError: the folder is not a dataset folder.
        HubError: the Hub refused or failed a step (the message says which, and whether to rerun).
    """
    from huggingface_hub import get_token

    folder = Path(folder)
    wanted = parse_version(version)
    version = _version_str(wanted)
    tag = f"v{version}"
    message = message or f"Release {tag}"
    facts = read_folder(folder)
    secret = token or get_token()
    api = _api(token, endpoint)

    def fail(step: str, exc: BaseException, advice: str) -> HubError:
        return HubError(f"{repo_id}: {step} of {tag} failed ({_describe(exc, secret)}); {advice}", repo_id=repo_id)

    try:
        refs = _tagged_versions(api, repo_id, include_prs=create_pr)
    except Exception as exc:
        raise fail("reading the repo", exc, "nothing was changed") from None
    tags, branches, pr_heads = refs if refs is not None else ({}, {}, [])
    if wanted in tags:
        raise VersionError(f"{repo_id}: version {version} already exists (tag {tag}); choose a higher version", repo_id=repo_id, version=version)
    latest = max(tags) if tags else None
    if latest is not None and wanted < latest:
        raise VersionError(
            f"{repo_id}: version {version} is not above the latest version {_version_str(latest)}", repo_id=repo_id, version=version
        )

    try:
        history = _history(api, repo_id, tags) if tags else []
    except Exception as exc:
        raise fail("reading earlier versions", exc, "nothing was changed") from None
    previous = _version_str(latest) if latest else None
    current = VersionInfo(version, tag, "", None, message, facts.rows, facts.difficulty, __version__)
    plots = dataset_plots(folder, facts.difficulty, _config_files(facts, "raw"))
    generated = {f"{PLOTS_DIR}/{name}": png for name, (_, png) in plots.items()}
    # The builder names the dataset after its folder; on the Hub it is loaded by its repo id.
    folder_card = facts.card_text.replace(f'load_dataset("{folder.resolve().name}"', f'load_dataset("{repo_id}"')
    sections = plots_section(plots) + "\n\n" + changelog_section(history, current, repo_id=repo_id)
    card_text = render_release_card(folder_card, sections)
    generated[CARD] = card_text.encode("utf-8")
    manifest = build_manifest(facts, version=version, message=message, previous=previous, card_text=card_text, generated=generated)
    manifest_bytes = (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")

    head = branches.get("main")
    try:
        # An earlier run of this very push whose commit landed but whose tag did not: tag it, commit nothing.
        for candidate in [head, *pr_heads]:
            if candidate and _read_manifest(api, repo_id, candidate) == manifest:
                logger.info("%s: %s was already committed as %s by an earlier run; tagging it", repo_id, tag, candidate[:12])
                _tag(api, repo_id, tag, candidate, message, fail)
                return PushResult(repo_id, version, tag, candidate, [], [], [], manifest, resumed=True)
        remote = _remote_files(api, repo_id, head) if head else {}
    except HubError:
        raise
    except Exception as exc:
        raise fail("reading the repo", exc, "nothing was changed") from None

    local = facts.files
    sources: dict[str, Path | bytes] = {name: folder / name for name in local}
    sources.update(generated)
    uploads = [name for name in sorted(sources) if not _unchanged(sources[name], manifest["files"][name]["sha256"], remote.get(name))]
    unchanged = [name for name in sorted(sources) if name not in uploads]
    uploads.append(MANIFEST)
    deleted = sorted(path for path in remote if _stale(path, sources))
    logger.info("%s %s: %d file(s) to upload, %d unchanged, %d to delete", repo_id, tag, len(uploads), len(unchanged), len(deleted))
    if dry_run:
        return PushResult(repo_id, version, tag, None, sorted(uploads), unchanged, deleted, manifest, dry_run=True)

    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    sources[MANIFEST] = manifest_bytes
    operations: list[Any] = [CommitOperationAdd(name, _payload(sources[name])) for name in uploads]
    operations += [CommitOperationDelete(path) for path in deleted]
    try:
        if refs is None:
            api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
            head = api.list_repo_refs(repo_id, repo_type="dataset").branches[0].target_commit
        info = api.create_commit(
            repo_id,
            operations,
            commit_message=message,
            commit_description=f"case2code-hub {__version__}: dataset version {tag}",
            repo_type="dataset",
            create_pr=create_pr,
            parent_commit=head,
        )
    except Exception as exc:
        if _status(exc) == 412:
            raise HubError(f"{repo_id}: someone committed to the repo during the push of {tag}; nothing was tagged; rerun to push on top of it", repo_id=repo_id) from None
        raise fail("uploading and committing", exc, "nothing was tagged; rerun the same command to finish it") from None
    _tag(api, repo_id, tag, info.oid, message, fail)
    logger.info("%s: published %s as commit %s", repo_id, tag, info.oid[:12])
    return PushResult(repo_id, version, tag, info.oid, sorted(uploads), unchanged, deleted, manifest, commit_url=info.commit_url, pr_url=info.pr_url)


def _tag(api: "HfApi", repo_id: str, tag: str, commit: str, message: str, fail: Any) -> None:
    """Tag ``commit``; a tag that landed although its answer was lost counts as done."""
    try:
        api.create_tag(repo_id, tag=tag, revision=commit, tag_message=message, repo_type="dataset")
    except Exception as exc:
        try:
            refs = api.list_repo_refs(repo_id, repo_type="dataset")
            if any(ref.name == tag and ref.target_commit == commit for ref in refs.tags):
                return
        except Exception:  # the repo is unreachable: report the tag's own failure below
            pass
        raise fail("tagging", exc, f"commit {commit[:12]} landed untagged; rerun the same command to tag it") from None


def load(
    repo_or_folder: str | Path,
    config: str = "eval",
    *,
    version: str | None = None,
    difficulty: str | None = None,
    split: str | None = None,
    token: str | None = None,
) -> Any:
    """One call to read a Case2Code dataset: ``datasets.load_dataset`` at a version's tag.

    Args:
        repo_or_folder: ``org/name`` on the Hub, or a local dataset folder.
        config: ``raw``, ``prompted`` or ``eval``.
        version: ``X.Y.Z`` (the tag ``vX.Y.Z``); default the repo's ``main``. Hub only.
        difficulty: ``easy`` / ``medium`` / ``hard``: the eval split of that name, or the rows of
            that difficulty in ``raw`` / ``prompted``.
        split: default ``test`` for ``eval``, ``train`` otherwise.
        token: a Hub token for private repos.

    Returns:
        A ``datasets.Dataset``.

    Raises:
        ConfigError: an unknown difficulty, a version for a local folder, or a split that
            contradicts ``difficulty``.
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
    split = split or ("test" if config == "eval" else "train")
    kwargs: dict[str, Any] = {"split": split}
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
        dataset = dataset.filter(lambda level: level == filter_difficulty, input_columns="difficulty")
    return dataset
