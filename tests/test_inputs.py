"""The offline input writer: static inference, candidate grammar, determinism, and case selection."""

from __future__ import annotations

import ast
import random
import textwrap

import pytest

from case2code_hub import literals
from case2code_hub.errors import ConfigError
from case2code_hub.cases import drop_reason, select_cases
from case2code_hub.inputs import OfflineInputWriter, OfflineWriterConfig
from case2code_hub.inputs.reading.analysis import TypeSpec, analyse, annotation_spec, name_kind, ranked_types
from case2code_hub.inputs.offline import Candidate
from case2code_hub.inputs.search.repair import Blame, converted, error_shape, repaired
from case2code_hub.inputs.search.splice import Frontier, cross, switch_type
from case2code_hub.inputs.values import Context, Limits, mutate
from case2code_hub.sandbox.coverage import coverage_map
from case2code_hub.schema import Case, CaseCoverage, Function, Source, function_id

# The search is seeded: a test of one of its mechanisms must hold on every seed, not on a lucky one.
SEEDS = range(6)


def make(code: str, entry_point: str | None = None) -> Function:
    code = textwrap.dedent(code)
    if entry_point is None:
        entry_point = next(n.name for n in ast.parse(code).body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return Function(id=function_id(code), entry_point=entry_point, code=code, source=Source("test", "t.py"))


def top_kind(code: str, param: str) -> str:
    analysis = analyse(make(code))
    types, _ = ranked_types(analysis.param(param))
    return str(types[0][0])


def values_of(sources: list[str], index: int) -> list:
    return [literals.parse_arguments(s)[0][index] for s in sources if len(literals.parse_arguments(s)[0]) > index]


# --- analysis ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, expected",
    [
        ("list[int]", "list[int]"),
        ("List[str]", "list[str]"),
        ("Optional[str]", "union[str, none]"),
        ("str | None", "union[str, none]"),
        ("Dict[str, int]", "dict[str, int]"),
        ("tuple[int, ...]", "tuple[int, ...]"),
        ("Tuple[int, str]", "tuple[int, str]"),
        ("typing.Sequence[float]", "list[float]"),
        ("'list[int]'", "list[int]"),
        ("Literal['a', 'b']", "Literal['a', 'b']"),
        ("Union[int, float, None]", "union[int, float, none]"),
        ("MyClass", "object"),
        ("Callable[[int], int]", "callable"),  # built from the grammar's names (abs, len)
    ],
)
def test_annotation_spec(source, expected):
    assert str(annotation_spec(ast.parse(source, mode="eval").body)) == expected


def test_annotations_drive_generated_values():
    fn = make(
        """
        from typing import Dict, Optional
        def f(a: list[int], b: Optional[str], c: Dict[str, int], d: bool):
            return a, b, c, d
        """
    )
    sources = OfflineInputWriter(n_candidates=16).write(fn)
    assert len(sources) == 16
    for source in sources:
        args, _ = literals.parse_arguments(source)
        a, b, c, d = args
        assert isinstance(a, list) and all(isinstance(x, int) for x in a)
        assert b is None or isinstance(b, str)
        assert isinstance(c, dict) and all(isinstance(k, str) for k in c)
        assert isinstance(d, bool)
    assert None in values_of(sources, 1)  # Optional: None is tried


def test_defaults_are_read_and_used():
    fn = make("def f(x, sep=', ', width=3, opts=None, factory=object()):\n    return x\n")
    params = {p.name: p for p in analyse(fn).params}
    assert params["sep"].default == ", " and params["sep"].default_is_literal
    assert params["width"].default == 3
    assert params["opts"].default is None and params["opts"].default_is_literal
    assert params["factory"].has_default and not params["factory"].default_is_literal
    types, _ = ranked_types(params["width"])
    assert types[0][0].kind == "int"
    sources = OfflineInputWriter().write(fn)
    # The "defaults" candidate passes only the required argument.
    assert len(literals.parse_arguments(sources[0])[0]) == 1 and not literals.parse_arguments(sources[0])[1]


def test_doctest_examples_come_first():
    fn = make(
        '''
        def clamp(value, low=0, high=10):
            """Clamp a value.

            >>> clamp(15)
            10
            >>> clamp(-3, low=-1)
            -1
            >>> clamp(5, 0,
            ...       4)
            4
            >>> clamp(object())   # not a literal: skipped, never evaluated
            >>> print(clamp(2))
            2
            """
            return max(low, min(high, value))
        '''
    )
    analysis = analyse(fn)
    assert analysis.doctests == [([15], {}), ([-3], {"low": -1}), ([5, 0, 4], {}), ([2], {})]
    sources = OfflineInputWriter().write(fn)
    assert sources[:4] == ["15", "-3, low=-1", "5, 0, 4", "2"]


@pytest.mark.parametrize(
    "body, param, expected",
    [
        ("return s.split(',')", "s", "str"),
        ("return q.lower().startswith('a')", "q", "str"),
        ("q.append(1)\n    return q", "q", "list[int]"),
        ("return sum(q) / len(q)", "q", "list[int]"),
        ("return q['name'] + q['age']", "q", "dict[str, int]"),
        ("return [k for k, v in q.items()]", "q", "dict[str, int]"),
        ("q.add(3)\n    return q", "q", "set[int]"),
        ("return q + 1", "q", "int"),
        ("return q * 2.5", "q", "float"),
        ("return [i for i in range(q)]", "q", "int"),
        ("return q % 2 == 0", "q", "int"),
        ("return 'yes' if isinstance(q, str) else 'no'", "q", "str"),
        ("return [c for c in q if c.isdigit()]", "q", "str"),
        ("return [w.upper() for w in q]", "q", "list[str]"),
        ("return ', '.join(q)", "q", "list[str]"),
        ("return q[0] + 1", "q", "list[int]"),
        ("total = 0\n    for v in q:\n        total += v * 1.5\n    return total", "q", "list[float]"),
        ("return q == 'stop'", "q", "str"),
    ],
)
def test_usage_drives_inference(body, param, expected):
    assert top_kind(f"def f(q, s=None):\n    {body}\n", param) == expected


def test_usage_collects_keys_and_compared_constants():
    fn = make(
        """
        def f(rec, level):
            if level >= 3 and rec.get('kind') == 'x':
                return rec['name']
            return None
        """
    )
    params = {p.name: p for p in analyse(fn).params}
    assert params["rec"].keys == ("kind", "name")
    assert 3 in params["level"].constants
    sources = OfflineInputWriter().write(fn)
    recs = [v for v in values_of(sources, 0) if isinstance(v, dict) and v]
    assert "kind" in recs[0] and any(set(r) >= {"kind", "name"} for r in recs)  # the body's keys first
    levels = set(values_of(sources, 1))
    assert {2, 3, 4} <= levels  # the compared constant and its neighbours


@pytest.mark.parametrize(
    "name, kind",
    [("n", "int"), ("count", "int"), ("max_size", "int"), ("s", "str"), ("text", "str"), ("colour", None), ("file_path", "str"),
     ("items", "list"), ("lst", "list"), ("d", "dict"), ("mapping", "dict"), ("flag", "bool"), ("is_valid", "bool"),
     ("x", "number"), ("num_rows", "int"), ("dtstr", "str"), ("tstr", "str")],
)  # fmt: skip
def test_name_hints(name, kind):
    assert name_kind(name) == kind


def test_iso_named_strings_start_from_iso_8601_text():
    from case2code_hub.inputs.values import typical_values

    rng = random.Random("iso")
    datetimes = typical_values(TypeSpec("str"), Context(name="dtstr"), rng)
    assert "2024-01-02T03:04:05" in datetimes and "2024-W01-3T12:30" in datetimes
    assert "12:30:45.123456" in typical_values(TypeSpec("str"), Context(name="tstr"), rng)
    assert "2024-01-02" in typical_values(TypeSpec("str"), Context(name="date_string"), rng)


def test_names_drive_inference_without_other_evidence():
    code = "def f(n, text, items, mapping, is_ok, x):\n    return helper(n, text, items, mapping, is_ok, x)\n"
    kinds = {p: top_kind(code, p) for p in ("n", "text", "items", "mapping", "is_ok", "x")}
    assert kinds == {"n": "int", "text": "str", "items": "list[int]", "mapping": "dict[str, int]", "is_ok": "bool", "x": "int"}


def test_body_literals_become_seeds():
    fn = make(
        """
        def f(code):
            if code == 404:
                return 'not found'
            return code.split('-')
        """
    )
    analysis = analyse(fn)
    assert 404 in analysis.int_constants and "-" in analysis.str_constants
    sources = OfflineInputWriter(n_candidates=40).write(fn)
    values = values_of(sources, 0)
    assert 404 in values
    assert any(isinstance(v, str) and "-" in v for v in values)


# --- writer output ----------------------------------------------------------------------------

ODD_FUNCTIONS = [
    "def f(*args):\n    return len(args)\n",
    "def f(**kwargs):\n    return kwargs\n",
    "def f(a, *args, b, c=2, **kwargs):\n    return a\n",
    "def f(a, /, b=1, *, c):\n    return a + b + c\n",
    "def f(x=[1, {2: (3,)}], y=lambda: 0, z=-1.5, w=float('inf')):\n    return x\n",
    "def f(cb: Callable[[int], int], obj: 'SomeClass', t: 'not valid ]'):\n    return cb(obj)\n",
    "def f():\n    return 1\n",
    "async def f(x):\n    return x\n",
    "def f(x: Literal['r', 'w'] = 'r', *, y: tuple[int, str]):\n    return x\n",
    "def f(data: bytes, when: datetime.date, amount: Decimal, ratio: Fraction, z: complex):\n    return data\n",
    "def f(nested: dict[str, list[tuple[int, ...]]]):\n    return nested\n",
    "def f(x):\n    '''>>> f(1, 2, 3, **{'a': 1})\n    >>> f(\n    '''\n    return x\n",
    "def f(s):\n    return s.encode().decode('utf-8')[::-1]\n",
]


@pytest.mark.parametrize("code", ODD_FUNCTIONS)
def test_odd_functions_never_crash_and_every_candidate_round_trips(code):
    fn = make(code)
    analysis = analyse(fn)
    sources = OfflineInputWriter().write(fn)
    assert len(sources) == len(set(sources))
    required = [p for p in analysis.params if p.required]
    for source in sources:
        assert len(source) <= 400
        args, kwargs = literals.parse_arguments(source)
        assert literals.format_arguments(args, kwargs) == source
        # Every required parameter gets a value, positional or keyword.
        positional = [p for p in analysis.params if p.kind in ("positional_only", "positional")]
        bound = {p.name for p in positional[: len(args)]} | set(kwargs)
        assert all(p.name in bound for p in required), source
        assert not any(p.kind == "positional_only" and p.name in kwargs for p in analysis.params)


def test_unparsable_or_missing_entry_point_gives_no_candidates():
    broken = Function(id="x", entry_point="f", code="def f(:\n", source=Source("t", "t"))
    assert OfflineInputWriter().write(broken) == []
    assert OfflineInputWriter().write(make("def g(x):\n    return x\n", "f")) == []


def test_small_input_spaces_end_early():
    sources = OfflineInputWriter().write(make("def f(flag: bool):\n    return not flag\n"))
    assert sorted(sources) == ["False", "True"]


VARIED = """
def f(items: list[int], text: str, n: int = 3):
    return [t for t in text.split()][:n] + items
"""


def test_deterministic_for_seed_and_function():
    fn = make(VARIED)
    first = OfflineInputWriter(seed=7).write(fn)
    assert first == OfflineInputWriter(seed=7).write(fn)
    assert first == OfflineInputWriter(OfflineWriterConfig(seed=7)).write(fn)
    assert first != OfflineInputWriter(seed=8).write(fn)
    assert len(first) == 24


def test_deterministic_across_hash_seeds(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "run.py"
    script.write_text(
        "from case2code_hub.inputs import OfflineInputWriter\n"
        "from case2code_hub.schema import Function, Source, function_id\n"
        f"code = {VARIED!r}\n"
        "fn = Function(id=function_id(code), entry_point='f', code=code, source=Source('t', 't'))\n"
        "print('\\n'.join(OfflineInputWriter().write(fn)))\n"
    )
    outputs = {
        subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True,
                       env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout  # fmt: skip
        for seed in ("0", "1", "12345")
    }
    assert len(outputs) == 1 and outputs.pop().count("\n") == 24


def test_sizes_stay_small():
    fn = make("def f(s: str, xs: list[list[int]], d: dict, n: int):\n    return s\n")
    for source in OfflineInputWriter(n_candidates=60).write(fn):
        (s, xs, d, n), _ = literals.parse_arguments(source)
        assert len(s) <= 40 and len(xs) <= 8 and len(d) <= 8 and abs(n) <= 10**6
        assert all(len(inner) <= 8 for inner in xs if isinstance(inner, list))


def test_mutations_cover_edge_cases():
    fn = make("def f(s: str, xs: list[int], n: int):\n    return s\n")
    sources = OfflineInputWriter(n_candidates=80).write(fn)
    strs, lists, ints = values_of(sources, 0), values_of(sources, 1), values_of(sources, 2)
    assert "" in strs and any(any(ord(c) > 127 for c in s) for s in strs)
    assert [] in lists and any(len(x) >= 5 for x in lists)
    assert 0 in ints and any(i < 0 for i in ints) and any(abs(i) >= 100 for i in ints)


def test_mutate_keeps_types_and_limits():
    rng = random.Random("t")
    ctx = Context(limits=Limits(max_str_len=10, max_container_len=3))
    for _ in range(200):
        assert len(mutate("abcdefghij", rng, ctx=ctx)) <= 10
        assert len(mutate([1, 2, 3], rng, spec=TypeSpec("list", (TypeSpec("int"),)), ctx=ctx)) <= 3
        assert isinstance(mutate(frozenset({1}), rng, ctx=ctx), frozenset)
        assert isinstance(mutate((1, 2), rng, ctx=ctx), tuple)
        assert mutate(True, rng) is False


@pytest.mark.parametrize(
    "options, field",
    [({"n_candidates": 0}, "n_candidates"), ({"max_str_len": -1}, "max_str_len"), ({"seed": "1"}, "seed"),
     ({"n_candidates": True}, "n_candidates")],
)  # fmt: skip
def test_config_validation_names_the_field(options, field):
    with pytest.raises(ConfigError) as info:
        OfflineWriterConfig(**options)
    assert info.value.field == field
    with pytest.raises(ConfigError):
        OfflineInputWriter(**options)


def test_unknown_option_is_a_config_error():
    with pytest.raises(ConfigError):
        OfflineInputWriter(n_candidate=3)


def test_code_is_never_run(tmp_path):
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w').write('x')\ndef f(x):\n    open({str(marker)!r}, 'w')\n    return x\n"
    assert OfflineInputWriter().write(make(code, "f"))
    assert not marker.exists()


# --- select_cases -----------------------------------------------------------------------------


def case(input: str, output: str, outcome: str = "returned") -> Case:
    return Case(input=input, output=output, outcome=outcome)


def test_select_keeps_returned_and_raised_only_in_original_order():
    cases = [
        case("1", "1"), case("2", "", "timeout"), case("3", "ValueError: bad", "raised"), case("4", "4"),
        case("5", "", "crashed"), case("6", "6"), case("7", "7"), case("8", "8"), case("9", "", "memory"),
        case("10", "10"), case("11", "x", "unserializable"), case("12", "y", "nondeterministic"),
    ]  # fmt: skip
    chosen = select_cases(cases, n=10)
    assert [c.input for c in chosen] == ["1", "3", "4", "6", "7", "8", "10"]


def test_select_prefers_distinct_outputs_then_distinct_exceptions():
    cases = [case(str(i), "same") for i in range(6)] + [case(f"'{c}'", c) for c in "abcde"]
    cases += [case("-1", "ValueError: a", "raised"), case("-2", "ValueError: b", "raised"), case("-3", "KeyError: 'k'", "raised")]
    chosen = select_cases(cases, n=8, max_raised_share=0.25)
    outputs = [c.output for c in chosen]
    assert set("abcde") <= set(outputs) and outputs.count("same") == 1
    raised = [c for c in chosen if c.outcome == "raised"]
    assert {c.output.split(":")[0] for c in raised} == {"ValueError", "KeyError"}  # distinct types first
    assert len(chosen) == 8 and chosen == sorted(chosen, key=cases.index)


def test_select_caps_the_raised_share():
    cases = [case(str(i), str(i)) for i in range(4)] + [case(f"-{i}", f"E{i}: x", "raised") for i in range(10)]
    chosen = select_cases(cases, n=10, max_raised_share=0.3)
    raised = sum(c.outcome == "raised" for c in chosen)
    assert raised == 1 and len(chosen) == 5  # 1/5 fits 30%; 2/6 would not
    assert select_cases(cases, n=10, max_raised_share=0.0) == cases[:4]


def test_select_dedupes_inputs_drops_addresses_and_needs_min_returned():
    cases = [case("1", "1"), case(" 1", "1"), case("2", "<object at 0x7f00>"), case("3", "3")]
    assert [c.input for c in select_cases(cases)] == ["1", "3"]
    assert select_cases(cases, min_returned=3) == []
    assert select_cases([case("1", "E: x", "raised")]) == []


def test_select_validates_options():
    with pytest.raises(ConfigError) as info:
        select_cases([], max_raised_share=1.5)
    assert info.value.field == "max_raised_share"
    with pytest.raises(ConfigError):
        select_cases([], n=0)


def test_drop_reason():
    good = [case(str(i), str(i)) for i in range(5)]
    assert drop_reason(good) is None
    assert drop_reason(good[:4]) == "too_few_cases"
    assert drop_reason([]) == "too_few_cases"
    assert drop_reason([case(str(i), "0") for i in range(6)]) == "constant_output"
    mixed = good[:3] + [case(f"-{i}", "E: x", "raised") for i in range(3)]
    assert drop_reason(mixed) == "too_few_returning"
    assert drop_reason(mixed, min_returned=3) == "mostly_raised"
    four_returning = good[:4] + [case("-1", "E: x", "raised"), case("-2", "F: y", "raised")]
    assert drop_reason(four_returning) == "too_few_returning"
    assert drop_reason(good + [case("-1", "E: x", "raised")]) is None


def test_doctest_with_signalling_nan_does_not_crash_the_writer():
    code = '''def g(x):
    """
    >>> g(decimal.Decimal('sNaN'))
    >>> g(decimal.Decimal('sNaN'))
    >>> g(1)
    """
    return x
'''
    fn = Function(id="snan", entry_point="g", code=code, source=Source(corpus="t", path="t.py"))
    inputs = OfflineInputWriter(seed=0).write(fn)
    assert "decimal.Decimal('sNaN')" in inputs and "1" in inputs


# --- error-guided repair and splices ------------------------------------------------------------


def repairs(args, error, n=40):
    rng = random.Random("repair")
    out = [repaired(Candidate(list(args)), error, rng) for _ in range(n)]
    return [c.args for c in out if c is not None]


def test_key_error_adds_the_key_to_the_dicts_of_every_row():
    fixed = repairs([[{"a": 1}, {"a": 2}], 3], "KeyError: 'time'")
    assert fixed and all(any("time" in row for row in rows) and n == 3 for rows, n in fixed)
    assert any(all(row.get("time") is not None for row in rows) for rows, _ in fixed)
    assert all(isinstance(row["time"], int) for rows, _ in fixed for row in rows if "time" in row)


def test_type_errors_switch_the_named_type_to_one_that_has_what_the_body_used():
    fixed = repairs([[[0, 1], [2, 3]]], "AttributeError: 'int' object has no attribute 'find'")
    assert fixed and all(any(isinstance(x, str) for row in rows for x in row) for (rows,) in fixed)
    fixed = repairs([5, "a"], "TypeError: 'int' object is not subscriptable")
    assert all(isinstance(x, (list, dict, str, tuple)) and s == "a" for x, s in fixed)
    fixed = repairs([[1, 2]], "AttributeError: 'list' object has no attribute 'keys'")
    assert all(isinstance(x, dict) for (x,) in fixed)
    fixed = repairs(["hello"], "ValueError: invalid literal for int() with base 10: 'h'")
    assert all(s.isdigit() for (s,) in fixed)


def test_unpacking_and_index_errors_resize_containers():
    fixed = repairs([{}, 0], "ValueError: not enough values to unpack (expected 3, got 0)")
    assert fixed and all(len(d) == 3 and n == 0 for d, n in fixed)
    fixed = repairs([[[1, 2, 3]]], "ValueError: too many values to unpack (expected 2)")
    assert all(len(pair) == 2 for (rows,) in fixed for pair in rows)
    fixed = repairs([[1], "ab"], "IndexError: list index out of range")
    assert all(len(xs) > 1 and s == "ab" for xs, s in fixed)


def test_substring_not_found_puts_one_of_the_body_strings_in():
    rng = random.Random("substring")
    fixed = [repaired(Candidate(["setUpClass", 2]), "ValueError: substring not found", rng, ("(", ")")) for _ in range(20)]
    assert fixed and all(c is not None and c.args[1] == 2 and ("(" in c.args[0] or ")" in c.args[0]) for c in fixed)
    (child,) = [repaired(Candidate([b"ab"]), "ValueError: subsection not found", rng, ("(",))]
    assert child.args[0].count(b"(") == 1
    assert repaired(Candidate(["ab"]), "ValueError: substring not found", rng, ()) is None  # no string to put in


def test_float_mutation_reaches_tiny_values():
    rng = random.Random("tiny")
    results = {mutate(0.5, rng) for _ in range(300)}
    assert any(0 < abs(r) < 1e-100 for r in results) and 1e-12 in results


def test_errors_that_say_nothing_about_the_input_are_not_repaired():
    assert repairs([1], "AssertionError") == []
    assert repairs([1], "ValueError: bad value") == []
    assert repairs([1], "KeyError: <object>") == []


def test_cross_splice_copies_values_between_arguments():
    rng = random.Random("cross")
    children = [cross(Candidate([["mario", "zelda"], "super bros"]), rng) for _ in range(60)]
    names = [c.args[1] for c in children if c is not None]
    assert any("mario" in name or "zelda" in name for name in names)
    children = [cross(Candidate([{}, "apple"]), rng) for _ in range(60)]
    assert any(c is not None and c.args[0] == {"apple": 1} for c in children)
    assert cross(Candidate([]), rng) is None


def test_switch_type_changes_a_value_to_another_type():
    rng = random.Random("switch")
    kinds = {type(switch_type(Candidate([[1, 2, 3]]), rng).args[0]) for _ in range(60)}
    assert len(kinds) >= 3
    # str and bytes are twins: ``if isinstance(s, bytes_types)`` branches need the other one.
    texts = [switch_type(Candidate(["abc"]), rng).args[0] for _ in range(60)]
    assert b"abc" in texts
    assert "ab\xff" in [switch_type(Candidate([b"ab\xff"]), rng).args[0] for _ in range(60)]


def test_blame_names_the_arguments_on_the_line_that_raised():
    code = "def f(d, p, *rest, k=1):\n    a, b, c = d\n    x, y = p\n    return a + k\n"
    blame = Blame(code, analyse(make(code, "f")))
    raised_on_3 = CaseCoverage(lines=[2, 3], arcs=[(-1, 2), (2, 3), (3, -1)])
    assert blame.places(Candidate([(1, 2, 3), 0]), raised_on_3) == (1,)
    raised_on_4 = CaseCoverage(lines=[2, 3, 4], arcs=[(-1, 2), (2, 3), (3, 4), (4, -1)])
    # ``a`` comes from ``d``: a name bound from a parameter blames the parameter.
    assert blame.places(Candidate([(1, 2, 3), (4, 5)], {"k": "x"}), raised_on_4) == (0, 2)
    assert blame.places(Candidate([1, 2]), None) == ()
    # A repair changes the blamed argument (now and then another one).
    parent = Candidate([[1, 2], 0], error="TypeError: cannot unpack non-iterable int object", blamed=(1,))
    rng = random.Random("blame")
    children = [repaired(parent, parent.error, rng) for _ in range(40)]
    assert sum(c.args[0] == [1, 2] and isinstance(c.args[1], tuple) for c in children) >= 28


NESTED_ROWS = textwrap.dedent('''\
    def tagged(table):
        keep = []
        for name in table.keys():
            for pos in table[name]['pos']:
                if pos[1] == 'I':
                    keep.append(name)
        return keep
''')
TWO_TUPLES = textwrap.dedent('''\
    def normal(d, p):
        a, b, c = d
        x, y = p
        return -b * x + a * y + c
''')


@pytest.mark.parametrize("seed", SEEDS)
def test_search_walks_a_chain_of_errors_to_the_structure_the_body_needs(seed):
    from case2code_hub.inputs.search import SearchConfig, SearchingWriter
    from case2code_hub.sandbox import Sandbox, SandboxConfig

    with Sandbox(SandboxConfig(workers=2, runs=1, timeout=1.0)) as sandbox:
        rows, pair = SearchingWriter(sandbox, SearchConfig(seed=seed)).search([make(NESTED_ROWS), make(TWO_TUPLES)])
    # KeyError 'pos', then "'int' object is not iterable", then a list of rows reaches the test
    # of ``pos[1]`` (only the append needs the constant at the right place, which is luck).
    assert rows.quality.line_coverage >= 5 / 6, rows.inputs
    # "not enough values to unpack (expected 3, got 0)" resizes d, the next error blames p: some
    # chosen call gets past both unpackings (whether its values then add up is the search's luck).
    assert pair.quality.line_coverage == 1.0, pair.inputs
    shapes = set()
    for source in pair.inputs:
        args, kwargs = literals.parse_arguments(source)
        values = [*args, *kwargs.values()]
        shapes.add(tuple(len(v) if hasattr(v, "__len__") else None for v in values))
    assert (3, 2) in shapes, pair.inputs


def test_error_shape_blanks_type_names_but_keeps_keys():
    assert error_shape("TypeError: 'int' object is not iterable") == error_shape("TypeError: 'bool' object is not iterable")
    assert error_shape("AttributeError: 'NoneType' object has no attribute 'split'").endswith("'split'")
    assert error_shape("KeyError: 'pos'") != error_shape("KeyError: 'name'")


def test_frontier_offers_the_constants_of_tests_reached_but_not_passed_both_ways():
    code = "def f(s, n):\n    if s == 'f' or s == 'm':\n        return 1\n    if n > 40:\n        return 2\n    return 'x'\n"
    frontier = Frontier(code, coverage_map(code, "f"))
    frontier.update({("l", 2), ("b", 2, False), ("l", 4), ("b", 4, False), ("l", 6)})
    assert frontier.constants == {str: ["f", "m"], int: [40]}
    frontier.update({("l", 2), ("b", 2, False), ("b", 2, True), ("l", 4), ("b", 4, False)})
    assert frontier.constants == {int: [40]}
    frontier.update(set())  # nothing reached yet: no frontier
    assert frontier.constants == {}


def test_frontier_and_usage_read_a_name_bound_once_to_a_constant_as_that_constant():
    code = "SEP = '-'\n\ndef f(s):\n    week = 'W'\n    if s[4] == SEP:\n        return 1\n    if s[5] == week:\n        return 2\n    return 0\n"
    frontier = Frontier(code, coverage_map(code, "f"))
    frontier.update({("l", 5), ("b", 5, False), ("l", 7), ("b", 7, False), ("l", 9)})
    assert frontier.constants == {int: [4, 5], str: ["-", "W"]}
    # The usage analysis sees ``s[5] == week`` as a comparison of s's elements with "W".
    assert "W" in analyse(make(code, "f")).param("s").element_constants


def test_helper_literals_are_spliced_even_when_the_entry_point_has_none():
    from case2code_hub.inputs.search import SearchConfig, SearchingWriter
    from case2code_hub.sandbox import Sandbox, SandboxConfig
    from case2code_hub.inputs.search.splice import helper_constants, splice_constants

    code = textwrap.dedent('''\
        def _kind(c):
            if c == '*':
                return 'star'
            if c == '?':
                return 'one'
            return 'plain'

        def kinds(pattern):
            return [_kind(c) for c in pattern]
    ''')
    analysis = analyse(make(code, "kinds"))
    assert splice_constants(analysis) == {}
    assert sorted(helper_constants(analysis)[str]) == ["*", "?", "one", "plain", "star"]
    with Sandbox(SandboxConfig(workers=2, runs=1, timeout=1.0)) as sandbox:
        (result,) = SearchingWriter(sandbox, SearchConfig(seed=0)).search([make(code, "kinds")])
    assert result.quality.line_coverage == 1.0, result.inputs


def test_frontier_offers_the_keys_of_a_module_table_a_test_looks_up():
    code = "LEVELS = {'INFO': 20, 'DEBUG': 10}\n\ndef f(level):\n    if level not in LEVELS:\n        raise ValueError(level)\n    return LEVELS[level]\n"
    frontier = Frontier(code, coverage_map(code, "f"))
    frontier.update({("l", 4), ("b", 4, True), ("l", 5)})
    assert frontier.constants == {str: ["INFO", "DEBUG"]}


def test_bytes_literals_are_spliced_into_bytes_arguments():
    from case2code_hub.inputs.search.splice import splice, splice_constants

    code = 'def nts(s):\n    p = s.find(b"\\0")\n    if p != -1:\n        s = s[:p]\n    return s\n'
    analysis = analyse(make(code))
    assert analysis.bytes_constants == (b"\0",)
    constants = splice_constants(analysis)
    rng = random.Random(0)
    children = [splice(Candidate([b"abc"], {}), constants, rng) for _ in range(30)]
    assert any(b"\0" in child.args[0] for child in children)


def test_splices_reach_into_objects_and_write_numbers_over_digits():
    import types

    from case2code_hub.inputs.search.splice import splice

    rng = random.Random(0)
    frame = types.SimpleNamespace(f_back=None, f_code=types.SimpleNamespace(co_filename="a.py"))
    children = [splice(Candidate([frame], {}), {str: ["importlib"]}, rng) for _ in range(20)]
    assert any("importlib" in child.args[0].f_code.co_filename for child in children)
    assert frame.f_code.co_filename == "a.py"  # the parent is not changed
    # ``num = int(s[2:])`` then ``num in _invalid_charrefs``: the int goes where the text has digits.
    children = [splice(Candidate(["&#1;x"], {}), {str: ["&"]}, rng, numbers=(128,)) for _ in range(40)]
    assert "&#128;x" in {child.args[0] for child in children}
    children = [splice(Candidate(["&x;"], {}), {str: ["&"]}, rng, numbers=(128,)) for _ in range(20)]
    assert not any("128" in child.args[0] for child in children)  # no digits there


def test_type_switches_survive_values_past_the_ordinary_ones():
    rng = random.Random(0)
    assert converted(2**1024, float, rng) == float("inf") and converted(-(2**1024), float, rng) == float("-inf")
    assert type(converted(float("nan"), int, rng)) is int and type(converted(float("inf"), int, rng)) is int
    assert converted("\ud800", bytes, rng) == b"\xed\xa0\x80"  # a lone surrogate
    assert type(converted("\u00b2", int, rng)) is int  # a superscript two: isdigit, and int() refuses it


def test_usage_reads_a_module_constant_used_by_the_body():
    code = "TICK = \"'\"\n\ndef decode(s):\n    parts = s.split(TICK, 2)\n    return parts\n"
    assert "'" in analyse(make(code, "decode")).param("s").constants
