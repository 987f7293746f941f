"""Publishing one version: a single commit of data, card and manifest, then its ``vX.Y.Z`` tag
(:func:`push`), resumable when a run stopped between the two."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from .._version import __version__
from ..dataset.plots import dataset_plots
from ..errors import HubError, VersionError
from ..utils.logging import get_logger
from .manifest import (
    CARD,
    MANIFEST,
    PLOTS_DIR,
    _config_files,
    build_manifest,
    changelog_section,
    plots_section,
    read_folder,
    render_release_card,
)
from .remote import _api, _describe, _history, _read_manifest, _remote_files, _status, _tagged_versions
from .versioning import VersionInfo, _version_str, parse_version

if TYPE_CHECKING:
    from huggingface_hub import HfApi

logger = get_logger(__name__)


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
    latest = _check_above(repo_id, wanted, tags)
    try:
        history = _history(api, repo_id, tags) if tags else []
    except Exception as exc:
        raise fail("reading earlier versions", exc, "nothing was changed") from None
    current = VersionInfo(version, tag, "", None, message, facts.rows, facts.difficulty, __version__)
    generated, manifest = _release_files(folder, facts, repo_id, current, history, previous=_version_str(latest) if latest else None)

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

    sources: dict[str, Path | bytes] = {name: folder / name for name in facts.files}
    sources.update(generated)
    uploads, unchanged, deleted = _upload_plan(sources, manifest, remote)
    logger.info("%s %s: %d file(s) to upload, %d unchanged, %d to delete", repo_id, tag, len(uploads), len(unchanged), len(deleted))
    if dry_run:
        return PushResult(repo_id, version, tag, None, sorted(uploads), unchanged, deleted, manifest, dry_run=True)
    sources[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
    if refs is None:  # no repo yet
        head = _create_repo(api, repo_id, private=private, fail=fail)
    info = _commit(api, repo_id, tag, sources, uploads, deleted, message=message, create_pr=create_pr, head=head, fail=fail)
    _tag(api, repo_id, tag, info.oid, message, fail)
    logger.info("%s: published %s as commit %s", repo_id, tag, info.oid[:12])
    return PushResult(repo_id, version, tag, info.oid, sorted(uploads), unchanged, deleted, manifest, commit_url=info.commit_url, pr_url=info.pr_url)


def _check_above(repo_id: str, wanted: tuple[int, int, int], tags: dict) -> tuple[int, int, int] | None:
    """The latest published version, after checking ``wanted`` is new and above it."""
    version = _version_str(wanted)
    if wanted in tags:
        raise VersionError(f"{repo_id}: version {version} already exists (tag v{version}); choose a higher version", repo_id=repo_id, version=version)
    latest = max(tags) if tags else None
    if latest is not None and wanted < latest:
        raise VersionError(
            f"{repo_id}: version {version} is not above the latest version {_version_str(latest)}", repo_id=repo_id, version=version
        )
    return latest


def _release_files(folder: Path, facts: Any, repo_id: str, current: VersionInfo, history: list,
                   *, previous: str | None) -> tuple[dict[str, bytes], dict[str, Any]]:
    """The files a release writes beside the folder's own (the card with its changelog, plots an
    older folder lacks) and the manifest of it all."""
    # A folder built by this version has its plots (and their section in the card); an older one gets them here.
    built_plots = any(name.startswith(PLOTS_DIR + "/") for name in facts.files)
    plots = {} if built_plots else dataset_plots(folder, facts.difficulty, _config_files(facts, "raw"))
    generated = {f"{PLOTS_DIR}/{name}": png for name, (_, png) in plots.items()}
    # The builder names the dataset after its folder; on the Hub it is loaded by its repo id.
    folder_card = facts.card_text.replace(f'load_dataset("{folder.resolve().name}"', f'load_dataset("{repo_id}"')
    sections = plots_section(plots) + "\n\n" + changelog_section(history, current, repo_id=repo_id)
    card_text = render_release_card(folder_card, sections)
    generated[CARD] = card_text.encode("utf-8")
    manifest = build_manifest(facts, version=current.version, message=current.message, previous=previous,
                              card_text=card_text, generated=generated)
    return generated, manifest


def _upload_plan(sources: dict[str, Path | bytes], manifest: dict[str, Any],
                 remote: dict[str, tuple[str | None, str]]) -> tuple[list[str], list[str], list[str]]:
    """``(uploads, unchanged, deleted)``: files whose content the Hub lacks (and the manifest),
    files it has already, and remote files the new version drops."""
    uploads = [name for name in sorted(sources) if not _unchanged(sources[name], manifest["files"][name]["sha256"], remote.get(name))]
    unchanged = [name for name in sorted(sources) if name not in uploads]
    deleted = sorted(path for path in remote if _stale(path, sources))
    return [*uploads, MANIFEST], unchanged, deleted  # the manifest last, in the commit too


def _create_repo(api: "HfApi", repo_id: str, *, private: bool, fail: Any) -> str:
    """Create the dataset repo; its first commit, the parent of ours."""
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        return api.list_repo_refs(repo_id, repo_type="dataset").branches[0].target_commit
    except Exception as exc:
        raise fail("uploading and committing", exc, "nothing was tagged; rerun the same command to finish it") from None


def _commit(api: "HfApi", repo_id: str, tag: str, sources: dict[str, Path | bytes], uploads: list[str], deleted: list[str],
            *, message: str, create_pr: bool, head: str | None, fail: Any) -> Any:
    """One commit of the uploads and deletions on top of ``head`` (refused if someone committed since)."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    operations: list[Any] = [CommitOperationAdd(name, _payload(sources[name])) for name in uploads]
    operations += [CommitOperationDelete(path) for path in deleted]
    try:
        return api.create_commit(
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
