"""A Hub-protocol HTTP server on 127.0.0.1 for tests, driven by the real ``huggingface_hub`` and ``datasets``.

Dataset repos live in memory: commits are full trees of files, refs are branches / tags / PR refs,
LFS objects are stored by sha256. It speaks what the clients send with ``HF_HUB_DISABLE_XET=1``
(repo create, info, refs, tree, paths-info, commits, preupload, NDJSON commit, tag, branch,
validate-yaml, resolve with Range, the LFS batch API and its upload URL) and counts uploads.
Faults can be injected per step (HTTP status, or a connection dropped mid-request).

Use :func:`running_hub` (a context manager) to start it and point both clients at it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

#: Files the Hub's default ``.gitattributes`` sends through LFS (a subset is enough here).
LFS_SUFFIXES = (".parquet", ".arrow", ".png", ".jpg", ".bin", ".safetensors", ".zip", ".gz")
LFS_MIN_SIZE = 10 * 1024 * 1024
GITATTRIBUTES = "".join(f"*{suffix} filter=lfs diff=lfs merge=lfs -text\n" for suffix in LFS_SUFFIXES)


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


@dataclass(frozen=True)
class Blob:
    """A file in a tree: inline ``content`` for regular files, ``lfs_sha256`` for LFS files."""

    size: int
    content: bytes | None = None
    lfs_sha256: str | None = None

    @property
    def oid(self) -> str:
        if self.lfs_sha256 is not None:
            return git_blob_oid(lfs_pointer(self.lfs_sha256, self.size))
        return git_blob_oid(self.content or b"")


@dataclass
class Commit:
    oid: str
    parents: list[str]
    title: str
    message: str
    date: str
    files: dict[str, Blob]


@dataclass
class Repo:
    repo_id: str
    private: bool
    created: str
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    pulls: dict[int, str] = field(default_factory=dict)

    def resolve(self, revision: str) -> str | None:
        """Commit oid of a branch, tag, ``refs/...`` name, PR ref or (abbreviated) commit id."""
        revision = unquote(revision)
        if revision.startswith("refs/heads/"):
            return self.branches.get(revision[len("refs/heads/") :])
        if revision.startswith("refs/tags/"):
            return self.tags.get(revision[len("refs/tags/") :])
        if m := re.fullmatch(r"refs/pr/(\d+)", revision):
            return self.pulls.get(int(m.group(1)))
        if revision in self.branches:
            return self.branches[revision]
        if revision in self.tags:
            return self.tags[revision]
        if re.fullmatch(r"[0-9a-f]{7,40}", revision):
            found = [oid for oid in self.commits if oid.startswith(revision)]
            if len(found) == 1:
                return found[0]
        return None


@dataclass
class Fault:
    """``action``: an HTTP status to answer, ``"drop"`` (close mid-request, nothing done) or
    ``"drop_after"`` (do the work, then close without answering). ``times=None``: until cleared."""

    action: int | str
    times: int | None = None


class HubState:
    """Everything the server knows, shared by its handler threads (one lock for all of it)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.repos: dict[str, Repo] = {}
        self.lfs: dict[str, bytes] = {}
        self.faults: dict[str, Fault] = {}
        self.counts: Counter[str] = Counter()
        self.uploaded_lfs: list[str] = []  # sha256 of each LFS object PUT, in order
        self.committed_paths: list[list[str]] = []  # per commit, paths written (file / lfsFile)
        self.requests: list[str] = []  # "METHOD path" of each request
        self.authorizations: set[str] = set()
        self.request_bodies: list[bytes] = []  # to check what clients sent (e.g. no token in payloads)
        self._clock = 0

    def now(self) -> str:
        # A strictly increasing clock: commit dates order versions even within one second.
        self._clock += 1
        return datetime.fromtimestamp(1_700_000_000 + self._clock, tz=timezone.utc).isoformat().replace("+00:00", "Z")

    def fail(self, step: str, action: int | str, *, times: int | None = None) -> None:
        """Inject a fault at ``step``: ``commit``, ``tag``, ``preupload``, ``lfs_batch``, ``lfs_upload``."""
        with self.lock:
            self.faults[step] = Fault(action, times)

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def take_fault(self, step: str) -> Fault | None:
        with self.lock:
            fault = self.faults.get(step)
            if fault is None:
                return None
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self.faults[step]
            return fault

    def new_commit(self, repo: Repo, parents: list[str], title: str, message: str, files: dict[str, Blob]) -> Commit:
        listing = sorted((path, blob.oid) for path, blob in files.items())
        seed = json.dumps([parents, title, message, listing, len(repo.commits), repo.repo_id])
        commit = Commit(hashlib.sha1(seed.encode()).hexdigest(), parents, title, message, self.now(), dict(files))
        repo.commits[commit.oid] = commit
        return commit

    def create_repo(self, repo_id: str, *, private: bool = False) -> Repo:
        repo = Repo(repo_id=repo_id, private=private, created=self.now())
        initial = self.new_commit(repo, [], "initial commit", "", {".gitattributes": Blob(len(GITATTRIBUTES), GITATTRIBUTES.encode())})
        repo.branches["main"] = initial.oid
        self.repos[repo_id] = repo
        return repo

    def read_file(self, repo_id: str, revision: str, path: str) -> bytes:
        """A file's bytes at a revision (for test assertions)."""
        repo = self.repos[repo_id]
        blob = repo.commits[repo.resolve(revision) or ""].files[path]
        return self.lfs[blob.lfs_sha256] if blob.lfs_sha256 else blob.content or b""


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


class _Dropped(Exception):
    """Close the connection without an answer."""


def _json_body(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"{}")
    except json.JSONDecodeError:
        raise HubError(400, "invalid JSON body") from None


class HubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "HubHTTPServer"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: the tests look at state.requests instead

    # -- plumbing -------------------------------------------------------------------------------

    def _read_body(self, limit: int | None = None) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length if limit is None else min(length, limit))

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), headers)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _dispatch(self) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        self.query = parse_qs(url.query)
        with state.lock:
            state.requests.append(f"{self.command} {url.path}")
            if auth := self.headers.get("Authorization"):
                state.authorizations.add(auth)
        segments = [unquote(s) for s in url.path.strip("/").split("/")]
        try:
            self._route(segments)
        except HubError as exc:
            headers = {"X-Error-Message": exc.message}
            if exc.code:
                headers["X-Error-Code"] = exc.code
            self._json(exc.status, {"error": exc.message}, headers)
        except _Dropped:
            self._drop()

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _dispatch

    def _fault(self, step: str, *, before: bool = True) -> Fault | None:
        """Apply an injected fault that acts before the work; return one that acts after it."""
        fault = self.server.state.take_fault(step)
        if fault is None:
            return None
        if fault.action == "drop":
            self._read_body(limit=16)  # read a little of the upload, then hang up mid-request
            raise _Dropped()
        if isinstance(fault.action, int):
            self._read_body()
            raise HubError(fault.action, f"injected fault at {step}")
        return fault

    def _repo(self, repo_id: str, *, write: bool = False) -> Repo:
        state = self.server.state
        repo = state.repos.get(repo_id)
        authorized = (self.headers.get("Authorization") or "").startswith("Bearer ")
        if repo is None or (repo.private and not authorized):
            raise HubError(404, f"Repository {repo_id} not found", "RepoNotFound")
        if write and not authorized:
            raise HubError(401, "Invalid credentials in Authorization header")
        return repo

    def _commit(self, repo: Repo, revision: str) -> Commit:
        oid = repo.resolve(revision)
        if oid is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return repo.commits[oid]

    def _require_auth(self) -> None:
        if not (self.headers.get("Authorization") or "").startswith("Bearer "):
            raise HubError(401, "Invalid credentials in Authorization header")

    # -- routes ---------------------------------------------------------------------------------

    def _route(self, s: list[str]) -> None:
        m = self.command
        if s[:3] == ["api", "repos", "create"] and m == "POST":
            return self._create_repo()
        if s[:2] == ["api", "validate-yaml"] and m == "POST":
            return self._validate_yaml()
        if s[:2] == ["api", "datasets"] and len(s) >= 4:
            repo_id, rest = f"{s[2]}/{s[3]}", s[4:]
            if not rest and m == "GET":
                return self._info(repo_id, "main")
            op, args = rest[0], rest[1:]
            routes = {
                ("GET", "revision"): self._info_at,
                ("GET", "refs"): self._refs,
                ("GET", "tree"): self._tree,
                ("POST", "paths-info"): self._paths_info,
                ("GET", "commits"): self._commits,
                ("POST", "preupload"): self._preupload,
                ("POST", "commit"): self._commit_route,
                ("POST", "tag"): self._tag,
                ("POST", "branch"): self._branch,
            }
            if (m, op) in routes:
                return routes[(m, op)](repo_id, args)
        if s[:1] == ["datasets"] and len(s) >= 3 and s[2].endswith(".git") and s[3:] == ["info", "lfs", "objects", "batch"]:
            return self._lfs_batch(f"{s[1]}/{s[2][:-4]}")
        if s[:1] == ["datasets"] and len(s) >= 6 and s[3] == "resolve" and m in ("GET", "HEAD"):
            return self._resolve(f"{s[1]}/{s[2]}", s[4], "/".join(s[5:]))
        if s[:1] == ["lfs-upload"] and len(s) == 2 and m == "PUT":
            return self._lfs_upload(s[1])
        if s[:1] == ["lfs-verify"] and m == "POST":
            return self._lfs_verify()
        self._read_body()
        raise HubError(404, f"no route for {m} {self.path}")

    def _create_repo(self) -> None:
        self._require_auth()
        body = _json_body(self._read_body())
        if body.get("type", "model") != "dataset":
            raise HubError(400, "this test server holds dataset repos only")
        repo_id = f"{body.get('organization') or 'tester'}/{body['name']}"
        state = self.server.state
        with state.lock:
            if repo_id in state.repos:
                raise HubError(409, "You already created this dataset repo")
            state.create_repo(repo_id, private=body.get("visibility") == "private" or bool(body.get("private")))
        self._json(200, {"url": f"{self.server.url}/datasets/{repo_id}", "name": repo_id})

    def _validate_yaml(self) -> None:
        body = _json_body(self._read_body())
        match = re.match(r"^---\n(.*?)\n---", body.get("content", ""), re.S)
        try:
            if match:
                yaml.safe_load(match.group(1))
        except yaml.YAMLError as exc:
            return self._json(400, {"errors": [{"message": str(exc)}]})
        self._json(200, {"errors": [], "warnings": []})

    def _info_at(self, repo_id: str, args: list[str]) -> None:
        self._info(repo_id, "/".join(args))

    def _info(self, repo_id: str, revision: str) -> None:
        repo = self._repo(repo_id)
        commit = self._commit(repo, revision)
        card_data = None
        if readme := commit.files.get("README.md"):
            match = re.match(r"^---\n(.*?)\n---", (readme.content or b"").decode(), re.S)
            card_data = yaml.safe_load(match.group(1)) if match else None
        siblings = [
            {"rfilename": path, "size": blob.size, "blobId": blob.oid}
            | ({"lfs": {"size": blob.size, "sha256": blob.lfs_sha256, "pointerSize": 134}} if blob.lfs_sha256 else {})
            for path, blob in sorted(commit.files.items())
        ]
        self._json(
            200,
            {
                "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24],
                "id": repo_id,
                "author": repo_id.split("/")[0],
                "sha": commit.oid,
                "private": repo.private,
                "gated": False,
                "disabled": False,
                "createdAt": repo.created,
                "lastModified": commit.date,
                "tags": [],
                "cardData": card_data,
                "siblings": siblings,
            },
        )

    def _refs(self, repo_id: str, args: list[str]) -> None:
        repo = self._repo(repo_id)
        ref = lambda name, full, oid: {"name": name, "ref": full, "targetCommit": oid}  # noqa: E731
        payload = {
            "branches": [ref(n, f"refs/heads/{n}", o) for n, o in sorted(repo.branches.items())],
            "tags": [ref(n, f"refs/tags/{n}", o) for n, o in sorted(repo.tags.items())],
            "converts": [],
        }
        if self.query.get("include_prs"):
            payload["pullRequests"] = [ref(f"refs/pr/{n}", f"refs/pr/{n}", o) for n, o in sorted(repo.pulls.items())]
        self._json(200, payload)

    @staticmethod
    def _entry(path: str, blob: Blob) -> dict[str, Any]:
        entry: dict[str, Any] = {"type": "file", "oid": blob.oid, "size": blob.size, "path": path}
        if blob.lfs_sha256:
            entry["lfs"] = {"oid": blob.lfs_sha256, "size": blob.size, "pointerSize": len(lfs_pointer(blob.lfs_sha256, blob.size))}
        return entry

    @staticmethod
    def _folder(path: str) -> dict[str, Any]:
        return {"type": "directory", "oid": hashlib.sha1(path.encode()).hexdigest(), "path": path}

    def _tree(self, repo_id: str, args: list[str]) -> None:
        repo = self._repo(repo_id)
        if not args:
            raise HubError(404, "missing revision", "RevisionNotFound")
        commit = self._commit(repo, args[0])
        base = "/".join(args[1:]).strip("/")
        recursive = self.query.get("recursive", ["false"])[0].lower() in ("1", "true")
        prefix = f"{base}/" if base else ""
        if base and base in commit.files:
            raise HubError(404, f"{base} is a file, not a folder", "EntryNotFound")
        entries: dict[str, dict[str, Any]] = {}
        for path, blob in sorted(commit.files.items()):
            if not path.startswith(prefix):
                continue
            parts = path[len(prefix) :].split("/")
            for depth in range(1, len(parts)):
                folder = prefix + "/".join(parts[:depth])
                if recursive or depth == 1:
                    entries.setdefault(folder, self._folder(folder))
            if recursive or len(parts) == 1:
                entries[path] = self._entry(path, blob)
        if base and not entries:
            raise HubError(404, f"{base} does not exist", "EntryNotFound")
        self._json(200, [entries[key] for key in sorted(entries)])

    def _paths_info(self, repo_id: str, args: list[str]) -> None:
        form = parse_qs(self._read_body().decode())
        repo = self._repo(repo_id)
        commit = self._commit(repo, "/".join(args))
        out = []
        for path in form.get("paths", []):
            path = path.strip("/")
            if path in commit.files:
                out.append(self._entry(path, commit.files[path]))
            elif any(p.startswith(path + "/") for p in commit.files):
                out.append(self._folder(path))
        self._json(200, out)

    def _commits(self, repo_id: str, args: list[str]) -> None:
        repo = self._repo(repo_id)
        commit: Commit | None = self._commit(repo, "/".join(args))
        out = []
        while commit is not None:
            out.append({"id": commit.oid, "title": commit.title, "message": commit.message, "authors": [{"user": "tester"}], "date": commit.date})
            commit = repo.commits[commit.parents[0]] if commit.parents else None
        self._json(200, out)

    def _preupload(self, repo_id: str, args: list[str]) -> None:
        self._fault("preupload")
        body = _json_body(self._read_body())
        repo = self._repo(repo_id, write=True)
        commit = self._commit(repo, "/".join(args))
        files = []
        for item in body.get("files", []):
            path, size = item["path"], int(item["size"])
            sample = base64.b64decode(item.get("sample", ""))
            lfs = path.endswith(LFS_SUFFIXES) or size >= LFS_MIN_SIZE or b"\0" in sample
            existing = commit.files.get(path)
            oid = None
            if existing is not None:
                oid = existing.lfs_sha256 if lfs and existing.lfs_sha256 else (existing.oid if not lfs and existing.content is not None else None)
            files.append({"path": path, "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False, "oid": oid})
        self._json(200, {"files": files, "commitOid": commit.oid})

    def _commit_route(self, repo_id: str, args: list[str]) -> None:
        state = self.server.state
        fault = self._fault("commit")
        raw = self._read_body()
        with state.lock:
            state.request_bodies.append(raw)
        repo = self._repo(repo_id, write=True)
        lines = [json.loads(line) for line in raw.splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "the first line of a commit must be its header")
        header = lines[0]["value"]
        revision = "/".join(args)
        create_pr = bool(self.query.get("create_pr"))
        with state.lock:
            parent = self._commit(repo, revision)
            branch = unquote(revision)
            if not create_pr and branch not in repo.branches:
                raise HubError(400, f"{revision} is not a branch")
            if (wanted := header.get("parentCommit")) and not parent.oid.startswith(wanted):
                if not create_pr:
                    raise HubError(412, "A commit has happened since. Please refresh and try again.")
                parent = self._commit(repo, wanted)
            files = dict(parent.files)
            written = []
            for line in lines[1:]:
                key, value = line["key"], line["value"]
                path = value["path"].strip("/")
                if key == "file":
                    data = base64.b64decode(value["content"])
                    files[path] = Blob(len(data), content=data)
                    written.append(path)
                elif key == "lfsFile":
                    if value["oid"] not in state.lfs:
                        raise HubError(422, f"LFS object {value['oid']} of {path} was never uploaded")
                    files[path] = Blob(len(state.lfs[value["oid"]]), lfs_sha256=value["oid"])
                    written.append(path)
                elif key == "deletedFile":
                    if files.pop(path, None) is None:
                        raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
                elif key == "deletedFolder":
                    for name in [p for p in files if p.startswith(path + "/")]:
                        del files[name]
                else:
                    raise HubError(400, f"unknown commit operation {key}")
            commit = state.new_commit(repo, [parent.oid], header["summary"], header.get("description", ""), files)
            payload = {"commitUrl": f"{self.server.url}/datasets/{repo_id}/commit/{commit.oid}", "commitOid": commit.oid, "success": True}
            if create_pr:
                number = max(repo.pulls, default=0) + 1
                repo.pulls[number] = commit.oid
                payload["pullRequestUrl"] = f"{self.server.url}/datasets/{repo_id}/discussions/{number}"
            else:
                repo.branches[branch] = commit.oid
            state.counts["commits"] += 1
            state.committed_paths.append(written)
        if fault is not None:  # drop_after: the commit landed, the client never hears of it
            raise _Dropped()
        self._json(200, payload)

    def _tag(self, repo_id: str, args: list[str]) -> None:
        fault = self._fault("tag")
        body = _json_body(self._read_body())
        repo = self._repo(repo_id, write=True)
        state = self.server.state
        with state.lock:
            commit = self._commit(repo, "/".join(args))
            if body["tag"] in repo.tags:
                raise HubError(409, f"Tag {body['tag']} already exists")
            repo.tags[body["tag"]] = commit.oid
        if fault is not None:
            raise _Dropped()
        self._json(200, {"name": body["tag"], "ref": f"refs/tags/{body['tag']}", "targetCommit": commit.oid})

    def _branch(self, repo_id: str, args: list[str]) -> None:
        body = _json_body(self._read_body())
        repo = self._repo(repo_id, write=True)
        name = "/".join(args)
        with self.server.state.lock:
            if name in repo.branches:
                raise HubError(409, f"Branch {name} already exists")
            repo.branches[name] = self._commit(repo, body.get("startingPoint") or "main").oid
        self._json(200, {})

    def _resolve(self, repo_id: str, revision: str, path: str) -> None:
        repo = self._repo(repo_id)
        commit = self._commit(repo, revision)
        blob = commit.files.get(path)
        if blob is None:
            raise HubError(404, f"Entry not found: {path}", "EntryNotFound")
        data = self.server.state.lfs[blob.lfs_sha256] if blob.lfs_sha256 else blob.content or b""
        etag = blob.lfs_sha256 or blob.oid
        headers = {"X-Repo-Commit": commit.oid, "ETag": f'"{etag}"', "Accept-Ranges": "bytes"}
        if blob.lfs_sha256:
            headers |= {"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(blob.size)}
        rng = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
        if rng and data:
            start_s, end_s = rng.groups()
            if start_s:
                start, end = int(start_s), min(int(end_s) if end_s else len(data) - 1, len(data) - 1)
            else:  # suffix range: the last N bytes
                start, end = max(len(data) - int(end_s), 0), len(data) - 1
            if start >= len(data):
                raise HubError(416, "range not satisfiable")
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return self._send(206, data[start : end + 1], headers, "application/octet-stream")
        self._send(200, data, headers, "application/octet-stream")

    def _lfs_batch(self, repo_id: str) -> None:
        self._fault("lfs_batch")
        body = _json_body(self._read_body())
        self._repo(repo_id, write=True)
        state = self.server.state
        objects = []
        for obj in body.get("objects", []):
            entry: dict[str, Any] = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
            if obj["oid"] not in state.lfs:  # already stored objects get no actions: nothing to upload
                entry["actions"] = {
                    "upload": {"href": f"{self.server.url}/lfs-upload/{obj['oid']}"},
                    "verify": {"href": f"{self.server.url}/lfs-verify"},
                }
            objects.append(entry)
        self._send(200, json.dumps({"transfer": "basic", "objects": objects}).encode(), content_type="application/vnd.git-lfs+json")

    def _lfs_upload(self, oid: str) -> None:
        self._fault("lfs_upload")
        data = self._read_body()
        if hashlib.sha256(data).hexdigest() != oid:
            raise HubError(400, "sha256 mismatch")
        state = self.server.state
        with state.lock:
            state.lfs[oid] = data
            state.uploaded_lfs.append(oid)
            state.counts["lfs_uploads"] += 1
            state.counts["lfs_bytes"] += len(data)
        self._send(200, b"", {"ETag": f'"{oid}"'})

    def _lfs_verify(self) -> None:
        body = _json_body(self._read_body())
        if body.get("oid") not in self.server.state.lfs:
            raise HubError(404, "object not uploaded")
        self._json(200, {})


class HubHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), HubHandler)
        self.state = HubState()
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def serve() -> Iterator[HubHTTPServer]:
    """Run a fresh server in a daemon thread."""
    server = HubHTTPServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def running_hub(monkeypatch: Any) -> Iterator[HubHTTPServer]:
    """Start a server and point the already-imported ``huggingface_hub`` and ``datasets`` at it.

    Both libraries read ``HF_ENDPOINT`` / ``HF_HUB_OFFLINE`` / ``HF_HUB_DISABLE_XET`` into module
    constants at import time, and the test session imported them with offline mode on; so the
    environment is set (for subprocesses) and the constants are patched (for this process).
    Retries of ``http_backoff`` sleep for no time, so injected faults fail fast.
    """
    import datasets.config as dconfig
    import huggingface_hub.constants as hconstants
    import huggingface_hub.utils._http as hhttp

    with serve() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
        monkeypatch.setenv("HF_HUB_OFFLINE", "0")
        monkeypatch.setenv("HF_DATASETS_OFFLINE", "0")
        monkeypatch.setattr(hconstants, "ENDPOINT", server.url)
        monkeypatch.setattr(hconstants, "HUGGINGFACE_CO_URL_TEMPLATE", server.url + "/{repo_id}/resolve/{revision}/{filename}")
        monkeypatch.setattr(hconstants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(hconstants, "HF_HUB_DISABLE_XET", True)
        monkeypatch.setattr(hconstants, "HF_HUB_DISABLE_TELEMETRY", True)
        monkeypatch.setattr(dconfig, "HF_ENDPOINT", server.url)
        monkeypatch.setattr(dconfig, "HUB_DATASETS_URL", server.url + "/datasets/{repo_id}/resolve/{revision}/{path}")
        monkeypatch.setattr(dconfig, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(dconfig, "HF_DATASETS_OFFLINE", False)
        monkeypatch.setattr(dconfig, "USE_PARQUET_EXPORT", False)  # the dataset viewer is not reachable here
        monkeypatch.setattr(hhttp.time, "sleep", _no_sleep_in_backoff(hhttp.time.sleep))
        yield server


def _no_sleep_in_backoff(real_sleep: Any) -> Any:
    """``time.sleep`` that skips the waits of ``huggingface_hub``'s retry loop only."""
    import sys

    def sleep(seconds: float) -> None:
        caller = sys._getframe(1).f_code.co_filename
        if caller.endswith(("huggingface_hub/utils/_http.py", "huggingface_hub\\utils\\_http.py")):
            return
        real_sleep(seconds)

    return sleep

