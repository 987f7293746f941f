"""case2code-hub: Case2Code synthetic data (Shao et al., 2024) — harvest functions, write inputs,
run them in a sandbox, build a dataset folder that stock ``datasets.load_dataset`` reads."""

__version__ = "0.1.0"

__all__ = ["__version__", "load"]


def __getattr__(name: str):
    # ``load`` pulls in ``datasets``; resolved on first use so ``import case2code_hub`` stays light
    # (the sandbox's zygote imports the package).
    if name == "load":
        from .hub import load

        return load
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
