"""The official Case2Code test set (``test.jsonl`` of the paper's repository) as an eval-config folder.

Each item's inputs are read from its ``example_str`` (``examples = [dict(a=1), ...]`` and
``examples += [...]``) with ``ast`` and converted to our argument-list grammar; its reference
(``exec_code``) is re-run in our sandbox (two hash seeds) and our canonical outputs become the
cases, with the official expected outputs kept beside them (``official_cases``). An item that
cannot be reproduced keeps its row but gets a ``flag`` (the reason) and is skipped by the scorer
unless asked. Reasons, first that applies:

- ``non_literal_input``: an input outside the grammar (objects, classes, calls), or setup code.
- ``misaligned_outputs``: the official outputs do not pair one to one with the inputs.
- ``address``: an official output holds a memory address (``<generator object ... at 0x..>``).
- ``name_error``: an official output is a NameError: the reference reads a name it lacks.
- ``nondeterministic``: our two runs disagree on some case.
- ``not_reproducible``: the reference does not return or raise on some case here (timeout,
  crash, unserializable value, load error).
- ``differs_from_official``: our output differs from the official one on some case (compared as
  the scorer compares a candidate), e.g. a different Python version or a random seed.

Observed cases are the official ``choosed_example_idx`` (the cases its prompt shows); the rest
are hidden. Prompts are the official ones unless ``prompt="ours"``.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import tempfile
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal

from .. import literals
from ..dataset import card as card_mod
from ..dataset import difficulty
from ..dataset.shards import write_level_files
from ..dataset.staging import check_target, swap_into_place
from ..dataset.templates import render_eval_prompt
from ..errors import ConfigError, DatasetError, InputFileError, LiteralSyntaxError
from ..sandbox.canonical import Unserializable, canonical_repr
from ..schema import DIFFICULTIES, KEPT_OUTCOMES, ExecutionTask, features, has_address
from ..utils.logging import get_logger, progress
from ..utils.syntax import parse_ast
from .compare import case_matches
from .grading import EvalConfig
from .scorer import score

logger = get_logger(__name__)

FLAGS: tuple[str, ...] = ("non_literal_input", "misaligned_outputs", "address", "name_error", "nondeterministic",
                          "not_reproducible", "differs_from_official")
_EXCEPTION_MARK = "<|EXCEPTION|>"
# Every imported row's ``source``: the official release, under its own license.
OFFICIAL_SOURCE = {"corpus": "case2code-official", "path": "dataset/test.jsonl", "repo": "choosewhatulike/case2code",
                   "license": "Apache-2.0"}
_RUN_FAILURES = ("timeout", "memory", "crashed", "unserializable")
PromptStyle = Literal["official", "ours"]


@dataclass
class ImportReport:
    """What :func:`import_official` wrote and measured.

    Attributes:
        out_dir: the eval-config folder.
        items: items read.
        flagged: items flagged, per reason.
        reference_pass_at_1: pass@1 of the official target completions (``output``) on the
            items not flagged; ``None`` when not checked.
        reference_failures: ids of unflagged items whose reference failed (should be empty).
        by_difficulty: unflagged items per difficulty.
        constant_outputs: unflagged items whose cases all give the same output.
    """

    out_dir: Path
    items: int
    flagged: dict[str, int] = field(default_factory=dict)
    reference_pass_at_1: float | None = None
    reference_failures: list[str] = field(default_factory=list)
    by_difficulty: dict[str, int] = field(default_factory=dict)
    constant_outputs: int = 0

    @property
    def kept(self) -> int:
        return self.items - sum(self.flagged.values())


def eval_features():
    """The eval config's features plus ``flag``, ``official_cases`` and ``official_prompt``."""
    from datasets import Features, Value

    base = features("eval")
    return Features({**base, "flag": Value("string"), "official_cases": base["observed_cases"],
                     "official_prompt": Value("string")})


# -- reading -----------------------------------------------------------------------------------


def read_official(path_or_url: str | os.PathLike) -> list[dict[str, Any]]:
    """The rows of an official ``test.jsonl``, from a path or an http(s) URL.

    Raises:
        InputFileError: a line that is not a JSON object with the official fields.
    """
    text = str(path_or_url)
    if text.startswith(("http://", "https://")):
        with urllib.request.urlopen(text, timeout=60) as response:  # noqa: S310 - the user's own URL
            lines = response.read().decode("utf-8").splitlines()
    else:
        with open(path_or_url, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    rows = []
    needed = ("id", "exec_code", "func_name", "example_str", "example_outputs", "choosed_example_idx", "prompt")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputFileError(f"{text}:{number}: not JSON ({exc.msg})", path=text, line=number) from None
        missing = [key for key in needed if not isinstance(row, dict) or key not in row]
        if missing:
            raise InputFileError(f"{text}:{number}: lacks {', '.join(missing)}: not an official Case2Code row",
                                 path=text, line=number)
        rows.append(row)
    return rows


def convert_inputs(example_str: str) -> tuple[list[str], str | None]:
    """Argument lists of the official ``examples`` in our grammar, and why not (``None`` if fine).

    Returns:
        ``(inputs, reason)``: ``inputs`` holds every example's source (the official text where it
        cannot be converted), ``reason`` is ``non_literal_input`` when any could not be.
    """
    try:
        tree = parse_ast(example_str)
    except SyntaxError:
        return [], "non_literal_input"
    inputs: list[str] = []
    reason = None
    for statement in tree.body:
        target = statement.target if isinstance(statement, ast.AugAssign) else (
            statement.targets[0] if isinstance(statement, ast.Assign) and len(statement.targets) == 1 else None)
        if not (isinstance(target, ast.Name) and target.id == "examples" and isinstance(statement.value, ast.List)):
            reason = "non_literal_input"  # imports, classes or helpers the inputs rely on
            continue
        for element in statement.value.elts:
            source, ok = _convert_one(element)
            inputs.append(source)
            if not ok:
                reason = "non_literal_input"
    return inputs, reason


def _convert_one(element: ast.expr) -> tuple[str, bool]:
    if not (isinstance(element, ast.Call) and isinstance(element.func, ast.Name) and element.func.id == "dict"
            and not element.args and all(kw.arg for kw in element.keywords)):
        return ast.unparse(element), False
    text = ", ".join(f"{kw.arg}={ast.unparse(kw.value)}" for kw in element.keywords)
    try:
        values = {kw.arg: literals.evaluate(kw.value) for kw in element.keywords}
        return literals.format_arguments([], values), True
    except (LiteralSyntaxError, RecursionError, ValueError, TypeError):
        return text, False


def official_case(output: Any) -> dict[str, str]:
    """An official ``example_outputs`` entry as ``{"output", "outcome"}`` in our layout."""
    if isinstance(output, dict) and "return" in output:
        try:
            text = json.loads(output["return"])
        except (json.JSONDecodeError, TypeError):
            text = str(output["return"])
        return {"output": str(text), "outcome": "returned"}
    message = output.get("error", "") if isinstance(output, dict) else str(output)
    # The official runner captured stdout too: what the function printed precedes the mark.
    message = message.rpartition(_EXCEPTION_MARK)[2].strip()
    try:
        message = json.loads(message)
    except (json.JSONDecodeError, TypeError):
        pass
    message = str(message)
    # "<class 'module.Name'>: text" -> "Name: text", as our sandbox writes it.
    if message.startswith("<class '") and "'>" in message:
        qualified, _, rest = message[len("<class '"):].partition("'>")
        rest = rest.lstrip(":").strip()
        name = qualified.rsplit(".", 1)[-1]
        message = f"{name}: {rest}" if rest else name
    return {"output": message, "outcome": "raised"}


def _canonical(case: dict[str, str]) -> dict[str, str]:
    """An official returned value re-printed as our sandbox prints it (sets sorted), where it
    parses in the literal grammar and so does the re-print; the official text otherwise.

    The grammar also reads texts that are no builtin value's repr: a bare name (``int``, which
    re-prints as ``<class 'int'>``) or ``SimpleNamespace(a=1)`` (``namespace(a=1)``). Such an
    output is some object's own repr, and is kept as written.
    """
    if case["outcome"] != "returned":
        return case
    try:
        text = canonical_repr(literals.parse_value(case["output"]), cap=1 << 20)
        literals.parse_value(text)
    except (LiteralSyntaxError, Unserializable, RecursionError, MemoryError, ValueError):
        return case
    return {**case, "output": text}


# -- the import --------------------------------------------------------------------------------


def _flag(inputs: list[str], reason: str | None, official: list[dict[str, str]],
          ours: list[dict[str, str]] | None) -> tuple[str | None, str]:
    """The first reason that applies, and a short detail (the first case concerned)."""
    if reason:
        return reason, ""
    if len(inputs) != len(official):
        return "misaligned_outputs", f"{len(inputs)} inputs, {len(official)} outputs"
    for index, case in enumerate(official):
        if has_address(case["output"]):
            return "address", f"case {index}: {case['output'][:80]}"
    for index, case in enumerate(official):
        if case["outcome"] == "raised" and case["output"].startswith("NameError"):
            return "name_error", f"case {index}: {case['output'][:80]}"
    assert ours is not None
    for index, case in enumerate(ours):
        if case["outcome"] == "nondeterministic":
            return "nondeterministic", f"case {index}"
    for index, case in enumerate(ours):
        if case["outcome"] not in KEPT_OUTCOMES:
            return "not_reproducible", f"case {index}: {case['outcome']} {case['output'][:80]}"
    for index, (theirs, mine) in enumerate(zip(official, ours)):
        if not case_matches(_canonical(theirs), mine):
            return "differs_from_official", f"case {index}: official {theirs['output'][:60]!r}, ours {mine['output'][:60]!r}"
    return None, ""


def import_official(
    path_or_url: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    prompt: PromptStyle = "official",
    timeout: float = 2.0,
    workers: int | None = None,
    check_references: bool = True,
    limit: int | None = None,
) -> ImportReport:
    """Convert the official test set into an eval-config folder that ``load_dataset(out, "eval")`` reads.

    Args:
        path_or_url: the official ``test.jsonl`` (a path or an http(s) URL).
        out_dir: the folder to write; replaced only if empty or an earlier case2code folder.
        prompt: ``official`` keeps the official prompts (comparable with the paper);
            ``ours`` renders the eval template over the observed cases.
        timeout: seconds per call when re-running the references.
        workers: sandbox processes; ``None`` for one per core.
        check_references: score the official target completions on the result and report pass@1.
        limit: import only the first ``limit`` items (for quick trials).

    Returns:
        An :class:`ImportReport`.

    Raises:
        ConfigError: a bad option. InputFileError: not an official file. DatasetError: an unsafe
            ``out_dir``. SandboxError: the sandbox could not start.
    """
    from ..sandbox import Sandbox, SandboxConfig

    if prompt not in ("official", "ours"):
        raise ConfigError(f"prompt must be 'official' or 'ours', got {prompt!r}", field="prompt")
    if limit is not None and limit < 1:
        raise ConfigError(f"limit must be positive, got {limit}", field="limit")
    out = Path(out_dir).absolute()
    check_target(out)
    rows = read_official(path_or_url)[:limit]

    prepared = []
    for row in rows:
        inputs, reason = convert_inputs(row["example_str"])
        official = [official_case(o) for o in row["example_outputs"]]
        prepared.append((row, inputs, reason, official))
    runnable = [p for p in prepared if p[2] is None and p[1]]
    ours_by_id: dict[str, list[dict[str, str]]] = {}
    config = SandboxConfig(workers=workers, timeout=timeout, runs=2)
    with Sandbox(config) as sandbox, progress() as bar:
        task = bar.add_task("Re-running references", total=len(runnable))
        tasks = (ExecutionTask(id=row["id"], code=row["exec_code"], entry_point=row["func_name"], inputs=inputs)
                 for row, inputs, _, _ in runnable)
        for result in sandbox.run(tasks):
            ours_by_id[result.id] = [{"output": c.output, "outcome": c.outcome} for c in result.cases]
            bar.advance(task)

    items = []
    flagged: Counter = Counter()
    for row, inputs, reason, official in prepared:
        ours = ours_by_id.get(row["id"])
        flag, detail = _flag(inputs, reason or (None if inputs else "non_literal_input"), official, ours)
        if flag:
            flagged[flag] += 1
            logger.debug("flagged %s: %s %s", row["id"], flag, detail)
        items.append(_row(row, inputs, official, ours, flag, detail, prompt))
    _set_difficulty(items)

    report = ImportReport(out_dir=out, items=len(items), flagged=dict(sorted(flagged.items())))
    kept = [item for item in items if not item["flag"]]
    report.by_difficulty = {level: sum(1 for i in kept if i["difficulty"] == level) for level in DIFFICULTIES}
    report.constant_outputs = sum(1 for i in kept if len({(c["outcome"], c["output"]) for c in _all_cases(i)}) == 1)
    _write_folder(items, out, report, source=str(path_or_url), prompt=prompt)
    if check_references:
        kept_ids = {item["id"] for item in kept}
        references = {row["id"]: [row.get("output") or ""] for row in rows if row["id"] in kept_ids}
        result = score(kept, references, config=EvalConfig(ks=[1], timeout=timeout, workers=workers))
        report.reference_pass_at_1 = result.summary["pass@k"]["1"]
        report.reference_failures = [r["id"] for r in result.items if r["passed"] < r["n"]]
    logger.info("imported %d official items into %s: %d kept, flagged %s", report.items, out, report.kept,
                ", ".join(f"{k} {v}" for k, v in report.flagged.items()) or "none")
    return report


def _all_cases(item: dict[str, Any]) -> list[dict[str, str]]:
    return [*item["observed_cases"], *item["hidden_cases"]]


def _row(row, inputs, official, ours, flag, detail, prompt) -> dict[str, Any]:
    def case(index: int, source: list[dict[str, str]] | None) -> dict[str, str]:
        chosen = source[index] if source is not None and index < len(source) else {"output": "", "outcome": "crashed"}
        return {"input": inputs[index], "output": chosen["output"], "outcome": chosen["outcome"], "writer": "official"}

    # Our outputs are what candidates are graded on; without a run of ours, the official ones.
    graded = ours if ours is not None else (official if len(official) == len(inputs) else None)
    shown = [i for i in dict.fromkeys(row["choosed_example_idx"]) if isinstance(i, int) and 0 <= i < len(inputs)]
    rest = [i for i in range(len(inputs)) if i not in set(shown)]
    observed = [case(i, graded) for i in shown]
    hidden = [case(i, graded) for i in rest]
    official_cases = [case(i, official) for i in [*shown, *rest]]
    text = row["prompt"] if prompt == "official" else render_eval_prompt(row["func_name"], observed)
    return {
        "id": row["id"],
        "entry_point": row["func_name"],
        "prompt": text,
        "observed_cases": observed,
        "hidden_cases": hidden,
        "reference_code": row["exec_code"],
        "source": OFFICIAL_SOURCE,
        "difficulty": "",
        "flag": f"{flag}: {detail}" if flag and detail else (flag or ""),
        "official_cases": official_cases,
        "official_prompt": row["prompt"],
    }


def _set_difficulty(items: list[dict[str, Any]]) -> None:
    """Static difficulty (as the builder scores it), tertiles over the items not flagged."""
    scores: dict[str, float] = {}
    for item in items:
        try:
            scores[item["id"]], _ = difficulty.score(item["reference_code"], item["entry_point"], _all_cases(item))
        except DatasetError:
            scores[item["id"]] = 0.0
    pool = [scores[i["id"]] for i in items if not i["flag"]] or list(scores.values())
    cuts = difficulty.thresholds(pool)
    for item in items:
        item["difficulty"] = difficulty.level(scores[item["id"]], cuts)


def _write_folder(items: list[dict[str, Any]], out: Path, report: ImportReport, *, source: str, prompt: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{out.name}.importing-", dir=out.parent))
    try:
        os.chmod(staged, 0o755)
        (staged / "eval").mkdir()
        levels = list(write_level_files(staged / "eval", items, eval_features().arrow_schema))
        (staged / "README.md").write_text(_card(report, levels, source=source, prompt=prompt), encoding="utf-8")
        check_target(out)
        swap_into_place(staged, out)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise


def _card(report: ImportReport, levels: Iterable[str], *, source: str, prompt: str) -> str:
    import yaml

    splits = {"eval": list(levels)}
    configs = yaml.safe_dump({"configs": card_mod.configs_metadata(splits)}, sort_keys=False).rstrip("\n")
    flags = "\n".join(f"| `{reason}` | {count} |" for reason, count in report.flagged.items()) or "| none | 0 |"
    text = f"""---
pretty_name: Case2Code official test set (re-executed)
license: apache-2.0
tags:
- code
- case2code
{configs}
---
{card_mod.CARD_MARKER}

# Case2Code official test set, re-executed

The official Case2Code test set ({report.items} items, from `{Path(source).name}`), converted to
case2code-hub's `eval` config. Inputs are in the argument-list grammar of the data contract;
every reference solution was re-run in the case2code-hub sandbox and the cases hold its
canonical outputs, with the official expected outputs kept in `official_cases` (same order:
observed, then hidden). Prompts are {"the official ones" if prompt == "official" else "rendered by case2code-hub; the official ones are in `official_prompt`"}.

Items that cannot be reproduced keep their row with the reason in `flag`; `case2code eval`
skips them unless `--include-flagged` is given. Kept: {report.kept}.

| Flag | Items |
| --- | ---: |
{flags}

Difficulty is the builder's static score, cut at the tertiles of the kept items. `difficulty` is a
`ClassLabel` (easy=0, medium=1, hard=2): `ds.features["difficulty"].int2str(row["difficulty"])`
gives the name.
"""
    card_mod.validate_card(text, splits=splits)
    return text
