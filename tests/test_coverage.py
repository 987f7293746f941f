"""Coverage measured by the sandbox: lines and arcs per case on functions whose coverage is known by
construction, the static map of coverable lines and branches, and zero cost when it is off."""

from __future__ import annotations

import textwrap

import pytest

from case2code_hub.errors import ConfigError
from case2code_hub.sandbox import Sandbox, SandboxConfig
from case2code_hub.sandbox.coverage import EMPTY, BranchPoint, coverage_map
from case2code_hub.schema import CaseCoverage, ExecutionTask

# Line numbers matter below: the code starts on line 1.
CLASSIFY = textwrap.dedent('''\
    def helper(v):
        """A docstring is not a line to cover."""
        return v * 2

    def classify(x, items=()):
        total = 0
        if x > 0:
            total += helper(x)
        elif x < -5:
            total -= 1
        for item in items:
            total += item
        return total
        print("dead code after return is not coverable")

    def unused():
        return 1
''')


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(SandboxConfig(workers=1, timeout=1.0, coverage=True)) as sb:
        yield sb


def run(sandbox, code, entry_point, inputs):
    return next(iter(sandbox.run([ExecutionTask("t", code, entry_point, inputs)])))


def test_static_map_of_known_function():
    cmap = coverage_map(CLASSIFY, "classify")
    # helper's body (3) and classify's statements; not the docstring, dead code, or unused().
    assert cmap.lines == (3, 6, 7, 8, 9, 10, 11, 12, 13)
    assert cmap.branches == (BranchPoint(7, 7, 8), BranchPoint(9, 9, 10), BranchPoint(11, 11, 12))
    assert cmap.n_units == 9 + 6
    assert coverage_map("def f(:\n", "f") is EMPTY
    assert coverage_map("def g():\n    return 1\n", "f") is EMPTY


def test_lines_and_arcs_per_case_are_exact(sandbox):
    result = run(sandbox, CLASSIFY, "classify", ["1", "-10, items=[1, 2]", "0"])
    assert [c.output for c in result.cases] == ["2", "2", "0"]
    first, second, third = result.coverage
    assert first.lines == [3, 6, 7, 8, 11, 13]
    assert (-5, 6) in first.arcs and (13, -5) in first.arcs and (-1, 3) in first.arcs and (3, -1) in first.arcs
    assert second.lines == [6, 7, 9, 10, 11, 12, 13]
    assert (12, 11) in second.arcs  # the loop goes back to its head
    assert third.lines == [6, 7, 9, 11, 13]

    cmap = coverage_map(CLASSIFY, "classify")
    assert cmap.line_coverage([first]) == pytest.approx(6 / 9)
    assert cmap.line_coverage(result.coverage) == 1.0
    # x=1: if taken, loop not entered; x=-10: elif taken, loop entered and left; x=0: both tests false.
    assert cmap.covered_branches([first]) == {(7, True), (11, False)}
    assert cmap.covered_branches([second]) == {(7, False), (9, True), (11, True), (11, False)}
    assert cmap.branch_coverage(result.coverage) == 1.0
    assert cmap.branch_coverage([first, second]) == pytest.approx(5 / 6)  # elif's false side missing


def test_raised_and_timed_out_calls_report_what_they_ran(sandbox):
    code = "def f(x):\n    if x:\n        raise ValueError('no')\n    while True:\n        pass\n"
    result = run(sandbox, code, "f", ["1"])
    assert result.cases[0].outcome == "raised"
    assert result.coverage[0].lines == [2, 3]
    cmap = coverage_map(code, "f")
    assert cmap.branches == (BranchPoint(2, 2, 3),)  # `while True` has one side only
    assert cmap.line_coverage(result.coverage) == pytest.approx(2 / 4)


def test_library_code_and_other_frames_are_not_traced(sandbox):
    code = "import json\n\ndef f(x):\n    return json.dumps(sorted(x, key=lambda v: -v))\n"
    result = run(sandbox, code, "f", ["[1, 2]"])
    assert result.cases[0].output == "'[2, 1]'"
    # Only the function's own lines: line 4 (its body, and the lambda on the same line).
    assert result.coverage[0].lines == [4]
    assert {a for a in result.coverage[0].arcs} == {(-3, 4), (4, -3), (-4, 4), (4, -4)}


def test_coverage_is_off_by_default_and_per_task_on():
    code = "def f(x):\n    return x\n"
    with Sandbox(SandboxConfig(workers=1, runs=1)) as sandbox:
        off, on = sandbox.run([ExecutionTask("a", code, "f", ["1"]), ExecutionTask("b", code, "f", ["1"], coverage=True)])
    assert off.coverage is None and off.cases[0].output == "1"
    assert on.coverage == [CaseCoverage(lines=[2], arcs=[(-1, 2), (2, -1)])]


def test_load_error_gives_no_coverage(sandbox):
    result = run(sandbox, "raise RuntimeError('at import')\ndef f(x):\n    return x\n", "f", ["1"])
    assert result.status == "load_error" and result.coverage == [None]


def test_coverage_option_is_validated():
    with pytest.raises(ConfigError) as info:
        SandboxConfig(coverage="yes")
    assert info.value.field == "coverage"


def test_one_line_if_and_multiline_tests():
    code = textwrap.dedent('''\
        def f(a, b):
            if a: return 1
            if (a and
                    b):
                return 2
            return 3
    ''')
    cmap = coverage_map(code, "f")
    # The one-line if cannot tell its sides apart by line events: it is lines only.
    assert cmap.branches == (BranchPoint(3, 4, 5),)
    assert cmap.branch_outcomes([(4, 5)]) == {(3, True)}
    assert cmap.branch_outcomes([(3, 6)]) == {(3, False)}
