"""One error hierarchy for case2code-hub.

Each class subclasses the builtin a caller would naturally catch, and carries the fields a caller
needs to report the problem in one line (the CLI prints ``str(err)`` and exits 1).
"""

from __future__ import annotations


class Case2CodeError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(Case2CodeError, ValueError):
    """A bad option or configuration value. ``field`` names the offending option."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class CorpusError(Case2CodeError, OSError):
    """A corpus that cannot be read at all (missing path, unreadable file, wrong columns)."""

    def __init__(self, message: str, *, path: str | None = None):
        super().__init__(message)
        self.path = path


class InputFileError(Case2CodeError, ValueError):
    """A user-supplied data file (JSONL, predictions, ...) with bad content; names file and line."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        super().__init__(message)
        self.path = path
        self.line = line


class LiteralSyntaxError(Case2CodeError, ValueError):
    """An argument list that is not made of literals and whitelisted pure constructors."""


class SandboxError(Case2CodeError, RuntimeError):
    """The sandbox itself failed (could not start, protocol broken); never raised for user code."""


class ExecutionTimeout(SandboxError, TimeoutError):
    """A sandbox worker did not answer within its watchdog deadline."""


class DatasetError(Case2CodeError, ValueError):
    """A dataset folder that is missing, malformed, or would be overwritten unsafely."""

    def __init__(self, message: str, *, path: str | None = None):
        super().__init__(message)
        self.path = path


class HubError(Case2CodeError, RuntimeError):
    """Publishing to, or reading from, the Hugging Face Hub failed. ``repo_id`` names the repo."""

    def __init__(self, message: str, *, repo_id: str | None = None):
        super().__init__(message)
        self.repo_id = repo_id


class VersionError(HubError, ValueError):
    """A release version that is malformed, already published, or not above the latest one."""

    def __init__(self, message: str, *, repo_id: str | None = None, version: str | None = None):
        super().__init__(message, repo_id=repo_id)
        self.version = version


class InferenceServerError(Case2CodeError, ConnectionError):
    """A writer model's server that cannot serve this run: unreachable, refusing the token, or
    without the route asked for. ``status`` is the HTTP status, when there was one."""

    def __init__(self, message: str, *, endpoint: str | None = None, status: int | None = None):
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status
