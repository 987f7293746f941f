"""Aimed mutation (``inputs.target``): what it reads off a test, and that the search opens tests
random mutation and blind splices rarely do."""

from __future__ import annotations

import decimal
import fractions
import math
import random
import textwrap
import types

import pytest

from case2code_hub.inputs.reading.analysis import analyse
from case2code_hub.inputs.offline import Candidate
from case2code_hub.inputs.search.repair import Blame
from case2code_hub.inputs.search.target import Targets
from case2code_hub.sandbox.coverage import coverage_map
from case2code_hub.schema import Function, Source, function_id

# The search is seeded: a test of one of its mechanisms must hold on every seed, not on a lucky one.
SEEDS = range(6)

CONTROL = textwrap.dedent('''\
    import re

    _control = re.compile(r"[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]")


    def escape(text):
        m = _control.search(text)
        if m:
            raise ValueError("control characters")
        return text.replace("&", "&amp;")
''')
WRAPPED = textwrap.dedent('''\
    def unquote(s):
        if len(s) > 1:
            if s.startswith('"') and s.endswith('"'):
                return s[1:-1].replace('\\\\"', '"')
            if s.startswith('<') and s.endswith('>'):
                return s[1:-1]
        return s
''')
SIGNED = textwrap.dedent('''\
    def signed(u, bits=64):
        if u > (1 << 63) - 1:
            return u - (1 << 64)
        return u
''')
DEFAULTS = textwrap.dedent('''\
    def defaults(high, low, kb):
        if high is None:
            if low is None:
                hi = kb * 1024
            else:
                hi = 4 * low
        else:
            hi = high
        return hi
''')
UNC = textwrap.dedent('''\
    def drive(p):
        if isinstance(p, bytes):
            sep = b'\\\\'
        else:
            sep = '\\\\'
        if p[0:2] == sep * 2:
            return p[:2]
        return p[:0]
''')

DATED = textwrap.dedent('''\
    def kind(s):
        if len(s) >= 8 and s[4] == '-' and s[7:8] == '-':
            return 'date'
        return 'text'
''')
TABLE = textwrap.dedent('''\
    _LEVELS = {'CRITICAL': 50, 'ERROR': 40, 'WARNING': 30}


    def level(name):
        if name in _LEVELS:
            return _LEVELS[name]
        return 0
''')
ALTCHARS = textwrap.dedent('''\
    def encode(s, altchars=None):
        if altchars is not None:
            assert len(altchars) == 2, repr(altchars)
            return s.translate(bytes.maketrans(b'+/', altchars))
        return s
''')


def make(code: str, entry_point: str) -> Function:
    return Function(id=function_id(code), entry_point=entry_point, code=code, source=Source("test", entry_point))


def targets_of(code: str, entry_point: str) -> Targets:
    function = make(code, entry_point)
    analysis = analyse(function)
    return Targets(code, analysis, coverage_map(code, entry_point), Blame(code, analysis))


def test_reads_constants_prefixes_none_and_regex_examples_off_each_test():
    wrapped = {p.first: t for p, t in targets_of(WRAPPED, "unquote").tests.items()}
    assert wrapped[3].prefixes == ['"'] and wrapped[3].suffixes == ['"']
    assert wrapped[5].prefixes == ["<"] and wrapped[5].suffixes == [">"] and wrapped[5].params == {"s"}
    assert 1 in wrapped[2].constants
    signed = next(iter(targets_of(SIGNED, "signed").tests.values()))
    assert (1 << 63) - 1 in signed.constants  # folded, not just 1, 63 and 1
    defaults = {p.first: t for p, t in targets_of(DEFAULTS, "defaults").tests.items()}
    assert defaults[2].none and defaults[2].params == {"high"} and defaults[3].params == {"low"}
    drive = {p.first: t for p, t in targets_of(UNC, "drive").tests.items()}
    assert {"\\\\", b"\\\\"} <= set(drive[6].constants)  # ``sep * 2`` for both bindings of sep
    assert drive[2].types == [bytes]
    dated = next(iter(targets_of(DATED, "kind").tests.values()))
    assert (4, "-") in dated.placed and (7, "-") in dated.placed
    table = next(iter(targets_of(TABLE, "level").tests.values()))
    assert {"CRITICAL", "ERROR", "WARNING"} <= set(table.constants)  # the keys of the table it looks in
    # ``altchars is not None`` with altchars omitted: the function's own literals, not None again.
    assert b"+/" in targets_of(ALTCHARS, "encode").fallback
    # ``if m:`` follows m back to ``_control.search(text)``: strings the regex matches, and text.
    control = next(iter(targets_of(CONTROL, "escape").tests.values()))
    assert control.params == {"text"}
    import re

    matching = [c for c in control.constants if isinstance(c, str) and re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", c)]
    assert matching, control.constants


def test_child_changes_the_argument_the_open_test_reads_in_a_parent_that_reached_it():
    targets = targets_of(DEFAULTS, "defaults")
    reached = frozenset({("l", 2), ("b", 2, True), ("l", 3), ("b", 3, False), ("l", 6), ("l", 9)})
    parent = Candidate([None, 5, 2], reached=reached)
    other = Candidate([1, 2, 3], reached=frozenset({("l", 2), ("b", 2, False), ("l", 8), ("l", 9)}))
    targets.update(set(reached | other.reached))
    assert [p.first for p in targets.open] == [3]  # line 2's test went both ways already
    rng = random.Random(0)
    children = [targets.child([parent, other], rng) for _ in range(20)]
    assert all(c is not None and c.args[0] is None and c.args[2] == 2 for c in children)  # only the reaching parent
    assert any(c.args[1] is None for c in children)  # ``low is None``: low becomes None


def test_no_open_test_no_child():
    targets = targets_of(SIGNED, "signed")
    targets.update(set())
    assert targets.child([Candidate([1])], random.Random(0)) is None


@pytest.mark.parametrize("seed", SEEDS)
def test_search_opens_tests_on_regexes_frames_bounds_nones_local_constants_places_and_tables(seed):
    from case2code_hub.inputs.search import SearchConfig, SearchingWriter
    from case2code_hub.sandbox import Sandbox, SandboxConfig

    functions = [make(CONTROL, "escape"), make(WRAPPED, "unquote"), make(SIGNED, "signed"),
                 make(DEFAULTS, "defaults"), make(UNC, "drive"), make(DATED, "kind"), make(TABLE, "level"),
                 make(ALTCHARS, "encode")]
    with Sandbox(SandboxConfig(workers=2, runs=1, timeout=1.0)) as sandbox:
        results = list(SearchingWriter(sandbox, SearchConfig(seed=seed)).search(functions))
    for result in results:
        assert result.quality.line_coverage == 1.0, (result.function.entry_point, result.inputs)


FLOATS = textwrap.dedent('''\
    import math
    from decimal import Decimal


    def describe(x):
        if math.isnan(x):
            return 'nan'
        if isinstance(x, Decimal):
            return 'decimal'
        if type(x) is float:
            return 'float'
        return 'other'
''')


def test_reads_special_floats_and_the_types_a_test_names_beyond_the_builtins():
    tests = {p.first: t for p, t in targets_of(FLOATS, "describe").tests.items()}
    assert any(isinstance(c, float) and math.isnan(c) for c in tests[6].constants)
    assert math.inf in tests[6].constants
    assert decimal.Decimal in tests[8].types  # ``isinstance(x, Decimal)``
    assert float in tests[10].types  # ``type(x) is float``
    from case2code_hub.inputs.search.target import _as_type

    made = _as_type(2, decimal.Decimal, random.Random(0))
    assert isinstance(made, decimal.Decimal)
    from case2code_hub.inputs.offline import _checked_source

    assert _checked_source(Candidate([made])) is not None  # a value the data contract can write


@pytest.mark.parametrize("seed", SEEDS)
def test_search_reaches_nan_and_decimal_branches(seed):
    from case2code_hub.inputs.search import SearchConfig, SearchingWriter
    from case2code_hub.sandbox import Sandbox, SandboxConfig

    with Sandbox(SandboxConfig(workers=2, runs=1, timeout=1.0)) as sandbox:
        (result,) = SearchingWriter(sandbox, SearchConfig(seed=seed)).search([make(FLOATS, "describe")])
    assert result.quality.line_coverage == 1.0, result.inputs


# statistics' own helpers: x must be nan or inf (``as_integer_ratio`` raises OverflowError or
# ValueError) to reach the middle lines; nothing in the body names them, so the mutation itself has
# to write the special floats.
EXACT_RATIO = textwrap.dedent('''\
    import math


    def _isfinite(x):
        try:
            return x.is_finite()  # Likely a Decimal.
        except AttributeError:
            return math.isfinite(x)


    def _exact_ratio(x):
        try:
            return x.as_integer_ratio()
        except AttributeError:
            pass
        except (OverflowError, ValueError):
            assert not _isfinite(x)
            return (x, None)
        try:
            return (x.numerator, x.denominator)
        except AttributeError:
            msg = f"can't convert type '{type(x).__name__}' to numerator/denominator"
            raise TypeError(msg)
''')


@pytest.mark.parametrize("seed", SEEDS)
def test_search_writes_nan_and_inf_that_no_constant_names(seed):
    from case2code_hub.inputs.search import SearchConfig, SearchingWriter
    from case2code_hub.sandbox import Sandbox, SandboxConfig

    with Sandbox(SandboxConfig(workers=2, runs=1, timeout=1.0)) as sandbox:
        (result,) = SearchingWriter(sandbox, SearchConfig(seed=seed)).search([make(EXACT_RATIO, "_exact_ratio")])
    assert result.quality.line_coverage == 1.0, result.inputs


def test_mutation_steps_to_the_special_floats_and_the_numeric_tower_and_back():
    from case2code_hub.inputs.search.splice import switch_type
    from case2code_hub.inputs.values import mutate

    rng = random.Random(0)
    floats = [mutate(2.5, rng) for _ in range(400)]
    assert math.inf in floats and -math.inf in floats and any(math.isnan(f) for f in floats)
    assert all(math.isfinite(mutate(math.nan, rng)) for _ in range(20))  # never stuck on nan
    decimals = {mutate(decimal.Decimal("1.5"), rng) for _ in range(200)}
    assert decimal.Decimal("-1.5") in decimals and any(d.is_nan() for d in decimals)
    assert all(isinstance(d, decimal.Decimal) for d in decimals)
    from case2code_hub.inputs.search.trees import nodes

    switched = {type(v) for _ in range(400) for _, v in nodes(switch_type(Candidate([[1, 2.5]]), rng).args)}
    assert {decimal.Decimal, fractions.Fraction} <= switched
    from case2code_hub.inputs.offline import _checked_source

    special = Candidate([[math.nan, -math.inf, decimal.Decimal("NaN"), fractions.Fraction(1, 3)]])
    assert _checked_source(special) is not None  # values the data contract can write


# _pylong's own correctly-rounded conversion: only an integer past float's range (2 ** 1024 and up)
# reaches the OverflowError, and no constant in the body is one.
INT_TO_FLOAT = textwrap.dedent('''\
    import sys
    import math


    def int_to_float(n):
        PRECISION = sys.float_info.mant_dig + 2
        SHIFT_MAX = sys.float_info.max_exp - PRECISION
        Q_MAX = 1 << PRECISION
        ROUND_HALF_TO_EVEN_CORRECTION = [0, -1, -2, 1, 0, -1, 2, 1]
        if n == 0:
            return 0.0
        elif n < 0:
            return -int_to_float(-n)
        shift = n.bit_length() - PRECISION
        q = n << -shift if shift < 0 else (n >> shift) | bool(n & ~(-1 << shift))
        q += ROUND_HALF_TO_EVEN_CORRECTION[q & 7]
        if shift + (q == Q_MAX) > SHIFT_MAX:
            raise OverflowError("integer too large to convert to float")
        return math.ldexp(float(q), shift)
''')


@pytest.mark.parametrize("seed", SEEDS)
def test_search_writes_integers_past_the_range_of_float(seed):
    from case2code_hub.inputs.search import SearchConfig, SearchingWriter
    from case2code_hub.sandbox import Sandbox, SandboxConfig

    with Sandbox(SandboxConfig(workers=2, runs=1, timeout=1.0)) as sandbox:
        (result,) = SearchingWriter(sandbox, SearchConfig(seed=seed)).search([make(INT_TO_FLOAT, "int_to_float")])
    assert result.quality.line_coverage == 1.0, result.inputs
    assert any(case.output == "OverflowError: integer too large to convert to float" for case in result.cases)


def test_huge_integers_are_written_as_they_are_and_mutate_back_to_small_ones():
    from case2code_hub.inputs.values import Context, mutate

    rng = random.Random(0)
    ints = [mutate(7, rng) for _ in range(600)]
    assert 2**1024 in ints and -(2**1024) in ints and 2**64 in ints
    assert all(abs(i) <= Context().limits.max_abs_int for i in ints if i not in (2**64, 2**1024, -(2**1024)))
    assert all(abs(mutate(2**1024, rng)) <= 2**1024 for _ in range(50))
    assert any(abs(mutate(2**1024, rng)) <= Context().limits.max_abs_int for _ in range(50))


def test_a_compared_character_property_names_characters_that_have_it():
    tests = {p.first: t for p, t in targets_of(SCRIPTS, "script").tests.items()}
    import unicodedata

    assert any(unicodedata.bidirectional(c) == "R" for c in tests[6].constants if isinstance(c, str))
    assert any(unicodedata.category(c) == "Cf" for c in tests[8].constants if isinstance(c, str))
    assert any(unicodedata.category(c) == "Co" for c in tests[10].constants if isinstance(c, str))


# pstats' own helper: a slice compared with a tuple display wants those items at the slice's start.
FUNC_STD_STRING = textwrap.dedent('''\
    def func_std_string(func_name):
        if func_name[:2] == ('~', 0):
            name = func_name[2]
            if name.startswith('<') and name.endswith('>'):
                return '{%s}' % name[1:-1]
            else:
                return name
        else:
            return "%s:%d(%s)" % func_name
''')


def test_a_slice_compared_with_a_tuple_display_places_its_items_there():
    from case2code_hub.inputs.search.target import _run_placed

    tests = {p.first: t for p, t in targets_of(FUNC_STD_STRING, "func_std_string").tests.items()}
    test = tests[2]
    assert test.runs == [(0, ("~", 0))]
    assert _run_placed(("a.py", 3, "f"), 0, ("~", 0)) == ("~", 0, "f")
    assert _run_placed(["x"], 2, ("~", 0)) == ["x", 0, "~", 0]  # padded to reach the start
    assert _run_placed("f", 0, ("~", 0)) == ("~", 0, "f")  # a lone value becomes the last item
    from case2code_hub.inputs.search import SearchConfig, SearchingWriter
    from case2code_hub.sandbox import Sandbox, SandboxConfig

    for seed in range(4):
        with Sandbox(SandboxConfig(workers=2, runs=1, timeout=1.0)) as sandbox:
            (result,) = SearchingWriter(sandbox, SearchConfig(seed=seed)).search([make(FUNC_STD_STRING, "func_std_string")])
        assert result.quality.line_coverage == 1.0, (seed, result.inputs)


def test_havoc_stacks_the_body_tokens_in_order_often_enough_to_build_a_bracket_expression():
    from case2code_hub.inputs.search.splice import havoc

    rng = random.Random(0)
    parent = Candidate(["ab", 3], {"flag": True})
    children = [havoc(parent, ["[", "!", "]", 7], rng) for _ in range(400)]
    assert all(c.args[1] == 3 and c.kwargs == {"flag": True} and len(c.args[0]) <= 60 for c in children)
    assert any("[!" in c.args[0] and "]" in c.args[0].split("[!", 1)[1] for c in children)
    assert havoc(Candidate([1, [2]]), ["["], rng) is None  # no string to edit
    assert havoc(Candidate([b"x"]), ["["], rng) is None  # no token of the value's kind
    again = random.Random(0)
    assert [havoc(parent, ["[", "!", "]", 7], again).args for _ in range(400)] == [c.args for c in children]


BOM = textwrap.dedent('''\
    import codecs


    def encoding(b):
        if b.startswith(codecs.BOM_UTF8):
            return 'utf-8-sig'
        if b[:2] == codecs.BOM_UTF16_LE:
            return 'utf-16-le'
        return 'utf-8'
''')
HEXREF = textwrap.dedent('''\
    import re as _re


    def _one(match):
        code = int(match.group(1), 16)
        if code > 0x7f:
            return '?'
        return chr(code)


    def decode(s):
        return _re.sub(r'%([0-9a-fA-F]{2})', _one, s)
''')


def test_reads_the_constants_of_standard_modules_and_examples_of_the_modules_patterns():
    import codecs
    import re

    tests = {p.first: t for p, t in targets_of(BOM, "encoding").tests.items()}
    assert codecs.BOM_UTF8 in tests[5].constants  # ``b.startswith(codecs.BOM_UTF8)``
    assert (0, codecs.BOM_UTF16_LE) in tests[7].placed  # ``b[:2] == codecs.BOM_UTF16_LE``
    examples = analyse(make(HEXREF, "decode")).pattern_examples
    assert examples and all(re.search(r'%([0-9a-fA-F]{2})', e) for e in examples)  # under ``import re as _re``


@pytest.mark.parametrize("seed", SEEDS)
def test_search_reaches_branches_on_module_constants_and_on_what_a_pattern_hands_a_helper(seed):
    from case2code_hub.inputs.search import SearchConfig, SearchingWriter
    from case2code_hub.sandbox import Sandbox, SandboxConfig

    with Sandbox(SandboxConfig(workers=2, runs=1, timeout=1.0)) as sandbox:
        results = list(SearchingWriter(sandbox, SearchConfig(seed=seed)).search([make(BOM, "encoding"),
                                                                                 make(HEXREF, "decode")]))
    for result in results:
        assert result.quality.line_coverage == 1.0, (result.function.entry_point, result.inputs)


UNPACKED = textwrap.dedent('''\
    def wildcard(dn, hostname):
        head, sep, tail = dn.partition('.')
        if head != '*':
            return False
        return tail == hostname
''')


def test_a_test_on_a_name_unpacked_from_an_argument_reads_that_argument_and_its_constants():
    (test,) = [t for p, t in targets_of(UNPACKED, "wildcard").tests.items() if p.first == 3]
    assert test.params == {"dn"} and "*" in test.constants and "." in test.constants


def test_mix_takes_one_argument_from_another_call_of_the_pool():
    from case2code_hub.inputs.search.splice import mix

    parent, other = Candidate(["echo %t", "audio/*"]), Candidate(["x", "audio/wav"], {"plist": ["a=1"]})
    children = {child.source() for seed in range(40) if (child := mix(parent, [parent, other], random.Random(seed)))}
    assert children == {"'x', 'audio/*'", "'echo %t', 'audio/wav'", "'echo %t', 'audio/*', plist=['a=1']"}
    assert mix(parent, [parent], random.Random(0)) is None  # nothing differs


SCRIPTS = textwrap.dedent('''\
    import unicodedata


    def script(s):
        for c in s:
            if unicodedata.bidirectional(c) == 'R':
                return 'right-to-left'
            if unicodedata.category(c) == 'Cf':
                return 'invisible'
            if unicodedata.category(c) == 'Co':
                return 'private use'
        return 'plain'
''')


@pytest.mark.parametrize("seed", SEEDS)
def test_search_writes_right_to_left_invisible_and_private_use_characters(seed):
    # The compared constants are properties of characters, not characters: only the mutation's own
    # unicode characters reach these lines (IDNA's nameprep branches on the same properties).
    from case2code_hub.inputs.search import SearchConfig, SearchingWriter
    from case2code_hub.sandbox import Sandbox, SandboxConfig

    with Sandbox(SandboxConfig(workers=2, runs=1, timeout=1.0)) as sandbox:
        (result,) = SearchingWriter(sandbox, SearchConfig(seed=seed)).search([make(SCRIPTS, "script")])
    assert result.quality.line_coverage == 1.0, result.inputs


ZEROS = textwrap.dedent('''\
    def width(b):
        if len(b) == 2:
            if not b[0]:
                return 'big'
            if not b[1]:
                return 'little'
        return 'bytes'
''')


def test_a_test_on_an_element_s_truth_places_a_zero_or_a_one_there():
    tests = {p.first: t for p, t in targets_of(ZEROS, "width").tests.items()}
    assert (0, 0) in tests[3].placed and (1, 0) in tests[5].placed
    from case2code_hub.inputs.search.target import _placed

    assert _placed(b"AB", 0, 0, random.Random(0)) == b"\x00B"


# An attribute of the argument (or of an object inside it) compared with a constant.
TYPING_ANNOTATION = textwrap.dedent('''\
    import re


    def formatannotation(annotation):
        if getattr(annotation, '__module__', None) == 'typing':
            return re.sub(r'[\\w\\.]+', lambda m: m.group().removeprefix('typing.'), repr(annotation))
        if isinstance(annotation, type):
            return annotation.__qualname__
        return repr(annotation)
''')
DOTTED = textwrap.dedent('''\
    def is_attribute(node):
        prev = node.prev_sibling
        if prev is not None and prev.type == 23:
            return True
        return False
''')


def test_an_attribute_compared_with_a_constant_gives_an_object_that_has_it():
    from case2code_hub.inputs.search.target import _value_for, _with_attr

    tests = {p.first: t for p, t in targets_of(TYPING_ANNOTATION, "formatannotation").tests.items()}
    assert tests[5].attrs == ["__module__"] and "typing" in tests[5].constants
    made = {repr(_value_for(tests[5], int, random.Random(seed), [])) for seed in range(20)}
    assert "namespace(__module__='typing')" in made  # a class becomes an object of that module
    assert _with_attr(types.SimpleNamespace(a=1), "type", 23) == types.SimpleNamespace(a=1, type=23)
    assert _with_attr(None, "type", 23) == types.SimpleNamespace(type=23)
    from case2code_hub.inputs.search import SearchConfig, SearchingWriter
    from case2code_hub.sandbox import Sandbox, SandboxConfig

    functions = [make(TYPING_ANNOTATION, "formatannotation"), make(DOTTED, "is_attribute")]
    for seed in SEEDS:
        with Sandbox(SandboxConfig(workers=2, runs=1, timeout=1.0)) as sandbox:
            results = list(SearchingWriter(sandbox, SearchConfig(seed=seed)).search(functions))
        for result in results:
            assert result.quality.line_coverage == 1.0, (seed, result.function.entry_point, result.inputs)
