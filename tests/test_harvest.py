"""Harvest: sources, self-containment, filters, dedup, sharding and determinism on corpora made here."""

from __future__ import annotations

import ast
import dis
import gzip
import json
import subprocess
import sys
import textwrap
import types
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from case2code_hub.errors import ConfigError, CorpusError
from case2code_hub.harvest import harvest, harvest_module, iter_documents
from case2code_hub.harvest.dedup import Deduplicator, fingerprint
from case2code_hub.harvest.functions import BUILTIN_NAMES
from case2code_hub.harvest.scopes import statement_names
from case2code_hub.schema import Function, Source, function_id

GOOD = '''\
import os, math
import os.path
from collections import OrderedDict as OD

SCALE = 3
OFFSET = SCALE + 1
UNUSED = 99


def _scaled(x):
    return x * SCALE + OFFSET


def area(radius):
    """Area of a circle, scaled."""
    return _scaled(math.pi * radius ** 2)


def joined(a, b):
    return os.path.join(a, b).upper()


def ordered(pairs):
    return list(OD(pairs).items())
'''


def _module(source: str, *, package: str | None = None, **config) -> tuple[list[Function], Counter]:
    from case2code_hub.harvest.filters import FilterConfig

    stats: Counter = Counter()
    text = textwrap.dedent(source)
    functions = list(
        harvest_module(
            ast.parse(text),
            text,
            source=Source("t", "m.py"),
            package=package,
            config=FilterConfig(min_chars=0, **config),
            stats=stats,
        )
    )
    return functions, stats


def _dropped(stats: Counter) -> dict[str, int]:
    return {k.removeprefix("dropped/"): v for k, v in stats.items() if k.startswith("dropped/")}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    (root / "pkg").mkdir(parents=True)
    (root / "good.py").write_text(GOOD)
    (root / "pkg" / "more.py").write_text("def twice(x):\n    return [x, x] * 2\n\n\ndef half(x):\n    return x / 2.0 + 0.0\n")
    (root / "latin.py").write_bytes("def f(x):\n    return 'caf\xe9' + x\n".encode("latin-1"))
    (root / "broken.py").write_text("def f(x:\n    return x\n")
    (root / "notes.txt").write_text("not python")
    return root


# --- sources ---------------------------------------------------------------------------------


def test_folder_counts_bad_files_and_keeps_good_ones(folder):
    stats: Counter = Counter()
    functions = list(harvest(folder, stats=stats, min_chars=0))
    assert stats["files_read"] == 4
    assert stats["files_skipped/decode_error"] == 1
    assert stats["files_skipped/syntax_error"] == 1
    assert [f.entry_point for f in functions] == ["_scaled", "area", "joined", "ordered", "twice", "half"]
    assert stats["kept"] == len(functions)
    assert functions[0].source == Source("corpus", "good.py")
    assert functions[-1].source.path == "pkg/more.py"


def test_missing_path_empty_folder_and_unknown_file_raise_corpus_error(tmp_path):
    with pytest.raises(CorpusError, match="not found") as missing:
        list(harvest(tmp_path / "nope"))
    assert missing.value.path == str(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="no .py"):
        list(harvest(tmp_path / "empty"))
    (tmp_path / "data.csv").write_text("a,b\n")
    with pytest.raises(CorpusError, match="unsupported"):
        list(harvest(tmp_path / "data.csv"))


def _stack_rows() -> list[dict]:
    return [
        {
            "content": "def inc(x):\n    return x + 1 + 0 * 0\n",
            "max_stars_repo_path": "src/a.py",
            "max_stars_repo_name": "alice/tools",
            "max_stars_repo_licenses": ["MIT", "Apache-2.0"],
        },
        {
            "content": "def dec(x):\n    return x - 1 - 0 * 0\n",
            "max_stars_repo_path": "src/b.py",
            "max_stars_repo_name": "bob/lib",
            "max_stars_repo_licenses": ["BSD-3-Clause"],
        },
        {"content": None, "max_stars_repo_path": "src/c.py", "max_stars_repo_name": "x/y", "max_stars_repo_licenses": []},
    ]


def test_jsonl_and_gz_keep_provenance_and_skip_bad_lines(tmp_path):
    lines = [json.dumps(r) for r in _stack_rows()]
    lines.insert(1, "{not json")
    body = "\n".join(lines) + "\n"
    (tmp_path / "stack.jsonl").write_text(body)
    with gzip.open(tmp_path / "stack.jsonl.gz", "wt") as handle:
        handle.write(body)
    for name in ("stack.jsonl", "stack.jsonl.gz"):
        stats: Counter = Counter()
        functions = list(harvest(tmp_path / name, stats=stats, min_chars=0))
        assert [f.entry_point for f in functions] == ["inc", "dec"]
        assert functions[0].source == Source(name, "src/a.py", "alice/tools", "MIT, Apache-2.0")
        assert stats["rows_skipped/bad_json"] == 1
        assert stats["rows_skipped/no_content"] == 1


def test_parquet_with_plain_columns_and_missing_content(tmp_path):
    rows = [{"content": r["content"], "path": "p.py", "repo_name": "r/r", "license": "MIT"} for r in _stack_rows()]
    # Small row groups so the reader really walks several batches.
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "stack.parquet", row_group_size=1)
    functions = list(harvest(tmp_path / "stack.parquet", min_chars=0))
    assert [f.entry_point for f in functions] == ["inc", "dec"]
    assert functions[1].source == Source("stack.parquet", "p.py", "r/r", "MIT")

    pq.write_table(pa.Table.from_pylist([{"text": "x"}]), tmp_path / "nocontent.parquet")
    with pytest.raises(CorpusError, match="no 'content' column"):
        list(harvest(tmp_path / "nocontent.parquet"))
    (tmp_path / "nocontent.jsonl").write_text('{"text": "def f(x): return x"}\n')
    with pytest.raises(CorpusError, match="nocontent.jsonl"):
        list(harvest(tmp_path / "nocontent.jsonl"))


# --- self-containment --------------------------------------------------------------------------


def test_helper_constant_and_import_are_carried_in_source_order():
    functions, _ = _module(GOOD)
    area = next(f for f in functions if f.entry_point == "area")
    assert area.code == (
        "import math\n\n"
        "SCALE = 3\nOFFSET = SCALE + 1\n\n\n"
        "def _scaled(x):\n    return x * SCALE + OFFSET\n\n\n"
        'def area(radius):\n    """Area of a circle, scaled."""\n    return _scaled(math.pi * radius ** 2)\n'
    )
    assert area.id == function_id(area.code) and area.params == ["radius"]
    joined = next(f for f in functions if f.entry_point == "joined")
    # ``import os, math`` and ``import os.path`` both bind ``os``: only the ``os`` parts are carried.
    assert joined.code.startswith("import os\nimport os.path\n\n\ndef joined")
    ordered = next(f for f in functions if f.entry_point == "ordered")
    assert ordered.code.startswith("from collections import OrderedDict as OD\n")


def test_a_rebinding_statement_brings_the_earlier_binding():
    source = """
        TABLE = {1, 2}
        try:
            import math
            TABLE = TABLE.union({3})
        except ImportError:
            pass

        def lookup(key):
            return key in TABLE and math.pi > 3
    """
    functions, stats = _module(source)
    assert len(functions) == 1, stats
    code = functions[0].code
    assert code.index("TABLE = {1, 2}") < code.index("try:") < code.index("def lookup")


def test_unresolved_and_relative_names_are_rejected():
    source = """
        from . import sibling
        from .util import helper
        from star import *

        def uses_missing(x):
            return x + missing_name

        def uses_relative(x):
            return sibling.f(x)

        def uses_dunder(x):
            return __name__ + x
    """
    functions, stats = _module(source)
    assert functions == []
    assert _dropped(stats) == {"unresolved_name": 2, "relative_import": 1}
    # With a known package (the standard library) the relative import becomes absolute.
    functions, _ = _module(source, package="email.mime")
    assert [f.code.splitlines()[0] for f in functions] == ["from email.mime import sibling"]


def test_scopes_follow_python_rules():
    code = textwrap.dedent(
        """
        def f(a, *args, k=DEFAULT, **kw):
            total = 0
            for i in range(a):
                total += i
            squares = [j * j for j in args if j > LIMIT]
            if (n := len(squares)) > 1:
                total += n
            try:
                pass
            except ValueError as err:
                total += len(str(err))
            with ctx() as handle:
                handle.read()
            del total
            total = [y := v for v in kw]
            class Inner:
                attr = HIDDEN
                def method(self):
                    return attr
            def nested(q=a):
                return q + outer_free + y
            match a:
                case [first, *rest]:
                    return first, rest
                case {"k": value, **others}:
                    return value, others
                case Point(x=px) as whole:
                    return px, whole
            return (lambda z: z + a + lam_free)(1), nested()
        """
    )
    bound, free = statement_names(ast.parse(code).body[0])
    assert bound == {"f"}
    assert free == {"DEFAULT", "range", "LIMIT", "len", "ValueError", "str", "ctx", "HIDDEN", "attr", "outer_free", "Point", "lam_free"}


def test_scopes_global_and_annotations():
    code = "def g(x: Ann) -> Ret:\n    global counter\n    counter = x\n    local: NotEvaluated = 1\n    return counter + local\n"
    _, free = statement_names(ast.parse(code).body[0])
    assert free == {"Ann", "Ret", "counter"}
    _, lazy_free = statement_names(ast.parse(code).body[0], lazy_annotations=True)
    assert lazy_free == {"counter"}


def test_future_annotations_are_kept_and_spare_imports():
    source = "from __future__ import annotations\n\ndef f(x: Unknown) -> Other:\n    return [x, x, x, x]\n"
    functions, stats = _module(source)
    assert len(functions) == 1, stats
    assert functions[0].code.startswith("from __future__ import annotations\n\n\ndef f(")


# --- filters -----------------------------------------------------------------------------------

FILTERED = '''
import os
import random
import datetime
import numpy
import functools
import sys

def test_something(x):
    return x

async def coro(x):
    return x

@property
def decorated(x):
    return x

@functools.lru_cache(maxsize=None)
def cached(x):
    return x * 2

def no_params():
    return 1

def star_only(*args):
    return args

def gen(x):
    yield x

def no_return(x):
    x.append(1)

def returns_none(x):
    return None

def stateful(x):
    global STATE
    STATE = x
    return x

def prints(x):
    print(x)
    return x

def reads(path):
    return os.listdir(path)

def rolls(n):
    return random.randint(1, n)

def clock(x):
    return datetime.datetime.now() - x

def third_party(x):
    return numpy.array(x)

def pure_os(a, b):
    return os.path.join(a, b) + os.sep

def big_ints(x):
    return x < sys.maxsize

def shadowed_print(print):
    return print + 1

def too_long(x):
    return x + 1111111111111111111111111111111111111111111111111111111111111111111111111111111111111111
'''


def test_each_filter_reason_is_counted():
    functions, stats = _module(FILTERED, max_chars=120)
    assert sorted(f.entry_point for f in functions) == ["big_ints", "cached", "pure_os", "shadowed_print"]
    assert _dropped(stats) == {
        "test_function": 1,
        "coroutine": 1,
        "decorated": 1,
        "no_params": 2,
        "generator": 1,
        "no_return_value": 2,
        "global_state": 1,
        "denied_builtin": 1,
        "denied_module": 2,
        "clock_call": 1,
        "non_stdlib_import": 1,
        "too_long": 1,
    }
    assert stats["functions_seen"] == len(functions) + sum(_dropped(stats).values())
    cached = next(f for f in functions if f.entry_point == "cached")
    assert cached.code.startswith("import functools\n\n\n@functools.lru_cache(maxsize=None)\ndef cached")


def test_too_short_and_config_errors(tmp_path):
    from case2code_hub.harvest.filters import FilterConfig

    text = "def f(x):\n    return x\n"
    stats = Counter()
    assert list(harvest_module(ast.parse(text), text, source=Source("t", "m"), config=FilterConfig(min_chars=50), stats=stats)) == []
    assert stats["dropped/too_short"] == 1
    with pytest.raises(ConfigError) as bad:
        FilterConfig(min_chars=10, max_chars=5)
    assert bad.value.field == "max_chars"
    with pytest.raises(ConfigError) as bad_rank:
        list(harvest(tmp_path, rank=2, world_size=2))
    assert bad_rank.value.field == "rank"


# --- dedup -------------------------------------------------------------------------------------


def test_exact_and_near_duplicates(tmp_path):
    root = tmp_path / "dups"
    root.mkdir()
    original = 'def scale(values, factor):\n    """Scale."""\n    return [v * factor for v in values]\n'
    renamed = "def grow(xs, k):\n    # a comment\n    return [item * k for item in xs]\n"
    other_constant = "def shift(values, factor):\n    return [v * factor + 1 for v in values]\n"
    (root / "a.py").write_text(original)
    (root / "b.py").write_text(original)
    (root / "c.py").write_text(renamed)
    (root / "d.py").write_text(other_constant)
    stats: Counter = Counter()
    kept = [f.entry_point for f in harvest(root, stats=stats, min_chars=0)]
    assert kept == ["scale", "shift"]
    assert stats["dropped/duplicate_exact"] == 1 and stats["dropped/duplicate_near"] == 1
    assert len(list(harvest(root, dedup=False, min_chars=0))) == 4


def test_fingerprint_ignores_names_docs_annotations_but_not_globals():
    a = ast.parse("def f(x: int) -> int:\n    'doc'\n    y = x + 1\n    return helper(y)\n").body[0]
    b = ast.parse("def g(z):\n    w = z + 1\n    return helper(w)\n").body[0]
    c = ast.parse("def g(z):\n    w = z + 1\n    return other(w)\n").body[0]
    assert fingerprint(a) == fingerprint(b) != fingerprint(c)
    dedup = Deduplicator()
    first = Function(id="0" * 16, entry_point="f", code="", source=Source("t", "p"), fingerprint=fingerprint(a))
    assert dedup.check(first) is None
    assert dedup.check(first) == "duplicate_exact"


# --- sharding and determinism ------------------------------------------------------------------


def _keys(functions) -> list[tuple[str, str]]:
    return [(f.source.path, f.entry_point) for f in functions]


def test_sharding_is_a_disjoint_cover(tmp_path):
    root = tmp_path / "many"
    root.mkdir()
    for i in range(7):
        (root / f"m{i}.py").write_text(f"def f{i}(x):\n    return x * {i} + {i}\n")
    rows = [{"content": f"def g{i}(x):\n    return x - {i}\n", "path": f"r{i}.py"} for i in range(10)]
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:4]))
    pq.write_table(pa.Table.from_pylist(rows[4:]), data / "b.parquet", row_group_size=2)
    for corpus in (root, tmp_path / "rows.jsonl", data):
        whole = _keys(harvest(corpus, min_chars=0))
        assert len(whole) in (7, 10)
        shards = [_keys(harvest(corpus, rank=r, world_size=3, min_chars=0)) for r in range(3)]
        assert all(shards)
        assert sorted(k for s in shards for k in s) == sorted(whole)
        assert len({k for s in shards for k in s}) == len(whole) == sum(map(len, shards))
    # More ranks than files: the extra ranks get nothing, and nothing is lost.
    by_rank = [_keys(harvest(root, rank=r, world_size=9, min_chars=0)) for r in range(9)]
    assert by_rank[8] == [] and sum(map(len, by_rank)) == 7


def test_output_is_identical_across_hash_seeds(folder):
    script = (
        "import sys, json\n"
        "from case2code_hub.harvest import harvest\n"
        "print(json.dumps([f.to_dict() for f in harvest(sys.argv[1], min_chars=0)]))\n"
    )
    outputs = set()
    for seed in ("1", "2"):
        run = subprocess.run(
            [sys.executable, "-c", script, str(folder)],
            capture_output=True,
            text=True,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
            cwd=Path(__file__).resolve().parents[1],
            check=True,
        )
        outputs.add(run.stdout)
    assert len(outputs) == 1 and json.loads(outputs.pop())


# --- the standard library ----------------------------------------------------------------------


def _global_loads(code: types.CodeType) -> tuple[set[str], set[str]]:
    """Names the module code binds, and names its functions read as globals (from bytecode)."""
    bound, loads = set(), set()
    stack = [code]
    while stack:
        current = stack.pop()
        for ins in dis.get_instructions(current):
            if ins.opname == "STORE_NAME" and current is code:
                bound.add(ins.argval)
            elif ins.opname == "LOAD_GLOBAL" or (ins.opname == "LOAD_NAME" and current is code):
                loads.add(ins.argval)
        stack.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
    return bound, loads


def test_stdlib_slice_compiles_and_needs_no_missing_global():
    stats: Counter = Counter()
    functions = list(harvest("stdlib", rank=0, world_size=12, stats=stats))
    assert stats["files_read"] > 20 and len(functions) > 20
    for function in functions:
        assert function.source.corpus == "stdlib"
        assert not function.source.path.startswith(("tkinter/", "site-packages/"))
        module = compile(function.code, function.source.path, "exec", dont_inherit=True)  # compiled, never run
        bound, loads = _global_loads(module)
        assert function.entry_point in bound
        assert loads - bound - BUILTIN_NAMES <= {"__annotations__"}, function.code


def test_stdlib_documents_exclude_non_library_folders():
    paths = [d.source.path for d in iter_documents("stdlib")]
    assert paths == sorted(paths) and "json/decoder.py" in paths
    excluded = ("tkinter", "turtledemo", "ensurepip", "site-packages", "__pycache__")
    assert not any(part in excluded for p in paths for part in p.split("/")[:-1])
    # The test suite's and idlelib's helpers are part of the corpus (see STDLIB_EXCLUDED_DIRS).
    assert any(p.startswith("test/") for p in paths) and any(p.startswith("idlelib/") for p in paths)
