"""Versioned releases on the Hugging Face Hub: one commit and one ``vX.Y.Z`` tag per version.

:func:`push` publishes a dataset folder (what ``case2code build`` writes) as one commit holding
the data files, the card (with a changelog of all versions) and a ``case2code.json`` manifest,
then tags it. :func:`versions` lists what was published; :func:`load` reads any version back
with stock ``datasets.load_dataset``. Endpoint and token come from ``huggingface_hub``'s own
resolution (``HF_ENDPOINT``, ``HF_TOKEN``, ``hf auth login``) unless given.

Modules: :mod:`.versioning` (version numbers), :mod:`.manifest` (the folder, its manifest and
card sections), :mod:`.remote` (reading the repo, :func:`versions`), :mod:`.publish`
(:func:`push`), :mod:`.loading` (:func:`load`). Their names differ from the functions on purpose:
a submodule named ``push`` would be shadowed by, or shadow, ``hub.push``.
"""

from .loading import load
from .manifest import (
    CARD,
    MANIFEST,
    MANIFEST_FORMAT,
    PLOTS_DIR,
    FolderFacts,
    build_manifest,
    changelog_section,
    plots_section,
    read_folder,
    render_release_card,
)
from .publish import PushResult, push
from .remote import versions
from .versioning import VersionInfo, parse_version

__all__ = [
    "CARD",
    "MANIFEST",
    "MANIFEST_FORMAT",
    "PLOTS_DIR",
    "FolderFacts",
    "PushResult",
    "VersionInfo",
    "build_manifest",
    "changelog_section",
    "load",
    "parse_version",
    "plots_section",
    "push",
    "read_folder",
    "render_release_card",
    "versions",
]
