"""The input grammar (``literals``): builtin names and ``types.SimpleNamespace`` as argument values."""

from __future__ import annotations

import builtins
import functools
import types

import pytest

from case2code_hub import literals
from case2code_hub.errors import LiteralSyntaxError


@pytest.mark.parametrize("name", sorted(literals.NAMED_VALUES))
def test_every_named_value_round_trips_to_the_same_object(name):
    value = literals.parse_value(name)
    assert value is literals.NAMED_VALUES[name]
    assert literals.parse_value(literals.to_source(value)) is value


def test_names_read_as_their_builtin_objects_and_print_back_by_name():
    assert literals.parse_value("int") is int and literals.to_source(int) == "int"
    assert literals.parse_value("len") is len and literals.to_source(len) == "len"
    assert literals.parse_value("str.lower") is str.lower and literals.to_source(str.lower) == "str.lower"
    assert literals.parse_value("ValueError") is ValueError and literals.to_source(ValueError) == "ValueError"
    assert literals.parse_value("Ellipsis") is ... and literals.parse_value("...") is ...
    args, kwargs = literals.parse_arguments("[3, -1], (int, [abs]), key=abs")
    assert args == [[3, -1], (int, [abs])] and kwargs == {"key": abs} and kwargs["key"] is abs
    assert literals.format_arguments(args, kwargs) == "[3, -1], (int, [abs]), key=abs"
    # Constructor calls are unchanged: a name is a value, a call of it is a constructor.
    assert literals.parse_value("int('3')") == 3 and literals.parse_value("set()") == set()


@pytest.mark.parametrize("source, name", [
    ("open", "open"), ("eval", "eval"), ("__import__", "__import__"), ("os.system", "os.system"),
    ("getattr", "getattr"), ("no_such_name", "no_such_name"), ("str.join", "str.join"),
    ("id", "id"), ("[1, hash]", "hash"), ("{'k': print}", "print"), ("int.__subclasses__", "int.__subclasses__"),
])
def test_other_names_are_rejected_by_name(source, name):
    with pytest.raises(LiteralSyntaxError, match=f"name {name} is not in the input grammar"):
        literals.parse_value(source)


def test_named_values_are_never_called():
    for source in ("len([1])", "str.lower('A')", "ValueError('x')", "abs(-1)"):
        with pytest.raises(LiteralSyntaxError, match="not a whitelisted constructor"):
            literals.parse_value(source)
    with pytest.raises(LiteralSyntaxError, match="an attribute of an expression"):
        literals.parse_value("(1).real")


def test_only_values_in_the_table_have_a_source():
    class Local:
        pass

    assert [literals.to_source(v) for v in (type, object, callable, NotImplementedError)] == [
        "type", "object", "callable", "NotImplementedError"]
    for value in (print, map, Local, types.SimpleNamespace, literals.parse_value, object()):
        with pytest.raises(LiteralSyntaxError, match="no source"):
            literals.to_source(value)


def test_simple_namespaces_round_trip_in_attribute_order():
    inner = types.SimpleNamespace(headers={"b": 2}, tags={"y", "x"})
    outer = types.SimpleNamespace(errcode=-1, inner=inner, key=len, empty=types.SimpleNamespace())
    source = literals.to_source(outer)
    assert source == ("types.SimpleNamespace(errcode=-1, inner=types.SimpleNamespace(headers={'b': 2}, "
                      "tags={'x', 'y'}), key=len, empty=types.SimpleNamespace())")
    back = literals.parse_value(source)
    assert type(back) is types.SimpleNamespace and back == outer and list(vars(back)) == list(vars(outer))
    assert back.key is len and type(back.inner) is types.SimpleNamespace
    assert literals.parse_value("SimpleNamespace(a=1, b='x')") == types.SimpleNamespace(a=1, b="x")
    assert literals.to_source(types.SimpleNamespace(a=1, b="x")) == "types.SimpleNamespace(a=1, b='x')"


@pytest.mark.parametrize("source", ["types.SimpleNamespace({'a': 1})", "SimpleNamespace(1, a=2)"])
def test_a_positional_argument_to_simple_namespace_is_rejected(source):
    with pytest.raises(LiteralSyntaxError, match="keyword arguments only"):
        literals.parse_value(source)


@pytest.mark.parametrize("attribute", ["a b", "class", "", "1x"])
def test_a_namespace_attribute_that_is_no_keyword_name_has_no_source(attribute):
    value = types.SimpleNamespace(ok=1)
    setattr(value, attribute, 2)
    with pytest.raises(LiteralSyntaxError, match="not a keyword argument name"):
        literals.to_source(value)


@pytest.mark.parametrize("source", ["{types.SimpleNamespace(a=1)}", "{types.SimpleNamespace(): 1}", "{[1]}", "{{}: 2}"])
def test_an_unhashable_set_element_or_dict_key_is_a_literal_error_not_a_type_error(source):
    with pytest.raises(LiteralSyntaxError, match="unhashable type"):
        literals.parse_value(source)


def test_callable_wrappers_round_trip_and_build_without_calling_anything():
    for source in ("functools.partial(max, 0)", "functools.partial(sorted, key=abs)", "classmethod(len)",
                   "staticmethod(str.lower)", "functools.partial(round, 2.5, ndigits=1)"):
        value = literals.parse_value(source)
        assert literals.to_source(value) == source
    wrapped = literals.parse_value("functools.partial(max, 0)")
    assert type(wrapped) is functools.partial and wrapped.func is max and wrapped(-3) == 0
    assert literals.parse_value("classmethod(len)").__func__ is len
    with pytest.raises(LiteralSyntaxError, match="must be callable"):
        literals.parse_value("functools.partial(1)")
    with pytest.raises(LiteralSyntaxError, match="no source"):
        literals.to_source(functools.partial(print, 1))  # print is not one of the grammar's names


def test_subscripted_builtin_classes_are_generic_aliases_of_classes_only():
    for source in ("list[int]", "dict[str, list[int]]", "tuple[int, ...]", "type[ValueError]", "tuple[()]"):
        value = literals.parse_value(source)
        assert type(value) is types.GenericAlias and literals.to_source(value) == source
    assert literals.parse_value("dict[str, int]") == dict[str, int]
    for source, problem in (("list[1]", "classes only"), ("int[str]", "container class"),
                            ("list[print]", "not in the input grammar"), ("[1][0]", "container class")):
        with pytest.raises(LiteralSyntaxError, match=problem):
            literals.parse_value(source)


def test_the_one_python_function_is_a_pure_named_value():
    basename = literals.parse_value("os.path.basename")
    assert type(basename) is types.FunctionType and basename("a/b.txt") == "b.txt"
    assert literals.to_source(basename) == "os.path.basename"


def test_parsing_takes_turns_across_threads():
    # CPython 3.11's AST constructor keeps its recursion depth in state every thread shares; the LLM
    # writer's loop thread and the caller both parse, so every parse in the package takes one lock.
    import ast
    import threading

    from case2code_hub.utils import syntax

    assert ast.dump(syntax.parse_ast("f(1, b=[2])", mode="eval")) == ast.dump(ast.parse("f(1, b=[2])", mode="eval"))
    done = threading.Event()
    with syntax._lock:
        worker = threading.Thread(target=lambda: (literals.parse_value("[1, 2]"), done.set()))
        worker.start()
        assert not done.wait(0.2)  # the literal reader waits for the lock like every other parse
    assert done.wait(5)
    worker.join()


def _random_value(rng, depth=0):
    roll = rng.random()
    if depth > 3 or roll < 0.5:
        return rng.choice([rng.randint(-10**6, 10**6), rng.random() * 10 ** rng.randint(-5, 5), -0.0, 1e300, True, False,
                           None, "".join(rng.choice("ab ,:[]{}e'\"\\\tTrueNonlFs-1.\u00e9") for _ in range(rng.randint(0, 5)))])
    if roll < 0.7:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if roll < 0.8:
        return {"".join(rng.choice("ab: ") for _ in range(3)): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    if roll < 0.9:
        return tuple(_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3)))
    return {rng.randint(0, 5) for _ in range(3)}


def _read(parse, source):
    try:
        args, kwargs = parse(source)
    except LiteralSyntaxError:
        return "refused"
    return repr((args, kwargs)), [type(a) for a in args]


def test_the_json_fast_path_reads_exactly_what_the_ast_evaluator_reads():
    # Argument lists the writers produce, and the same with a token slipped in where JSON and
    # Python disagree (true/null, NaN, a leading zero, a trailing comma, a keyword, deep nesting).
    import random

    rng = random.Random(20241206)
    corruptions = ["-", " ", "e", ",", "]", "[", "'", "True", "true", "null", "None", "Nonee", "00", ".", "+", "\n",
                   "{", ":", "#", "(", "NaN", "Infinity", "x=", "1_0"]
    fast = 0
    for _ in range(6000):
        source = literals.format_arguments([_random_value(rng) for _ in range(rng.randint(0, 3))])
        for _ in range(rng.choice([0, 0, 1, 2])):
            at = rng.randrange(len(source) + 1)
            source = source[:at] + rng.choice(corruptions) + source[at:]
        fast += literals._json_arguments(source) is not None
        assert _read(literals.parse_arguments, source) == _read(literals.parse_arguments_ast, source), source
    assert fast > 1000  # the fast path is really taken


@pytest.mark.parametrize("depth", [53, 54, 55, 56, 58, 59, 60, 61, 62])
def test_the_json_fast_path_keeps_the_nesting_limit(depth):
    for leaf in ("1", "-1", "{'a': -1}"):
        source = "[" * depth + leaf + "]" * depth
        assert _read(literals.parse_arguments, source) == _read(literals.parse_arguments_ast, source)


def test_harness_imports_give_every_grammar_name_its_meaning():
    # A user's own harness runs ``f(<input>)`` with Python's eval: under the card's import lines,
    # every dotted name the grammar reads must mean the object our evaluator gives it.
    namespace: dict = {}
    exec(literals.harness_imports(), namespace)  # our own import lines, nothing else
    for name, value in {**literals.CONSTRUCTORS, **literals.NAMED_VALUES}.items():
        got = eval(name, namespace)  # a dotted name of our own table
        if name in ("types.SimpleNamespace", "SimpleNamespace"):
            assert got is types.SimpleNamespace
        elif name in ("bytes", "bytearray"):  # size-checked wrappers of the builtins
            assert got is getattr(builtins, name)
        else:
            assert got is value, name
        built = literals.parse_value(f"{name}()") if name in ("set", "Counter", "deque") else None
        assert built is None or type(built) is type(eval(f"{name}()", namespace))
