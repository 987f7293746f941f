"""case2code-hub: Case2Code synthetic data (Shao et al., 2024) — harvest functions, write inputs,
run them in a sandbox, build a dataset folder that stock ``datasets.load_dataset`` reads."""

__version__ = "0.1.0"
