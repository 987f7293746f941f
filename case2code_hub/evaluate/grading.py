"""Grading programs against cases in the sandbox: the one rule that ``eval``, :func:`grade` and the
RL reward share.

The rule (stated in the dataset card too): the program is the code extracted from a completion
(:func:`extract_code`); each case's input is run as ``entry_point(<input>)`` in the sandbox (inputs
are read by the literal grammar, never ``eval``), and the result is compared with the expected case
by :func:`case_matches`: a ``returned`` case matches when the canonical reprs are equal, or equal
up to float tolerance; a ``raised`` case when the exception types are equal. A timeout, a crash or
a program that does not load matches nothing.

To bound what a hanging program costs, every program first runs on its first case only; a program
that times out there, or does not load, is not run on the rest. With ``stop_at_first_failure``
(pass/fail grading, as pass@k needs) a program that fails its first case is not run on the rest
either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from ..errors import ConfigError
from ..schema import ExecutionTask
from .compare import case_matches
from .extract import extract_code
from .passk import parse_ks

if TYPE_CHECKING:
    from ..sandbox import Sandbox


@dataclass
class EvalConfig:
    """How completions are scored.

    Attributes:
        ks: the k of pass@k; a k above an item's number of completions is reported as ``None``.
        timeout: seconds one call of a candidate may take in the sandbox.
        memory_mb: address-space limit of a candidate, MiB.
        workers: sandbox processes; ``None`` for one per core.
        isolation: the sandbox's isolation (see ``SandboxConfig``).
        include_flagged: also score items an import flagged as not reproducible.
    """

    ks: Sequence[int] = (1,)
    timeout: float = 1.0
    memory_mb: int = 512
    workers: int | None = None
    isolation: str = "auto"
    include_flagged: bool = False

    def __post_init__(self) -> None:
        self.ks = parse_ks(self.ks)
        if not isinstance(self.timeout, (int, float)) or not self.timeout > 0:
            raise ConfigError(f"timeout must be a positive number of seconds, got {self.timeout!r}", field="timeout")
        if not isinstance(self.memory_mb, int) or self.memory_mb < 64:
            raise ConfigError(f"memory_mb must be an integer >= 64, got {self.memory_mb!r}", field="memory_mb")
        if self.workers is not None and (not isinstance(self.workers, int) or self.workers < 1):
            raise ConfigError(f"workers must be a positive integer, got {self.workers!r}", field="workers")

    def sandbox_config(self):
        from ..sandbox import SandboxConfig

        # One run per case: a candidate that is nondeterministic fails on the cases where it
        # differs from the reference anyway; a second run would double the cost.
        return SandboxConfig(workers=self.workers, timeout=float(self.timeout), memory_mb=self.memory_mb, runs=1,
                             isolation=self.isolation)


# What ends a program's grading after its first case (``ok`` with a timeout is the case's outcome).
_HOPELESS_OUTCOMES = ("timeout", "memory")


@dataclass
class Program:
    """Code to grade: ``code`` defines ``entry_point``; ``cases`` are dicts with ``input``,
    ``output`` and ``outcome``."""

    code: str
    entry_point: str
    cases: tuple[Mapping[str, str], ...]

    def key(self) -> tuple:
        """Equal for programs that would be graded alike (same code, name and cases)."""
        return self.code, self.entry_point, tuple((c["input"], c["output"], c["outcome"]) for c in self.cases)


@dataclass
class Grade:
    """How a program did on its cases.

    Attributes:
        cases: cases graded (all of the program's cases, also those never run).
        passed: cases that matched (float tolerance allowed).
        exact: cases whose output was identical.
        status: ``ok``; ``no_code`` (nothing to run in the completion); or the sandbox's status
            (``load_error``, ``load_timeout``, ``no_entry_point``, ``crashed``).
        detail: the reason, for a status other than ``ok``.
        timed_out: a call ran out of time (or memory); the rest was not run.
        failing: the first case that did not match, with what the program gave.
        got: the program's cases as the sandbox returned them (``input``, ``output``, ``outcome``),
            in case order, for the cases that ran.
    """

    cases: int
    passed: int = 0
    exact: int = 0
    status: str = "ok"
    detail: str = ""
    timed_out: bool = False
    failing: dict[str, str] | None = None
    got: list[dict[str, str]] = field(default_factory=list)

    @property
    def all_passed(self) -> bool:
        return self.cases > 0 and self.passed == self.cases

    @property
    def pass_rate(self) -> float:
        return self.passed / self.cases if self.cases else 0.0


def _tally(program: Program, got: list[dict[str, str]], status: str = "ok", detail: str = "") -> Grade:
    grade = Grade(cases=len(program.cases), status=status, detail=detail, got=got)
    for expected, case in zip(program.cases, got):
        if case["outcome"] in _HOPELESS_OUTCOMES:
            grade.timed_out = True
        if case_matches(expected, case, tolerant=False):
            grade.exact += 1
            grade.passed += 1
        elif case_matches(expected, case):
            grade.passed += 1
        elif grade.failing is None:
            grade.failing = {"input": expected["input"], "expected": expected["output"],
                             "expected_outcome": expected["outcome"], "got": case["output"], "outcome": case["outcome"]}
    return grade


def grade_programs(
    sandbox: "Sandbox", programs: Sequence[Program], *, stop_at_first_failure: bool = False, on_graded: Any = None
) -> list[Grade]:
    """Grade every program on its cases, in two batches over the sandbox's workers.

    Args:
        sandbox: a started :class:`~case2code_hub.sandbox.Sandbox` (one run per case is enough).
        programs: what to grade; identical programs are graded once.
        stop_at_first_failure: pass/fail grading: a program that fails its first case gets no
            further run (its ``passed`` counts only that case).
        on_graded: called with no argument as each distinct program's grade is final (progress).

    Returns:
        One :class:`Grade` per program, in order.
    """
    distinct: dict[tuple, int] = {}
    unique: list[Program] = []
    index = []
    for program in programs:
        slot = distinct.setdefault(program.key(), len(distinct))
        if slot == len(unique):
            unique.append(program)
        index.append(slot)
    grades: list[Grade | None] = [None] * len(unique)
    for u, program in enumerate(unique):
        if not program.cases:
            grades[u] = Grade(cases=0)

    def task(u: int, inputs: list[str]) -> ExecutionTask:
        program = unique[u]
        return ExecutionTask(id=f"program-{u}", code=program.code, entry_point=program.entry_point, inputs=inputs)

    probed = [u for u in range(len(unique)) if grades[u] is None]
    firsts: dict[int, dict[str, str]] = {}
    rest = []
    for u, result in zip(probed, sandbox.run(task(u, [unique[u].cases[0]["input"]]) for u in probed)):
        program = unique[u]
        got = [case.to_dict() for case in result.cases[:1]]
        first = _tally(program, got, result.status, result.detail)
        hopeless = result.status != "ok" or first.timed_out or (stop_at_first_failure and not first.passed)
        if hopeless or len(program.cases) == 1:
            grades[u] = first
            if on_graded:
                on_graded()
        else:
            firsts[u] = got[0]
            rest.append(u)
    tasks = (task(u, [case["input"] for case in unique[u].cases[1:]]) for u in rest)
    for u, result in zip(rest, sandbox.run(tasks)):
        got = [firsts[u], *(case.to_dict() for case in result.cases)]
        grades[u] = _tally(unique[u], got, result.status, result.detail)
        if on_graded:
            on_graded()
    return [grades[i] for i in index]  # type: ignore[misc]


def completion_text(completion: Any) -> str:
    """A completion's text: a string as is, or the content of the last message of a conversational
    completion (a list of ``{"role", "content"}``, as TRL passes them)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence) and completion and isinstance(completion[-1], Mapping):
        content = completion[-1].get("content")
        return content if isinstance(content, str) else ""
    return ""


def program_for(completion: Any, entry_point: str, cases: Iterable[Mapping[str, str]]) -> Program | None:
    """The program a completion defines for ``entry_point``, with the cases to grade it on, or
    ``None`` when the completion holds no code to run."""
    found = extract_code(completion_text(completion), entry_point)
    if found is None:
        return None
    cases = tuple({"input": c["input"], "output": c["output"], "outcome": c["outcome"]} for c in cases)
    return Program(code=found.code, entry_point=found.entry_point, cases=cases)


def grade(
    completion: Any,
    *,
    entry_point: str,
    cases: Iterable[Mapping[str, str]],
    config: "EvalConfig | None" = None,
) -> Grade:
    """Grade one completion (or plain code) on ``cases`` the way ``case2code eval`` does.

    Args:
        completion: the model's text, plain code, or a conversational completion.
        entry_point: the function the cases call.
        cases: dicts with ``input``, ``output`` and ``outcome`` (an eval row's ``hidden_cases``).
        config: sandbox limits (``EvalConfig``'s timeout, memory, workers, isolation).

    Returns:
        A :class:`Grade`; ``status`` is ``no_code`` when the completion holds no function.

    Raises:
        SandboxError: the sandbox could not start.
    """
    from ..sandbox import Sandbox

    cases = list(cases)
    program = program_for(completion, entry_point, cases)
    if program is None:
        return Grade(cases=len(cases), status="no_code", detail="no function found in the completion")
    with Sandbox((config or EvalConfig(workers=1)).sandbox_config()) as sandbox:
        return grade_programs(sandbox, [program])[0]
