"""Call-site seeds (``harvest.callsites``): the corpus's own literal calls of a function, indexed
once per build, start the input search like doctests."""

from __future__ import annotations

import json
import textwrap

from case2code_hub.harvest.callsites import collect, is_code_corpus, read_index, write_index
from case2code_hub.harvest.sources import iter_documents
from case2code_hub.inputs.reading.analysis import analyse
from case2code_hub.inputs.search import SearchConfig, SearchingWriter
from case2code_hub.inputs.search.searcher import _call_site_examples
from case2code_hub.schema import Function, Source, function_id

MODULE = textwrap.dedent('''\
    def version(s, strict=False):
        parts = s.split('.')
        if len(parts) == 3 and all(p.isdigit() for p in parts) and parts[0] == '42':
            return 'magic'
        return 'plain'
''')
TESTS = textwrap.dedent('''\
    import mod
    from decimal import Decimal

    def test_version(x, args):
        assert mod.version('42.7.1') == 'magic'
        assert mod.version('1.2', strict=True) == 'plain'
        mod.version(x)                      # a name: not a literal
        mod.version(*args)                  # unpacking: not a literal
        mod.version(open('f'))              # a call the data contract does not allow
        mod.version(Decimal('1.5'))         # one it does
        mod.version('x' * 500)              # not a literal source, and too long written out
        mod.version('42.7.1')               # seen already
        mod.version('1', '2', '3')          # kept here; too many arguments for version
        mod.version('1', nope=2)            # kept here; no such parameter
''')


def corpus(tmp_path):
    (tmp_path / "pkg").mkdir(parents=True)
    (tmp_path / "pkg" / "mod.py").write_text(MODULE)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_mod.py").write_text(TESTS)
    return tmp_path


def version_function() -> Function:
    return Function(id=function_id(MODULE), entry_point="version", code=MODULE, source=Source("test", "pkg/mod.py"))


def test_collect_keeps_literal_calls_in_corpus_order_with_the_calling_file(tmp_path):
    index = collect(iter_documents(str(corpus(tmp_path))))
    assert index["version"] == [
        ["test_mod", "'42.7.1'"], ["test_mod", "'1.2', strict=True"], ["test_mod", "Decimal('1.5')"],
        ["test_mod", "'1', '2', '3'"], ["test_mod", "'1', nope=2"],
    ]
    assert "split" in index and index["split"] == [["mod", "'.'"]]


def test_examples_are_the_calls_that_fit_the_signature():
    found = [["other", "'9.9.9'"], ["test_mod", "'1', '2', '3'"], ["test_mod", "'1', nope=2"], ["test_mod", "'42.7.1'"],
             ["test_mod", "strict=True"]]
    function = version_function()
    examples = _call_site_examples(function, analyse(function), found)
    # Too many arguments, an unknown keyword and a missing required argument are dropped; the
    # module's own test file comes before other files.
    assert examples == [(["42.7.1"], {}), (["9.9.9"], {})]


def test_index_file_round_trip_and_code_corpora_only(tmp_path):
    root = corpus(tmp_path / "c")
    path = tmp_path / "callsites.json"
    assert write_index(str(root), path) > 0
    assert read_index(path)["version"][0] == ["test_mod", "'42.7.1'"]
    assert read_index(tmp_path / "missing.json") == {}
    (tmp_path / "bad.json").write_text("{not json")
    assert read_index(tmp_path / "bad.json") == {}
    (tmp_path / "old.json").write_text(json.dumps({"format": 0, "calls": {"x": []}}))
    assert read_index(tmp_path / "old.json") == {}
    assert is_code_corpus("stdlib") and is_code_corpus(str(root)) and is_code_corpus(str(root / "pkg" / "mod.py"))
    (tmp_path / "rows.jsonl").write_text("{}\n")
    assert not is_code_corpus(str(tmp_path / "rows.jsonl"))


def test_call_sites_seed_the_search_where_its_own_seeds_do_not_reach():
    from case2code_hub.sandbox import Sandbox, SandboxConfig

    # A budget of 12 calls is the seeds and little more: only a seed can reach 'magic'.
    config = SearchConfig(seed=0, max_calls=12)
    index = {"version": [["test_mod", "'42.7.1'"]]}
    with Sandbox(SandboxConfig(workers=2, runs=1, timeout=1.0)) as sandbox:
        (alone,) = SearchingWriter(sandbox, config).search([version_function()])
        (seeded,) = SearchingWriter(sandbox, config, call_sites=index).search([version_function()])
    assert "'42.7.1'" in seeded.inputs and seeded.quality.line_coverage == 1.0
    assert alone.quality.line_coverage < 1.0, alone.inputs


def test_an_unreadable_file_is_left_out_of_the_index_not_fatal(tmp_path, monkeypatch, caplog):
    from case2code_hub.errors import CorpusError
    from case2code_hub.harvest import sources

    root = corpus(tmp_path / "c")
    real_read = sources._read_file

    def failing_read(path, source):
        if path.name == "test_mod.py":
            raise CorpusError(f"cannot read corpus file {path}: Permission denied", path=str(path))
        return real_read(path, source)

    monkeypatch.setattr(sources, "_read_file", failing_read)
    write_index(str(root), tmp_path / "callsites.json")
    index = read_index(tmp_path / "callsites.json")
    assert "version" not in index and index["split"] == [["mod", "'.'"]]
    assert "test_mod.py" in caplog.text
    # The harvest's own reading still fails loudly on the same file.
    import pytest

    with pytest.raises(CorpusError, match="test_mod.py"):
        list(iter_documents(str(root)))


def test_builtin_names_namespaces_and_dotted_constructors_are_literal_arguments(tmp_path):
    (tmp_path / "test_names.py").write_text(textwrap.dedent('''\
        import bisect, decimal, os, types

        def test_names(a):
            bisect.bisect([1, -2, 3], 3, key=abs)
            lookup(str.lower, ValueError)
            lookup(decimal.Decimal('1.5'))
            lookup(types.SimpleNamespace(errcode=-1, headers={}))
            lookup(os.system)          # a name the data contract does not allow
            lookup(len([1]))           # a call of a name that is a value, not a constructor
    '''))
    index = collect(iter_documents(str(tmp_path)))
    assert index["bisect"] == [["test_names", "[1, -2, 3], 3, key=abs"]]
    assert index["lookup"] == [["test_names", "str.lower, ValueError"], ["test_names", "decimal.Decimal('1.5')"],
                               ["test_names", "types.SimpleNamespace(errcode=-1, headers={})"]]


def test_a_name_bound_once_to_a_literal_stands_for_it(tmp_path):
    (tmp_path / "test_opts.py").write_text(textwrap.dedent('''\
        import getopt
        LONG = ['alpha=', 'beta']

        def test_getopt():
            cmdline = ['-a', '1',
                       '--beta']                    # written over two lines: kept, on one
            getopt.getopt(cmdline, 'a:b', LONG)     # a local and a module name, each bound once
            again = ['-b']
            again = ['-a']
            getopt.getopt(again, 'a:b')             # bound twice: not a literal
            for each in (['-x'],):
                getopt.getopt(each, 'x')            # a loop's name: not a literal

        def test_shadowed(LONG):
            getopt.getopt(['-a'], 'a', LONG)        # a parameter shadows the module's name

        class TestCase:
            shortopts = 'ab'
            def test_method(self):
                getopt.getopt(['-a'], shortopts)    # a class body's names are not its methods'
    '''))
    index = collect(iter_documents(str(tmp_path)))
    assert index["getopt"] == [["test_opts", "['-a', '1', '--beta'], 'a:b', ['alpha=', 'beta']"]]


def test_nested_functions_see_the_names_around_them_lambdas_and_decorators_their_own(tmp_path):
    (tmp_path / "test_scopes.py").write_text(textwrap.dedent('''\
        SEP = '/'

        def outer():
            base = 'a/b'
            def inner():
                split(base, SEP)                 # the enclosing function's name and the module's
            @deco(split(base, '|'))              # a decorator: seen with the names the decorated function sees
            def plain():
                pass
            def shadow(base):
                split(base, '-')                 # a parameter shadows the enclosing name
            (lambda: split(base, ':'))()         # a lambda sees no bound names
            return inner, shadow
    '''))
    index = collect(iter_documents(str(tmp_path)))
    assert index["split"] == [["test_scopes", "'a/b', '/'"], ["test_scopes", "'a/b', '|'"]]


def test_index_is_the_same_for_any_number_of_workers(tmp_path):
    root = corpus(tmp_path / "c")
    for number in range(12):  # enough files that the pool deals them out in several chunks
        (root / "tests" / f"test_more_{number}.py").write_text(TESTS.replace("42.7.1", f"{number}.0.0"))
    documents = list(iter_documents(str(root)))
    seen = []
    assert collect(documents, workers=2, advance=lambda: seen.append(1)) == collect(documents, workers=1)
    assert len(seen) == len(documents)


def test_the_index_is_kept_in_the_cache_under_a_digest_of_the_files(tmp_path, monkeypatch, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="case2code_hub")
    cache = tmp_path / "cache"
    monkeypatch.setenv("CASE2CODE_CACHE", str(cache))
    root = corpus(tmp_path / "c")
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    write_index(str(root), first, workers=2)
    (entry,) = (cache / "callsites").iterdir()
    assert entry.read_bytes() == first.read_bytes()
    caplog.clear()
    write_index(str(root), second)
    assert second.read_bytes() == first.read_bytes() and "read from the cache" in caplog.text
    # Another file content is another entry, never the stale one.
    (root / "tests" / "test_mod.py").write_text(TESTS.replace("42.7.1", "43.0.0"))
    write_index(str(root), second)
    assert len(list((cache / "callsites").iterdir())) == 2
    assert read_index(second)["version"][0] == ["test_mod", "'43.0.0'"]
    # A cached entry that cannot be read is rebuilt, not trusted.
    entry.write_text("{half")
    (root / "tests" / "test_mod.py").write_text(TESTS)
    write_index(str(root), second)
    assert second.read_bytes() == first.read_bytes() and "unreadable" in caplog.text
    # Switched off: nothing new is written there.
    monkeypatch.setenv("CASE2CODE_CACHE", "off")
    (root / "tests" / "test_mod.py").write_text(TESTS.replace("42.7.1", "44.0.0"))
    write_index(str(root), second)
    assert len(list((cache / "callsites").iterdir())) == 2
