"""Inputs beyond plain data: key functions, classes and attribute-holding objects.

The body says what a parameter is: ``key(item)`` calls it, ``issubclass(cls, ...)`` and
``cls.__name__`` treat it as a class, ``e.errcode`` reads an attribute off it. The search then
passes the grammar's builtin names (``abs``, ``int``) and ``types.SimpleNamespace(...)`` objects.
"""

from __future__ import annotations

import random
import textwrap
import types

import pytest

from case2code_hub import literals
from case2code_hub.inputs.reading.analysis import analyse, ranked_types
from case2code_hub.inputs.values import Context, mutate, typical_values
from case2code_hub.schema import Function, Source, function_id

# The search is seeded: a test of one of its mechanisms must hold on every seed, not on a lucky one.
SEEDS = range(6)

KEYED = textwrap.dedent('''\
    def smallest(items, key=None):
        if key is None:
            return min(items)
        best = items[0]
        for item in items[1:]:
            if key(item) < key(best):
                best = item
        return best
''')
CLASSY = textwrap.dedent('''\
    def describe(cls):
        if not isinstance(cls, type):
            return 'not a class'
        if issubclass(cls, Exception):
            return 'error ' + cls.__name__
        return cls.__qualname__ + ' from ' + cls.__module__
''')
STATUS = textwrap.dedent('''\
    def unavailable(e):
        try:
            if e.errcode == -1 or e.headers is None:
                return True
            return e.headers.get('X-exception') == 'busy'
        except AttributeError:
            return False
''')
ELLIPSIS = textwrap.dedent('''\
    def param_expr(obj):
        if obj is Ellipsis:
            return True
        return isinstance(obj, list)
''')

# The attribute is read in a helper the usage votes never see: the AttributeError tells.
HELPED = textwrap.dedent('''\
    def _code(e):
        return e.errcode


    def status(e):
        if _code(e) == -1:
            return 'unavailable'
        return 'ok'
''')

# Classes compared by identity or subclass: the grammar's named classes, Decimal and Fraction too.
COERCE = textwrap.dedent('''\
    from fractions import Fraction


    def coerce(T, S):
        if T is S:
            return T
        if S is int or S is bool:
            return T
        if issubclass(T, Fraction) and issubclass(S, float):
            return S
        if issubclass(T, float) and issubclass(S, Fraction):
            return T
        raise TypeError('cannot coerce')
''')
# An attribute compared with a named object: the aimed child sets that attribute.
MEMBER = textwrap.dedent('''\
    def kind(cls):
        if cls._member_type_ is object:
            return 'plain'
        return 'mixed'
''')

# A class caught by ``except``: an exception class, the one the called function raises.
RETRY = textwrap.dedent('''\
    def retry(func, exc, *args):
        for _ in range(3):
            try:
                return func(*args)
            except exc as e:
                last = e
                continue
        raise last
''')


def make(code: str, entry_point: str) -> Function:
    return Function(id=function_id(code), entry_point=entry_point, code=code, source=Source("t", "t"))


def kinds(code: str, entry_point: str, name: str) -> list[str]:
    param = analyse(make(code, entry_point)).param(name)
    return [spec.kind for spec, _ in ranked_types(param)[0]]


def test_the_body_says_a_parameter_is_called_a_class_or_an_object_with_attributes():
    assert kinds(KEYED, "smallest", "key")[0] == "callable"
    assert kinds(CLASSY, "describe", "cls")[0] == "type"
    status = analyse(make(STATUS, "unavailable")).param("e")
    assert status.attrs == ("errcode", "headers")  # in the order the body reads them
    (spec, _), *_ = ranked_types(status)[0]
    assert spec.kind == "namespace" and spec.values == ("errcode", "headers")
    # An alias shares them: ``g = e`` then ``g.errcode``.
    aliased = analyse(make("def f(e):\n    g = e\n    if e.level > 3:\n        return g.errcode\n", "f")).param("e")
    assert set(aliased.attrs) == {"level", "errcode"}
    # Attributes every str or int has say nothing: ``n.real`` is a number's.
    assert analyse(make("def f(n, s):\n    return n.real + len(s.upper())\n", "f")).param("n").attrs == ()
    # A name an ``except`` clause catches, alone or in a tuple, is an exception class.
    assert kinds(RETRY, "retry", "exc")[0] == "exception"
    assert kinds("def f(x, exc):\n    try:\n        return 1 / x\n    except (KeyError, exc):\n        return 0\n", "f", "exc")[0] == "exception"
    # Dunder data a namespace can carry counts (a module's ``__spec__``); what every object answers does not.
    spec_reader = "def f(m):\n    if getattr(m, '__spec__', None):\n        return m.__spec__.name\n    return m.__class__, m.__doc__\n"
    assert analyse(make(spec_reader, "f")).param("m").attrs == ("__spec__",)


def test_values_of_the_new_kinds_are_in_the_grammar_and_mutate_within_it():
    rng = random.Random(0)
    status = analyse(make(STATUS, "unavailable")).param("e")
    spec = ranked_types(status)[0][0][0]
    made = [*typical_values(spec, Context(), rng)]
    assert types.SimpleNamespace(errcode=None, headers=None) in made
    assert types.SimpleNamespace(headers=0) in made  # one attribute short: the AttributeError path
    made += typical_values(ranked_types(analyse(make(KEYED, "smallest")).param("key"))[0][0][0], Context(), rng)
    made += typical_values(ranked_types(analyse(make(CLASSY, "describe")).param("cls"))[0][0][0], Context(), rng)
    assert abs in made and int in made and ValueError in made
    caught = typical_values(ranked_types(analyse(make(RETRY, "retry")).param("exc"))[0][0][0], Context(), rng)
    assert all(issubclass(c, Exception) for c in caught) and TypeError in caught
    made += caught
    for value in made + [mutate(v, rng) for v in made for _ in range(5)]:
        source = literals.to_source(value)
        again = literals.parse_value(source)
        assert again is value or again == value, source
    mutated = {literals.to_source(mutate(abs, rng)) for _ in range(30)}
    assert len(mutated) > 2 and all(callable(literals.parse_value(m)) for m in mutated)


@pytest.mark.parametrize("seed", SEEDS)
def test_search_covers_functions_that_take_key_functions_classes_objects_and_ellipsis(seed):
    from case2code_hub.inputs.search import SearchConfig, SearchingWriter
    from case2code_hub.sandbox import Sandbox, SandboxConfig

    functions = [make(KEYED, "smallest"), make(CLASSY, "describe"), make(STATUS, "unavailable"),
                 make(ELLIPSIS, "param_expr"), make(HELPED, "status"), make(COERCE, "coerce"), make(MEMBER, "kind"),
                 make(RETRY, "retry")]
    with Sandbox(SandboxConfig(workers=2, runs=1, timeout=1.0)) as sandbox:
        results = list(SearchingWriter(sandbox, SearchConfig(seed=seed)).search(functions))
    for result in results:
        assert result.quality.line_coverage == 1.0, (result.function.entry_point, result.inputs)
    outputs = {case.output for result in results for case in result.cases}
    assert "'error ValueError'" in outputs and "'int from builtins'" in outputs


def test_paths_reach_into_namespaces_and_repairs_give_objects_the_attributes_they_lack():
    from case2code_hub.inputs.offline import Candidate
    from case2code_hub.inputs.search.repair import repaired
    from case2code_hub.inputs.search.trees import nodes, replace_at

    value = types.SimpleNamespace(a=[1, 2], b={"k": 3})
    assert dict(nodes(value))[(("attr", "a"), 1)] == 2
    assert replace_at(value, (("attr", "a"), 1), lambda v: v * 10) == types.SimpleNamespace(a=[1, 20], b={"k": 3})
    assert value.a == [1, 2]  # a copy, the parent unchanged
    assert replace_at({"a": 1}, (("attr", "a"),), lambda v: 0) == {"a": 1}  # a dict has keys, not attributes
    rng = random.Random(0)
    lacking = repaired(Candidate([types.SimpleNamespace(errcode=1)]),
                       "AttributeError: 'types.SimpleNamespace' object has no attribute 'headers'", rng)
    assert lacking.args[0].errcode == 1 and hasattr(lacking.args[0], "headers")
    wrapped = repaired(Candidate([5]), "AttributeError: 'int' object has no attribute 'errcode'", rng)
    assert wrapped.args == [types.SimpleNamespace(errcode=5)]


# unittest.mock's own helper and asyncio's callback formatter: a classmethod or staticmethod, and a
# functools.partial, are values the grammar writes (wrapping one of its callables).
WRAPPED_CALLABLE = textwrap.dedent('''\
    from types import MethodType


    def _callable(obj):
        if isinstance(obj, type):
            return True
        if isinstance(obj, (staticmethod, classmethod, MethodType)):
            return _callable(obj.__func__)
        if getattr(obj, '__call__', None) is not None:
            return True
        return False
''')
PARTIAL = textwrap.dedent('''\
    import functools


    def describe(func):
        if isinstance(func, functools.partial):
            return 'partial of ' + describe(func.func) + ' with ' + repr(func.args)
        return getattr(func, '__name__', repr(func))
''')


# collections.abc's own helper: a generic alias (``list[int]``) and a function written in Python are
# the two kinds of value its first and last tests ask for.
TYPE_REPR = textwrap.dedent('''\
    GenericAlias = type(list[int])


    def _f(): pass


    FunctionType = type(_f)


    def _type_repr(obj):
        if isinstance(obj, GenericAlias):
            return repr(obj)
        if isinstance(obj, type):
            if obj.__module__ == 'builtins':
                return obj.__qualname__
            return f'{obj.__module__}.{obj.__qualname__}'
        if obj is Ellipsis:
            return '...'
        if isinstance(obj, FunctionType):
            return obj.__name__
        return repr(obj)
''')


@pytest.mark.parametrize("seed", SEEDS)
def test_search_passes_classmethods_staticmethods_partials_aliases_and_python_functions(seed):
    from case2code_hub.inputs.search import SearchConfig, SearchingWriter
    from case2code_hub.sandbox import Sandbox, SandboxConfig

    functions = [make(WRAPPED_CALLABLE, "_callable"), make(PARTIAL, "describe"), make(TYPE_REPR, "_type_repr")]
    with Sandbox(SandboxConfig(workers=2, runs=1, timeout=1.0)) as sandbox:
        results = list(SearchingWriter(sandbox, SearchConfig(seed=seed)).search(functions))
    for result in results:
        assert result.quality.line_coverage == 1.0, (result.function.entry_point, result.inputs)
    written = [source for result in results for source in result.inputs]
    assert any(s.startswith(("classmethod(", "staticmethod(")) for s in written)
    assert any(s.startswith("functools.partial(") for s in written)
    assert "os.path.basename" in written and any("[" in s and s.split("[")[0] in ("list", "dict", "tuple") for s in written)


# asyncio's own formatter: the middle branch wants an object whose __qualname__ is missing or empty
# but whose __name__ is set, which no class or builtin function is.
CALLBACK_NAME = textwrap.dedent('''\
    def _callback_name(func):
        if hasattr(func, '__qualname__') and func.__qualname__:
            func_repr = func.__qualname__
        elif hasattr(func, '__name__') and func.__name__:
            func_repr = func.__name__
        else:
            func_repr = repr(func)
        return func_repr
''')


def test_a_name_attribute_also_asks_for_an_object_that_carries_only_that_name():
    spec_kinds = [spec.kind for spec, _ in ranked_types(analyse(make(CALLBACK_NAME, "_callback_name")).param("func"))[0]]
    assert spec_kinds[0] == "type" and "namespace" in spec_kinds
    from case2code_hub.inputs.search import SearchConfig, SearchingWriter
    from case2code_hub.sandbox import Sandbox, SandboxConfig

    for seed in SEEDS:
        with Sandbox(SandboxConfig(workers=2, runs=1, timeout=1.0)) as sandbox:
            (result,) = SearchingWriter(sandbox, SearchConfig(seed=seed)).search([make(CALLBACK_NAME, "_callback_name")])
        assert result.quality.line_coverage == 1.0, result.inputs


# typing's own helper: the elements of the list are the objects read for an attribute.
UNPACK_ARGS = textwrap.dedent('''\
    def _unpack_args(args):
        newargs = []
        for arg in args:
            subargs = getattr(arg, '__typing_unpacked_tuple_args__', None)
            if subargs is not None and not (subargs and subargs[-1] is ...):
                newargs.extend(subargs)
            else:
                newargs.append(arg)
        return newargs
''')


def test_elements_read_for_attributes_are_objects_that_carry_them():
    (spec, _), = ranked_types(analyse(make(UNPACK_ARGS, "_unpack_args")).param("args"))[0]
    assert spec.kind == "list" and spec.args[0].kind == "namespace"
    assert spec.args[0].values == ("__typing_unpacked_tuple_args__",)
    element = spec.args[0]
    made = typical_values(element, Context(), random.Random(0))
    assert any(hasattr(v, "__typing_unpacked_tuple_args__") for v in made)
    from case2code_hub.inputs.search import SearchConfig, SearchingWriter
    from case2code_hub.sandbox import Sandbox, SandboxConfig

    for seed in SEEDS:
        with Sandbox(SandboxConfig(workers=2, runs=1, timeout=1.0)) as sandbox:
            (result,) = SearchingWriter(sandbox, SearchConfig(seed=seed)).search([make(UNPACK_ARGS, "_unpack_args")])
        assert result.quality.line_coverage == 1.0, result.inputs
