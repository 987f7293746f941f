"""Reading a dataset repo on the Hub: client, refs and tags, manifests, file listings, and
:func:`versions` (what was published)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from .._version import __version__
from ..errors import HubError
from .manifest import MANIFEST
from .versioning import _TAG, VersionInfo, _version_str

if TYPE_CHECKING:
    from huggingface_hub import HfApi

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
