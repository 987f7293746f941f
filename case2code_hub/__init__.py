"""case2code-hub: Case2Code synthetic data (Shao et al., 2024) — harvest functions, write inputs,
run them in a sandbox, build a dataset folder that stock ``datasets.load_dataset`` reads."""

from ._version import __version__

__all__ = ["CaseReward", "__version__", "assemble", "build", "generate", "grade", "load"]


def __getattr__(name: str):
    # ``load`` pulls in ``datasets``; resolved on first use so ``import case2code_hub`` stays light
    # (the sandbox's zygote imports the package).
    if name == "load":
        from .hub import load

        return load
    if name in ("build", "assemble"):
        from . import builder

        return getattr(builder, name)
    if name == "generate":
        from .generation import generate

        return generate
    if name in ("CaseReward", "grade"):
        from . import evaluate

        return getattr(evaluate, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
