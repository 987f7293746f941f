"""The sandbox's contract: outputs in input order, canonical reprs, outcomes, determinism check,
configuration errors, the light zygote, and the ``case2code execute`` command."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import pytest
from typer.testing import CliRunner

from case2code_hub.cli import app
from case2code_hub.errors import ConfigError, SandboxError
from case2code_hub.sandbox import Sandbox, SandboxConfig, execute
from case2code_hub.sandbox.canonical import Unserializable, canonical_repr
from case2code_hub.schema import ADDRESS, has_address, mask_addresses
from case2code_hub.schema import ExecutionTask

FAST = dict(workers=1, timeout=0.5)


def test_canonical_repr_sorts_sets_and_keeps_the_rest_builtin():
    assert canonical_repr({"b", "a", "c"}) == "{'a', 'b', 'c'}"
    assert canonical_repr(frozenset({3, 1})) == "frozenset({1, 3})"
    assert canonical_repr(set()) == "set()"
    assert canonical_repr([{"y", "x"}, ({2: {"k"}},)]) == "[{'x', 'y'}, ({2: {'k'}},)]"
    cyclic: list = [1]
    cyclic.append(cyclic)
    for value in (cyclic, (1,), {"a": [1.5, None]}, b"x", 10**20):
        assert canonical_repr(value) == repr(value)
    with pytest.raises(Unserializable, match="memory address"):
        canonical_repr(object())
    with pytest.raises(Unserializable, match="longer than 10"):
        canonical_repr(list(range(100)), cap=10)


def test_the_address_check_finds_addresses_only():
    # The substring looked for first must not change what the regex alone would say.
    texts = ["<generator object f at 0x7f3a9c>", "x at 0xABC", "[1, 'at 0x1']", "that 0x10", "at 0x", "at 0xg",
             "AT 0x1", "at  0x1", "flat 0x1", "(at 0x9)", "", "a" * 5000 + " at 0x1"]
    assert [has_address(t) for t in texts] == [ADDRESS.search(t) is not None for t in texts] == [
        True, True, True, False, False, False, False, False, False, True, False, True]


def test_addresses_in_exception_messages_are_masked_alike_in_every_run():
    assert mask_addresses("<object at 0x7f3a9c> and <f at 0xAB12>") == "<object at 0x...> and <f at 0x...>"
    assert mask_addresses("flat 0x10, at 0xg") == "flat 0x10, at 0xg"
    code = "def f(x):\n    raise ValueError(f'{object()!r} is not {x}')\n"
    with Sandbox(SandboxConfig(**FAST)) as sandbox:
        (result,) = sandbox.run([ExecutionTask(id="masked", code=code, entry_point="f", inputs=["1"])])
    # Both hash-seed runs print a different address; masked, they agree and the case is kept.
    assert [(c.outcome, c.output) for c in result.cases] == [("raised", "ValueError: <object object at 0x...> is not 1")]


def test_canonical_repr_prints_builtin_names_plainly_and_namespaces_like_containers():
    assert [canonical_repr(v) for v in (int, len, str.lower, ValueError)] == [
        "<class 'int'>", "<built-in function len>", "<method 'lower' of 'str' objects>", "<class 'ValueError'>"]
    ns = types.SimpleNamespace(b=1, a=[2, {"k": None}], inner=types.SimpleNamespace(), key=len)
    assert canonical_repr(ns) == repr(ns) == "namespace(b=1, a=[2, {'k': None}], inner=namespace(), key=<built-in function len>)"
    assert repr({8, 6}) == "{8, 6}" and canonical_repr(types.SimpleNamespace(s={8, 6})) == "namespace(s={6, 8})"
    ns.me = ns  # a cycle prints as the builtin repr prints it
    assert canonical_repr(ns) == repr(ns) and canonical_repr(ns).endswith("me=namespace(...))")
    with pytest.raises(Unserializable, match="longer than 30"):  # the names and brackets count too
        canonical_repr(types.SimpleNamespace(**{f"attribute_{i}": 0 for i in range(5)}), cap=30)


def test_canonical_repr_of_a_namespace_holding_a_set_is_the_same_under_every_hash_seed():
    code = ("import types\n"
            "from case2code_hub.sandbox.canonical import canonical_repr\n"
            "ns = types.SimpleNamespace(tags={'pear', 'apple', 'fig', 'kiwi', 'plum', 'lime', 'date'}, n=1)\n"
            "print(repr(ns)); print(canonical_repr(ns))\n")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"}).stdout.splitlines()
            for seed in ("1", "2")]
    assert runs[0][0] != runs[1][0]  # the builtin repr does depend on the seed
    assert runs[0][1] == runs[1][1] == "namespace(tags={'apple', 'date', 'fig', 'kiwi', 'lime', 'pear', 'plum'}, n=1)"


def test_builtin_names_and_namespaces_reach_a_function_through_the_sandbox():
    code = ("def f(e, key=None):\n"
            "    if key is not None:\n        return sorted(e, key=key)\n"
            "    if isinstance(e, type):\n        return e.__name__, e.__bases__\n"
            "    return e.errcode, e\n")
    inputs = ["[3, -1, -2], key=abs", "['b', 'A'], key=str.lower", "int", "ValueError",
              "types.SimpleNamespace(errcode=-1, tags={'pear', 'apple', 'fig', 'kiwi', 'plum'})", "open",
              "{types.SimpleNamespace(errcode=-1): 1}"]
    with Sandbox(SandboxConfig(**FAST)) as sandbox:
        result = next(sandbox.run([ExecutionTask(id="names", code=code, entry_point="f", inputs=inputs)]))
    got = [(c.outcome, c.output) for c in result.cases]
    assert got[:5] == [
        ("returned", "[-1, -2, 3]"),
        ("returned", "['A', 'b']"),
        ("returned", "('int', (<class 'object'>,))"),
        ("returned", "('ValueError', (<class 'Exception'>,))"),
        ("returned", "(-1, namespace(errcode=-1, tags={'apple', 'fig', 'kiwi', 'pear', 'plum'}))"),  # both hash seeds
    ]
    assert got[5][0] == "unserializable" and "name open is not in the input grammar" in got[5][1]
    assert got[6][0] == "unserializable" and "unhashable type" in got[6][1]  # one bad input, not a crashed task


@pytest.mark.parametrize(
    "kwargs, field",
    [({"workers": 0}, "workers"), ({"timeout": 0}, "timeout"), ({"memory_mb": 10}, "memory_mb"),
     ({"runs": 0}, "runs"), ({"isolation": "docker"}, "isolation"), ({"output_cap": 0}, "output_cap")],
)
def test_bad_config_names_the_field(kwargs, field):
    with pytest.raises(ConfigError) as info:
        SandboxConfig(**kwargs)
    assert info.value.field == field


def test_zygote_imports_stay_light():
    code = ("import sys, case2code_hub.sandbox.zygote\n"
            "print(' '.join(sorted(m for m in sys.modules if m.startswith(('case2code_hub', 'datasets', 'pyarrow')))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert "datasets" not in loaded and "pyarrow" not in loaded
    # The grammar, its errors and its one parse lock, the data contract (its address check; it
    # imports ``datasets`` only to build Features) and the version: all standard library only.
    light = ("case2code_hub.literals", "case2code_hub.errors", "case2code_hub.utils", "case2code_hub.utils.syntax",
             "case2code_hub.schema", "case2code_hub._version")
    assert not [m for m in loaded if m.startswith("case2code_hub.") and m not in light
                and not m.startswith("case2code_hub.sandbox")]


def test_results_in_input_order_with_every_outcome():
    code = (
        "import random\n"
        "def f(x, y=1):\n"
        "    if x == 'raise':\n        raise KeyError('k')\n"
        "    if x == 'set':\n        return {'pear', 'apple', 'fig', 'kiwi', 'plum'}\n"
        "    if x == 'random':\n        return random.random()\n"
        "    if x == 'loop':\n        while True:\n            y += 1\n"
        "    return x * y\n"
    )
    inputs = ["2, y=3", "'raise'", "'set'", "'random'", "'loop'", "open('x')", "'ab', 2"]
    tasks = [ExecutionTask(id=f"t{i}", code=code, entry_point="f", inputs=inputs[i:]) for i in range(3)]
    tasks.append(ExecutionTask(id="bad", code="def g(:\n", entry_point="g", inputs=["1"]))
    tasks.append(ExecutionTask(id="missing", code="x = 1\n", entry_point="g", inputs=["1", "2"]))
    with Sandbox(SandboxConfig(**FAST)) as sandbox:
        results = list(sandbox.run(iter(tasks)))
    assert [r.id for r in results] == ["t0", "t1", "t2", "bad", "missing"]
    first = results[0]
    assert [c.input for c in first.cases] == inputs
    assert [(c.outcome, c.output) for c in first.cases] == [
        ("returned", "6"),
        ("raised", "KeyError: 'k'"),
        ("returned", "{'apple', 'fig', 'kiwi', 'pear', 'plum'}"),  # same under both hash seeds
        ("nondeterministic", first.cases[3].output),
        ("timeout", "Timeout: no result within 0.5 s"),
        ("unserializable", first.cases[5].output),
        ("returned", "'abab'"),
    ]
    assert first.cases[5].output.startswith("LiteralSyntaxError: ")
    assert [c.input for c in results[2].cases] == inputs[2:]
    assert results[3].status == "load_error" and results[3].detail.startswith("SyntaxError")
    assert [c.outcome for c in results[3].cases] == ["crashed"]
    assert results[4].status == "no_entry_point" and len(results[4].cases) == 2


def test_runs_one_skips_the_determinism_check():
    task = ExecutionTask(id="r", code="import random\ndef f():\n    return random.random() < 2\n", entry_point="f", inputs=[""])
    assert [c.outcome for c in next(execute([task], config=SandboxConfig(runs=1, **FAST))).cases] == ["returned"]


def test_run_streams_a_lazy_iterable():
    pulled = []

    def tasks():
        for i in range(200):
            pulled.append(i)
            yield ExecutionTask(id=str(i), code="def f(x):\n    return x + 1\n", entry_point="f", inputs=[str(i)])

    with Sandbox(SandboxConfig(**FAST)) as sandbox:
        stream = sandbox.run(tasks())
        first = next(stream)
        assert first.cases[0].output == "1"
        assert len(pulled) < 50  # bounded in flight, not materialised
        rest = list(stream)
    assert [r.cases[0].output for r in rest] == [str(i + 1) for i in range(1, 200)]


def test_run_as_completed_lets_quick_tasks_pass_a_slow_one():
    slow = ExecutionTask(id="slow", code="import time\ndef f(x):\n    time.sleep(30)\n", entry_point="f", inputs=["1"])
    quick = [ExecutionTask(id=f"q{i}", code="def f(x):\n    return x * 2\n", entry_point="f", inputs=[str(i)])
             for i in range(8)]
    with Sandbox(SandboxConfig(workers=2, runs=1, timeout=0.2)) as sandbox:
        pairs = list(sandbox.run_as_completed([slow, *quick]))
    # The sleeping call ends at its wall-clock backstop, seconds after the quick ones have come back.
    assert pairs[0][0].id != "slow"
    assert sorted(task.id for task, _ in pairs) == sorted(["slow", *(t.id for t in quick)])
    for task, result in pairs:
        assert result.id == task.id
        assert [c.outcome for c in result.cases] == (["timeout"] if task.id == "slow" else ["returned"])
        if task.id != "slow":
            assert result.cases[0].output == str(int(task.inputs[0]) * 2)


def test_a_source_may_wait_for_a_result_it_feeds_back():
    from case2code_hub.sandbox import NOT_READY

    results = []

    def chain():  # each task's input is the output of the one before: a feedback loop
        value = "1"
        for _ in range(5):
            yield ExecutionTask(id=value, code="def f(x):\n    return x * 3\n", entry_point="f", inputs=[value])
            seen = len(results)
            while len(results) == seen:
                yield NOT_READY
            value = results[-1].cases[0].output

    with Sandbox(SandboxConfig(**FAST)) as sandbox:
        # The sandbox takes the next task as soon as the consumer made it: it never sits in its
        # wait for the workers with nothing of theirs to wait for (that wait lasts a second).
        idle_waits = []
        step = sandbox._step

        def watched_step(pending, sent, watchdog):
            if not pending:
                idle_waits.append(1)
            return step(pending, sent, watchdog)

        sandbox._step = watched_step
        for result in sandbox.run(chain()):
            results.append(result)
        assert [r.cases[0].output for r in results] == ["3", "9", "27", "81", "243"]
        assert not idle_waits
        # Waiting with nothing outstanding would wait forever: a bug in the source, said at once.
        with pytest.raises(SandboxError, match="NOT_READY"):
            list(sandbox.run(iter([NOT_READY])))


def test_protections_are_reported_and_run_needs_start():
    sandbox = Sandbox(SandboxConfig(**FAST))
    with pytest.raises(SandboxError):
        next(sandbox.run([]))
    with sandbox:
        assert "fork-per-function" in sandbox.protections and "rlimits" in sandbox.protections
        assert sandbox.start_seconds < 30
        assert list(sandbox.run([])) == []


def _write(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_execute_command_writes_cases(tmp_path):
    functions = _write(tmp_path / "f.jsonl", [
        {"id": "a", "code": "def f(x):\n    return x * 2\n", "entry_point": "f", "inputs": ["1", "'z'"]},
        {"id": "b", "code": "def g():\n    raise ValueError('no')\n", "entry_point": "g", "inputs": [""]},
    ])
    out = tmp_path / "cases.jsonl"
    result = CliRunner().invoke(app, ["execute", str(functions), "--out", str(out), "--timeout", "0.5", "--workers", "2"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["id"], r["status"]) for r in rows] == [("a", "ok"), ("b", "ok")]
    assert rows[0]["cases"] == [{"input": "1", "output": "2", "outcome": "returned"},
                                {"input": "'z'", "output": "'zz'", "outcome": "returned"}]
    assert rows[1]["cases"][0]["output"] == "ValueError: no"
    assert "functions" in result.output


@pytest.mark.parametrize("line, message", [("{not json", "not valid JSON"), ('{"id": "x", "code": "", "inputs": []}', "entry_point")])
def test_execute_command_bad_line_is_one_line_and_exit_1(tmp_path, line, message):
    good = json.dumps({"id": "a", "code": "def f():\n    return 1\n", "entry_point": "f", "inputs": [""]})
    functions = tmp_path / "f.jsonl"
    functions.write_text(good + "\n" + line + "\n")
    out = tmp_path / "cases.jsonl"
    result = CliRunner().invoke(app, ["execute", str(functions), "--out", str(out), "--workers", "2"])
    assert result.exit_code == 1
    lines = [text for text in result.output.splitlines() if text.strip() and "sandbox:" not in text and "INFO" not in text]
    assert len(lines) == 1 and f"{functions}:2" in lines[0] and message in lines[0], result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_columnar_outcome_letters_agree_between_child_and_parent():
    from case2code_hub.sandbox import pool, runner, zygote

    assert {letter: outcome for outcome, letter in runner.OUTCOME_CODES.items()} == pool._OUTCOMES
    assert set(runner.OUTCOME_CODES) == zygote.CHILD_OUTCOMES


def test_outputs_that_need_rewriting_cross_the_columnar_path():
    # Non-ASCII text and lone surrogates (rewritten by the zygote), timeouts (standard text) and
    # plain ASCII in one batch: the zygote re-encodes this batch instead of forwarding it as is.
    code = ("import time\n"
            "def f(x):\n"
            "    if x == 2:\n"
            "        time.sleep(5)\n"
            "    return {0: 'caf\\u00e9', 1: '\\ud800', 3: 'plain'}[x]\n")
    cfg = SandboxConfig(workers=1, timeout=0.3)
    with Sandbox(cfg) as sandbox:
        result = next(sandbox.run([ExecutionTask(id="mix", code=code, entry_point="f", inputs=["0", "1", "2", "3"])]))
    got = [(c.outcome, c.output) for c in result.cases]
    assert got[0] == ("returned", "'café'")
    assert got[1][0] == "returned" and "ud800" in got[1][1]
    assert got[2] == ("timeout", "Timeout: no result within 0.3 s")
    assert got[3] == ("returned", "'plain'")


def test_output_over_the_cap_in_brackets_alone_is_unserializable_not_a_crash():
    # The powerset graph of stdlib's test_set.cube(6): 10,688 characters, almost all brackets and
    # separators, whose leaves alone fit the cap. It used to reach the zygote over the cap, be
    # refused as a forged frame, and crash every case of the batch.
    value = [frozenset() for _ in range(1000)]
    with pytest.raises(Unserializable, match="longer than 10000"):
        canonical_repr(value, cap=10_000)
    code = "def f(n):\n    return [frozenset() for _ in range(n)]\n"
    with Sandbox(SandboxConfig(**FAST)) as sandbox:
        result = next(sandbox.run([ExecutionTask(id="brackets", code=code, entry_point="f", inputs=["1000", "2"])]))
    assert [(c.outcome, c.output) for c in result.cases] == [
        ("unserializable", "<unserializable: repr longer than 10000 characters>"),
        ("returned", "[frozenset(), frozenset()]"),
    ]


def test_canonical_repr_takes_the_builtin_repr_only_where_the_printer_would_write_the_same():
    # Random values mixing exact containers, sets, namespaces, subclasses and objects whose repr
    # shows braces or raises, under caps from tiny to the default: the fast path (builtin repr in C)
    # must give the printer's text or refusal, character for character.
    import random

    from case2code_hub.sandbox import canonical

    class Braced:
        def __repr__(self):
            return "Braced({3, 1, 2})"

    class Refuses:
        def __repr__(self):
            raise ValueError("no")

    class Sub(list):
        pass

    rng = random.Random(7)

    def value(depth=0):
        roll = rng.random()
        if depth > 4 or roll < 0.5:
            return rng.choice([rng.randint(-10**6, 10**6), rng.random(), float("nan"), -0.0, True, None, ...,
                               "x{'\"\u00e9set()" * rng.randint(0, 3), b"ab\x00{", bytearray(b"q"), 1j, 10**5000,
                               Braced(), Refuses(), int, len, " at 0x1f"])
        if roll < 0.6:
            return [value(depth + 1) for _ in range(rng.randint(0, 6))]
        if roll < 0.65:
            return Sub(value(depth + 1) for _ in range(rng.randint(0, 3)))
        if roll < 0.75:
            return {rng.choice(["a", 1, (1, 2), None]): value(depth + 1) for _ in range(rng.randint(0, 3))}
        if roll < 0.85:
            return tuple(value(depth + 1) for _ in range(rng.randint(0, 3)))
        if roll < 0.9:
            return types.SimpleNamespace(a=value(depth + 1))
        if roll < 0.95:
            return frozenset(rng.randint(0, 5) for _ in range(rng.randint(0, 3)))
        return {rng.randint(0, 5) for _ in range(rng.randint(0, 3))}

    def text(v, cap):
        try:
            return canonical_repr(v, cap=cap)
        except Unserializable as exc:
            return f"refused: {exc}"

    fast = 0
    for _ in range(6000):
        v, cap = value(), rng.choice([5, 20, 100, 10_000])
        with_fast_path = text(v, cap)
        try:
            fast += canonical._builtin_if_canonical(v, cap) is not None
        except Unserializable:
            fast += 1
        saved = canonical._builtin_if_canonical
        canonical._builtin_if_canonical = lambda value, cap: None
        try:
            printer_only = text(v, cap)
        finally:
            canonical._builtin_if_canonical = saved
        assert with_fast_path == printer_only
    assert fast > 1500  # the fast path is really taken
