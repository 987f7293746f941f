"""Installed copy of ``dataset_card/README.md``, the card template.

``dataset_card/`` is outside the package, so a non-editable install does not ship it; this copy
does. ``tests/test_dataset.py`` checks that both are identical: edit the Markdown file, then paste
it here.
"""

TEMPLATE = r"""---
pretty_name: ${pretty_name}
license: other
license_name: corpus-licenses
language:
- en
- code
task_categories:
- text-generation
tags:
- code
- synthetic
- case2code
size_categories:
- ${size_category}
${configs}
---
${marker}

# ${pretty_name}

Case2Code data ([Shao et al., 2024](https://arxiv.org/abs/2407.12504)): real Python functions,
inputs written for them, and the outputs the functions gave when run in a sandbox. The task is
inductive: *here are some input/output cases, write the function*. Built with
case2code-hub ${toolkit_version}.

## Configs

- `raw` (default), split `train`: one row per function: `id`, `entry_point`, self-contained
  `code`, `cases` (`input` argument list, `output` repr or `ExcType: message`, `outcome`,
  `writer`), `source` (corpus, path, repo, license), `generator`, `difficulty`, `stats`.
- `prompted`, split `train`: ${samples_per_function} training samples per raw function, in
  ${n_instructions} instruction phrasings × ${n_formats} case formats, with and without the
  function name: `prompt`, `completion`, `messages` (user / assistant, as TRL's `SFTTrainer` takes
  them), `text` (prompt and completion joined), `template` (e.g. `i07-f03-named`).
- `eval`, splits `test`, `easy`, `medium`, `hard`: held-out functions, never in `raw` or
  `prompted`: `prompt` (showing `observed_cases`), `hidden_cases` to grade on (at least
  ${min_hidden}), `reference_code`, `entry_point`. `test` is the union of the three difficulty
  splits, which point at the same files.

${summary_table}

## Difficulty

Every row has `difficulty` (`easy` / `medium` / `hard`) from a static score of the code (AST
size, branches, loops, nesting depth, parameters) and of its cases (container depth of the
returned values, output types, share of raised cases); nothing is executed to score it. The
thresholds are the tertiles of all functions' scores (train and eval together), so each level
holds about a third: easy below ${threshold_easy}, medium below ${threshold_hard}, hard from there.

## How it was made

${how_made}

## Licenses

Each function keeps the license of the corpus file it came from, recorded per row in
`source.license` (the Python standard library is under the PSF-2.0 license). Licenses in this
build: ${licenses}.

## How to load

```python
from datasets import load_dataset

raw = load_dataset("${load_name}")                      # default config: raw, split train
prompted = load_dataset("${load_name}", "prompted", split="train")
hard = load_dataset("${load_name}", "eval", split="hard")
```
${extra_sections}
## Citation

```bibtex
@article{shao2024case2code,
  title   = {Case2Code: Scalable Synthetic Data for Code Generation},
  author  = {Shao, Yunfan and others},
  journal = {arXiv preprint arXiv:2407.12504},
  year    = {2024}
}
```
"""
