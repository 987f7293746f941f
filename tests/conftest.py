"""Test-wide isolation: the HF cache, our cache, token and offline mode point at a throwaway folder.

Set at import time, before ``datasets`` / ``huggingface_hub`` read their constants.
"""

from __future__ import annotations

import os
import tempfile

_HF_HOME = tempfile.mkdtemp(prefix="case2code-test-hf-")
os.environ["HF_HOME"] = _HF_HOME
os.environ["HF_DATASETS_CACHE"] = os.path.join(_HF_HOME, "datasets")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["CASE2CODE_DISABLE_PROGRESS_BARS"] = "1"
# The user cache (the call-site index of the standard library): built once per test session, never the user's.
os.environ["CASE2CODE_CACHE"] = os.path.join(_HF_HOME, "case2code")
os.environ.pop("HF_TOKEN", None)

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _hf_isolated(monkeypatch, tmp_path):
    """Each test sees its own token path and no ambient token."""
    monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "hf-token"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    yield


@pytest.fixture
def server(monkeypatch):
    """A Hub-protocol server on 127.0.0.1 (tests/hub_server.py), with the real clients pointed at it."""
    from hub_server import running_hub

    with running_hub(monkeypatch) as hub:
        yield hub
