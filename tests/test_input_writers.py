"""The input writers' one interface (``inputs.InputWriter``) and ``WriteInputsStep``'s one loop over it."""

from __future__ import annotations

from typing import Iterable, Iterator

import pytest

from case2code_hub.inputs import InputWriter, OfflineInputWriter, SearchConfig, SearchingWriter, WrittenInputs
from case2code_hub.inputs.llm import LLMInputWriter, LLMSeededSearch, LLMWithMutations, mix_with_mutations
from case2code_hub.pipeline import GenerationConfig, Item, WriteInputsStep
from case2code_hub.schema import Function, Source, function_id

LISTS = "def f(xs: list, k: int):\n    return [x * k for x in xs]\n"
MAGIC = "def g(s: str):\n    if s == 'magic-word':\n        return 1\n    return len(s)\n"
PLAIN = "def h(x):\n    if x:\n        return x\n    return None\n"


def make(code: str) -> Function:
    entry = code.split("def ", 1)[1].split("(", 1)[0]
    return Function(id=function_id(code), entry_point=entry, code=code, source=Source("test", "t.py"))


class StubModel:
    """Stands for an ``LLMInputWriter``: fixed answers by function id, labelled ``llm:m``."""

    writer = "llm:m"

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked = 0

    def write_many(self, functions: Iterable[Function]) -> Iterator[WrittenInputs]:
        for function in functions:
            self.asked += 1
            inputs = self.answers.get(function.id, [])
            yield WrittenInputs(function, inputs, [self.writer] * len(inputs), info={"writer": self.writer})

    def counters(self) -> dict[str, int]:
        return {"llm/requests": self.asked}


@pytest.fixture(scope="module")
def sandbox():
    from case2code_hub.sandbox import Sandbox, SandboxConfig

    with Sandbox(SandboxConfig(workers=2, runs=1, timeout=1.0)) as sb:
        yield sb


def test_every_writer_speaks_the_one_interface():
    model = StubModel({})
    writers = [OfflineInputWriter(), SearchingWriter(None), LLMInputWriter(endpoint="http://127.0.0.1:9"),
               LLMWithMutations(model, n_candidates=10), LLMSeededSearch(model, None)]
    assert all(isinstance(writer, InputWriter) for writer in writers)


def test_offline_writer_writes_in_order_and_a_failure_costs_one_function(monkeypatch):
    fns = [make(LISTS), make(MAGIC), make(PLAIN)]
    writer = OfflineInputWriter(seed=3)
    real = writer.write

    def flaky(function: Function) -> list[str]:
        if function is fns[1]:
            raise RecursionError("odd code")
        return real(function)

    monkeypatch.setattr(writer, "write", flaky)
    written = list(writer.write_many(fns))
    assert [w.function for w in written] == fns
    assert written[1].inputs == [] and written[1].dropped == "writer_error"
    for w in (written[0], written[2]):
        assert w.inputs == OfflineInputWriter(seed=3).write(w.function) and w.inputs
        assert w.writers == ["offline"] * len(w.inputs) and w.dropped is None
    assert writer.counters() == {}


def test_mutants_follow_the_models_inputs_under_their_own_label():
    fn, silent = make(LISTS), make(PLAIN)
    model = StubModel({fn.id: ["[1, 2], 3"]})
    written = list(LLMWithMutations(model, n_candidates=6, seed=0).write_many([fn, silent]))
    pairs = mix_with_mutations(fn, ["[1, 2], 3"], n_mutants=5, seed=0, writer="llm:m")
    assert list(zip(written[0].inputs, written[0].writers)) == pairs
    assert written[0].writers[0] == "llm:m" and set(written[0].writers[1:]) == {"llm:m+mutation"}
    assert 1 < len(written[0].inputs) <= 6
    assert written[1].function is silent and written[1].inputs == []
    assert model.asked == 2


def test_search_writes_its_chosen_inputs_with_their_counters(sandbox):
    fns = [make(MAGIC), make(PLAIN), Function(id="nothing", entry_point="f", code="x = 1\n", source=Source("t", "t"))]
    config = SearchConfig(max_calls=60)
    results = list(SearchingWriter(sandbox, config).search(fns))
    written = list(SearchingWriter(sandbox, config).write_many(fns))
    assert [w.function for w in written] == fns
    for result, w in zip(results, written):
        assert w.inputs == result.inputs and w.writers == ["offline"] * len(result.inputs)
        assert w.counters == {f"search/stop/{result.stop}": 1, "search/calls": result.calls}
    assert written[2].inputs == [] and written[2].counters["search/stop/no_inputs"] == 1


def test_seeded_search_labels_the_models_inputs_it_keeps(sandbox):
    fn, other = make(MAGIC), make(PLAIN)
    model = StubModel({fn.id: ["'magic-word'", "s='magic-word'"]})
    seeded = LLMSeededSearch(model, sandbox, SearchConfig(max_calls=60))
    written = list(seeded.write_many([fn, other]))
    assert [w.function for w in written] == [fn, other]
    labels = dict(zip(written[0].inputs, written[0].writers))
    assert "'magic-word'" in labels or "s='magic-word'" in labels, labels
    assert labels == {source: "llm:m" if source in model.answers[fn.id] else "offline" for source in labels}
    assert set(written[1].writers) == {"offline"}
    assert seeded.counters() == {"llm/functions_with_inputs": 1, "llm/functions_without_inputs": 1, "llm/requests": 2}


class StubWriter:
    def __init__(self, written: list[WrittenInputs]) -> None:
        self.written = written

    def write_many(self, functions: Iterable[Function]) -> Iterator[WrittenInputs]:
        for function, w in zip(functions, self.written):
            assert function is w.function
            yield w

    def counters(self) -> dict[str, int]:
        return {"llm/requests": 3}


def test_write_inputs_step_pairs_items_with_the_writers_results_and_counts(monkeypatch):
    fns = [make(LISTS), make(MAGIC), make(PLAIN)]
    stub = StubWriter([
        WrittenInputs(fns[0], ["[1], 2", "[], 0"], ["llm:m", "offline"], counters={"search/stop/covered": 1, "search/calls": 7}),
        WrittenInputs(fns[1], [], [], counters={"search/stop/no_inputs": 1, "search/calls": 0}),
        WrittenInputs(fns[2], [], [], dropped="writer_error"),
    ])
    step = WriteInputsStep(GenerationConfig())
    monkeypatch.setattr(step, "_writer", lambda stack: stub)
    items = [Item(function=fn) for fn in fns]
    out = list(step.run(iter(items)))
    assert out == [items[0]]
    assert out[0].inputs == ["[1], 2", "[], 0"] and out[0].input_writers == ["llm:m", "offline"]
    totals = {label: stat.total for label, stat in step.stats.stats.items()}
    assert totals == {"search/stop/covered": 1, "search/calls": 7, "search/stop/no_inputs": 1, "inputs": 2,
                      "dropped/no_inputs": 1, "dropped/writer_error": 1, "llm/requests": 3}


@pytest.mark.parametrize("options, kind", [
    ({"search": "none"}, OfflineInputWriter),
    ({"search": "coverage"}, SearchingWriter),
    ({"search": "none", "generator": "tgi", "endpoint": "http://127.0.0.1:9"}, LLMWithMutations),
    ({"search": "none", "generator": "tgi", "endpoint": "http://127.0.0.1:9", "mix_mutations": False}, LLMInputWriter),
    ({"search": "coverage", "generator": "tgi", "endpoint": "http://127.0.0.1:9"}, LLMSeededSearch),
])
def test_write_inputs_step_builds_the_writer_its_configuration_asks_for(monkeypatch, options, kind):
    import contextlib

    import case2code_hub.sandbox

    opened = []

    @contextlib.contextmanager
    def fake_sandbox(config):
        opened.append(config)
        yield object()

    monkeypatch.setattr(case2code_hub.sandbox, "Sandbox", fake_sandbox, raising=False)
    with contextlib.ExitStack() as stack:
        writer = WriteInputsStep(GenerationConfig(**options))._writer(stack)
    assert type(writer) is kind
    assert [config.runs for config in opened] == ([1] if options["search"] == "coverage" else [])
