"""What the comparisons compared: the sandbox's operand records (``ExecutionTask.operands``).

The child compiles the code with each comparison going through a hook. That must not change what
the code does or what coverage says, must not trust or call the user's objects, and gives the search
the values no constant in the code names (a table computed at import, a number read out of bytes).
"""

from __future__ import annotations

import textwrap

import pytest

from case2code_hub.sandbox import Sandbox, SandboxConfig
from case2code_hub.sandbox.coverage import coverage_map
from case2code_hub.schema import ExecutionTask, Function, Source, function_id

# The search is seeded: a test of one of its mechanisms must hold on every seed, not on a lucky one.
SEEDS = range(6)

# Comparisons of every shape the hook rewrites or leaves alone: chained, in comprehensions, in a
# class body, on module level, raising, with a user type whose __eq__ has side effects.
SHAPES = textwrap.dedent('''\
    from __future__ import annotations
    LIMIT = 3 if 1 < 2 else 4
    SEEN = []


    class Loud:
        def __init__(self, v):
            self.v = v

        def __eq__(self, other):
            SEEN.append(other)
            return self.v == other


    def shapes(x, items=(), other=None):
        if x is None or isinstance(x, str) and x in {'a': 1}:
            return 'key'
        if 0 < x < LIMIT:
            return 'small'
        kept = [i for i in items if i != x and i not in (7, 8)]
        if kept:
            return kept
        if other is not None and Loud(x) == other:
            return ('loud', len(SEEN))
        assert x >= 0, 'negative'
        return x < 'a'
''')
SHAPE_INPUTS = ["1", "5, items=[5, 6, 7, 9]", "'a'", "None", "4, other=4", "-2", "10", "2.5, other=3"]


def _run(sandbox, code, entry_point, inputs, operands):
    return next(iter(sandbox.run([ExecutionTask("t", code, entry_point, inputs, coverage=True, operands=operands)])))


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(SandboxConfig(workers=1, runs=1, timeout=1.0)) as sb:
        yield sb


def test_the_hook_changes_neither_outputs_nor_lines_nor_arcs(sandbox):
    plain = _run(sandbox, SHAPES, "shapes", SHAPE_INPUTS, operands=False)
    hooked = _run(sandbox, SHAPES, "shapes", SHAPE_INPUTS, operands=True)
    outputs = [c.output for c in plain.cases]
    assert [c.output for c in hooked.cases] == outputs
    assert outputs[:5] == ["'small'", "[6, 9]", "'key'", "'key'", "('loud', 1)"]  # the user's __eq__ ran once
    assert outputs[5] == "AssertionError: negative" and outputs[6].startswith("TypeError") and outputs[7] == "'small'"
    for p, h in zip(plain.coverage, hooked.coverage):
        assert (p.lines, sorted(p.arcs)) == (h.lines, sorted(h.arcs))
        assert p.operands == []
    # ``i != x`` and ``i not in (7, 8)`` on line 20: the items, x, and the tuple's members.
    assert {(20, "5"), (20, "6"), (20, "9"), (20, "8")} <= set(hooked.coverage[1].operands)
    assert hooked.coverage[3].operands == []  # ``x is None`` is not rewritten, and it short-circuits


def test_records_are_scalar_operands_and_a_few_members_of_builtin_containers(sandbox):
    code = textwrap.dedent('''\
        TABLE = {''.join(reversed(w)): i for i, w in enumerate(('0qz', '1qz', '2qz'))}
        BIG = set(range(1000))


        class Opaque:
            def __repr__(self):
                raise RuntimeError('never called by the hook')


        def f(code, obj=None):
            if code in TABLE:
                return TABLE[code]
            if code in BIG or obj == Opaque():
                return 'big'
            if code == 'x' * 100:
                return 'long'
            return -1
    ''')
    result = _run(sandbox, code, "f", ["'ab'", "b'\\x01', obj=[1]"], operands=True)
    first, second = result.coverage
    assert [c.output for c in result.cases] == ["-1", "-1"]
    # The computed table's keys (sorted) and the argument; not the 1000-member set's members, not
    # the object (it is not a scalar), not the 100-character string.
    assert first.operands == [(11, "'ab'"), (11, "'zq0'"), (11, "'zq1'"), (11, "'zq2'"), (13, "'ab'"), (15, "'ab'")]
    assert second.operands == [(11, "'zq0'"), (11, "'zq1'"), (11, "'zq2'"), (11, "b'\\x01'"), (13, "b'\\x01'"),
                               (15, "b'\\x01'")]


def test_a_class_dict_gives_its_names_and_a_proxy_of_a_user_mapping_is_not_read(sandbox):
    code = textwrap.dedent('''\
        import types


        class Spy(dict):
            def __iter__(self):
                raise RuntimeError('never called by the hook')


        class Point:
            def norm(self):
                return 0


        SPIED = types.MappingProxyType(Spy(x=1))


        def has(name, spy=False):
            if spy and name in SPIED:
                return 'spied'
            if name in Point.__dict__:
                return 'own'
            return 'inherited'
    ''')
    lines = code.splitlines()
    spied_line = lines.index("    if spy and name in SPIED:") + 1
    own_line = lines.index("    if name in Point.__dict__:") + 1
    result = _run(sandbox, code, "has", ["'x'", "'norm'", "'x', spy=True"], operands=True)
    assert [c.output for c in result.cases] == ["'inherited'", "'own'", "'spied'"]
    first = result.coverage[0].operands
    assert (own_line, "'norm'") in first and (own_line, "'__module__'") in first  # the class's own names
    # A proxy of a user mapping: only the name is noted, the mapping is never iterated.
    assert [source for line, source in result.coverage[2].operands if line == spied_line] == ["'x'"]


def test_user_code_that_rebinds_builtins_or_calls_the_hook_gets_only_scalars_through(sandbox):
    code = textwrap.dedent('''\
        import builtins


        def f(x):
            builtins.repr = lambda v: 'forged'
            builtins.sorted = None
            __case2code_compare__([object(), 'ok'], 999, 2, 1)  # the right side of an ``in``
            return x == 5
    ''')
    result = _run(sandbox, code, "f", ["5"], operands=True)
    assert result.cases[0].output == "True"
    assert result.coverage[0].operands == [(8, "5"), (999, "'ok'")]


def test_an_operand_whose_repr_is_long_is_left_out_not_the_case(sandbox):
    # Forty private-use characters: a 40-character string whose repr takes six characters for each.
    result = _run(sandbox, "def f(x):\n    return x == '\\ue000' * 40\n", "f", ["'a'"], operands=True)
    assert result.cases[0].outcome == "returned" and result.cases[0].output == "False"
    assert result.coverage[0].operands == [(2, "'a'")]


def test_a_syntax_error_is_a_load_error_with_operands_on_too(sandbox):
    result = _run(sandbox, "def f(x:\n    return x\n", "f", ["1"], operands=True)
    assert result.status == "load_error" and "SyntaxError" in result.detail


@pytest.mark.parametrize("seed", SEEDS)
def test_search_reaches_a_test_against_a_table_computed_at_import(seed):
    from case2code_hub.inputs.search import SearchConfig, SearchingWriter

    # No constant in the code is a key of the table: only the running call knows them.
    code = textwrap.dedent('''\
        CODES = {''.join(reversed(w)): i * 7 for i, w in enumerate(('ed0qz', 'ed1qz'))}


        def decode(token):
            if token in CODES:
                return CODES[token]
            return None
    ''')
    function = Function(id=function_id(code), entry_point="decode", code=code, source=Source("t", "t"))
    with Sandbox(SandboxConfig(workers=1, runs=1, timeout=1.0)) as sandbox:
        (result,) = SearchingWriter(sandbox, SearchConfig(seed=seed, max_calls=200)).search([function])
    assert result.quality.line_coverage == 1.0, result.inputs
    assert any(source in ("'zq0de'", "'zq1de'") for source in result.inputs)
    assert coverage_map(code, "decode").lines == (5, 6, 7)


def test_the_frontier_takes_observed_values_of_its_open_tests_only_as_parsed_scalars():
    from case2code_hub.inputs.search.splice import MAX_OBSERVED_PER_LINE, Frontier

    code = "def f(token, n):\n    if token in TABLE:\n        return 1\n    if n > 3:\n        return 2\n    return 0\n"
    cmap = coverage_map(code, "f")
    frontier = Frontier(code, cmap)
    forged = [(2, "__import__('os')"), (2, "[1, 2]"), (2, "'zq0'"), (2, "'zq0'"), (2, "b'\\x01'"), (4, "7")]
    frontier.observe(forged + [(2, repr(f"v{i}")) for i in range(40)])
    assert frontier.by_line[2][:2] == ["zq0", b"\x01"] and len(frontier.by_line[2]) == MAX_OBSERVED_PER_LINE
    # Line 2's test reached and always false, line 4's not reached: only line 2's values are spliced.
    frontier.update({("l", 2), ("b", 2, False)})
    assert "zq0" in frontier.constants[str] and b"\x01" in frontier.constants[bytes]
    assert 7 not in frontier.constants.get(int, []) and 3 not in frontier.constants.get(int, [])
    # What the call passed in comes back through its comparisons: its own values, its dict's keys
    # and slices of its strings are not news; a number read out of its bytes is.
    from case2code_hub.inputs.offline import Candidate

    fresh = Frontier(code, cmap)
    call = Candidate(["hello", {"k": 5}], {"n": b"\x00\x01"})
    fresh.observe([(2, "'hello'"), (2, "'ell'"), (2, "5"), (2, "'k'"), (2, "b'\\x01'"), (2, "256"), (2, "True")], call)
    assert fresh.by_line[2] == [256]


# ``syms.vfpdef`` is a number the grammar module computes at import: lib2to3's find_params.
NODE_KIND = textwrap.dedent('''\
    KINDS = {name: 256 + i for i, name in enumerate(('file_input', 'funcdef', 'vfpdef'))}


    def find_params(node):
        if node.type == KINDS['vfpdef']:
            return find_params(node.children[1])
        if node.type == 1:
            return node.value
        return [find_params(child) for child in node.children]
''')


def test_an_observed_value_joins_the_constants_of_the_test_on_its_line():
    from case2code_hub.inputs.reading.analysis import analyse
    from case2code_hub.inputs.search.repair import Blame
    from case2code_hub.inputs.search.target import Targets

    function = Function(id=function_id(NODE_KIND), entry_point="find_params", code=NODE_KIND, source=Source("t", "t"))
    analysis = analyse(function)
    targets = Targets(NODE_KIND, analysis, coverage_map(NODE_KIND, "find_params"), Blame(NODE_KIND, analysis))
    targets.observe([(5, 258), (5, 258), (99, "elsewhere")])
    by_line = {point.first: test for point, test in targets.tests.items()}
    assert by_line[5].constants.count(258) == 1 and by_line[5].params == {"node"}
    assert "elsewhere" not in by_line[7].constants


@pytest.mark.parametrize("seed", SEEDS)
def test_search_sets_an_attribute_to_a_number_computed_at_import(seed):
    from case2code_hub.inputs.search import SearchConfig, SearchingWriter

    function = Function(id=function_id(NODE_KIND), entry_point="find_params", code=NODE_KIND, source=Source("t", "t"))
    with Sandbox(SandboxConfig(workers=1, runs=1, timeout=1.0)) as sandbox:
        (result,) = SearchingWriter(sandbox, SearchConfig(seed=seed, max_calls=400)).search([function])
    assert result.quality.line_coverage == 1.0, result.inputs
    assert any("type=258" in source for source in result.inputs)
