"""Coverage-guided input search and the quality report: determinism, selection that prefers
coverage, reaching branches that need body constants, and quality in the build summary, the card
and ``case2code stats``."""

from __future__ import annotations

import json

import textwrap

import pytest
from typer.testing import CliRunner

from case2code_hub.cli import app
from case2code_hub.dataset.card import quality_section, read_quality
from case2code_hub.errors import ConfigError, DatasetError
from case2code_hub.inputs.search import SearchConfig, SearchingWriter
from case2code_hub.inputs.search.choice import Trial, choose
from case2code_hub.inputs.search.searcher import LINES_LEFT_PATIENCE
from case2code_hub.dataset.folder_stats import folder_quality
from case2code_hub.quality import summarise
from case2code_hub.sandbox import Sandbox, SandboxConfig
from case2code_hub.schema import Case, Function, Source, function_id

from sample_corpus import write_corpus

BRANCHY = textwrap.dedent('''\
    def shoe_counts(sizes):
        counts = [0, 0, 0]
        for s in sizes:
            if s == '7.5':
                counts[0] += 1
            elif s == '9':
                counts[1] += 1
            else:
                counts[2] += 1
        return counts
''')
MAGIC = textwrap.dedent('''\
    def magic(x: int, word: str) -> str:
        if x == 4242:
            return 'found'
        if word.startswith('zz') and len(word) > 3:
            return 'long zz'
        if x < 0:
            raise ValueError('negative')
        return word * (x % 3)
''')
ROWS = textwrap.dedent('''\
    def total_time(tasks, limit):
        total = 0
        for task in tasks:
            if task['time_taken'] > limit:
                total += task['time_taken']
        return total
''')


def make(code: str) -> Function:
    entry = code.split("def ", 1)[1].split("(", 1)[0]
    return Function(id=function_id(code), entry_point=entry, code=code, source=Source("test", "t.py"))


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(SandboxConfig(workers=2, runs=1, timeout=1.0)) as sb:
        yield sb


def test_search_reaches_branches_that_need_body_constants(sandbox):
    results = list(SearchingWriter(sandbox, SearchConfig(max_calls=200)).search([make(BRANCHY), make(MAGIC)]))
    for result in results:
        assert result.quality.line_coverage == 1.0, (result.function.entry_point, result.inputs)
        assert result.quality.branch_coverage == 1.0, (result.function.entry_point, result.inputs)
        assert 5 <= len(result.inputs) <= 10
        assert result.quality.raised_share <= 0.3
    assert any("'found'" == case.output for case in results[1].cases)


def test_a_mutation_that_fails_is_logged_and_the_search_goes_on(sandbox, monkeypatch, caplog):
    from case2code_hub.inputs.search import searcher as search

    real, failed = search._child, []

    def flaky(*args, **kwargs):
        if len(failed) < 3:  # what an odd value once did: ``float(2 ** 1024)`` in a type switch
            failed.append(1)
            raise OverflowError("int too large to convert to float")
        return real(*args, **kwargs)

    monkeypatch.setattr(search, "_child", flaky)
    unreachable = "def f(x):\n    y = [x]\n    if len(y) > 1:\n        return 'never'\n    return x\n"
    with caplog.at_level("DEBUG", logger="case2code_hub.inputs.search"):
        (result,) = SearchingWriter(sandbox, SearchConfig(max_calls=120)).search([make(unreachable)])
    assert len(failed) == 3 and "a mutation failed" in caplog.text
    assert result.stop != "exhausted" and result.calls > 32  # before, the first failure ended the search


def test_search_is_deterministic_and_independent_of_batching(sandbox):
    functions = [make(BRANCHY), make(MAGIC), make(ROWS)]
    first = [r.inputs for r in SearchingWriter(sandbox, SearchConfig(seed=3)).search(functions)]
    again = [r.inputs for r in SearchingWriter(sandbox, SearchConfig(seed=3, batch_size=1)).search(functions)]
    other = [r.inputs for r in SearchingWriter(sandbox, SearchConfig(seed=4)).search(functions)]
    assert first == again
    assert first != other


def test_search_of_code_without_entry_point_gives_no_inputs(sandbox):
    broken = Function(id="x", entry_point="missing", code="def f(x):\n    return x\n", source=Source("t", "t"))
    (result,) = SearchingWriter(sandbox).search([broken])
    assert result.inputs == [] and result.stop == "no_inputs" and result.quality is None


def trial(index, outcome, output, units):
    return Trial(index, f"{index}", Case(f"{index}", output, outcome), None, frozenset(units))


def test_choose_prefers_coverage_then_new_outputs_and_caps_raised():
    trials = [trial(i, "returned", "1", {"a"}) for i in range(8)]
    trials += [trial(8, "returned", "2", {"a", "b"}), trial(9, "raised", "ValueError: x", {"c"}),
               trial(10, "raised", "ValueError: y", {"d"}), trial(11, "raised", "KeyError: z", {"e"}),
               trial(12, "returned", "3", {"a"}), trial(13, "timeout", "", {"f"})]
    chosen = choose(trials, n=5, max_raised_share=0.2)
    indices = [t.index for t in chosen]
    assert indices == sorted(indices)
    assert 8 in indices and 12 in indices  # coverage first, then a new output before repeats
    assert sum(t.case.outcome == "raised" for t in chosen) == 1
    assert 13 not in indices  # timeouts are never kept
    assert len(chosen) == 5


def test_choose_takes_one_raised_call_over_the_share_only_for_lines_nothing_else_reaches():
    lines = lambda *ns: {("l", n) for n in ns}  # noqa: E731
    trials = [trial(0, "returned", "1", lines(1, 2)), trial(1, "raised", "ValueError: a", lines(1, 3)),
              trial(2, "raised", "ValueError: b", lines(1, 4)), trial(3, "raised", "KeyError: c", {("b", 1, True)}),
              trial(4, "returned", "2", lines(1, 2)), trial(5, "returned", "3", lines(1, 2))]
    chosen = [t.index for t in choose(trials, n=5, max_raised_share=0.2)]
    # One raised call is the share; the second reaches line 4 alone; the third adds no line.
    assert chosen == [0, 1, 2, 4, 5]


def test_choose_takes_raised_calls_over_the_share_for_own_lines_up_to_half_the_cases():
    # A validator: each check raises on its own line, one returning call reaches none of them.
    lines = lambda *ns: {("l", n) for n in ns}  # noqa: E731
    trials = [trial(0, "returned", "ok", lines(1))]
    trials += [trial(i, "raised", f"ValueError: check {i}", lines(1, 1 + i)) for i in range(1, 8)]
    trials += [trial(i, "returned", f"{i}", lines(1)) for i in range(8, 16)]
    chosen = choose(trials, n=10, max_raised_share=0.3)
    raised = [t.index for t in chosen if t.case.outcome == "raised"]
    assert raised == [1, 2, 3, 4, 5]  # three by the share, two more for their lines, no more
    assert len(chosen) == 10


def test_choose_swaps_a_greedy_pick_for_one_that_reaches_more_lines_with_the_others():
    def lines(*numbers):
        return {("l", n) for n in numbers}

    # Greedy takes 0 (three lines), then 1 or 2 (one new line each): four lines. 1 and 2 reach all five.
    trials = [trial(0, "returned", "a", lines(1, 2, 3)), trial(1, "returned", "b", lines(3, 4)),
              trial(2, "returned", "c", lines(1, 2, 5))]
    assert [t.index for t in choose(trials, n=2)] == [1, 2]
    # The same with 2 raised: it swaps in within the share of raised calls, and not over it.
    trials[2] = trial(2, "raised", "KeyError: c", lines(1, 2, 5))
    assert [t.index for t in choose(trials, n=2, max_raised_share=0.5)] == [1, 2]
    trials[1] = trial(1, "raised", "KeyError: b", lines(3, 4))
    assert len([t for t in choose(trials, n=2, max_raised_share=0.5) if t.case.outcome == "raised"]) == 1


def test_search_config_names_bad_fields():
    for kwargs, name in [({"max_calls": 5}, "max_calls"), ({"patience": 0}, "patience"),
                         ({"max_raised_share": 1.0}, "max_raised_share")]:
        with pytest.raises(ConfigError) as info:
            SearchConfig(**kwargs)
        assert info.value.field == name


def test_summarise_means_shares_and_yield():
    rows = [
        {"line_coverage": 1.0, "branch_coverage": 1.0, "returned_share": 1.0, "raised_share": 0.0, "distinct_outputs": 10, "n_cases": 10},
        {"line_coverage": 0.5, "branch_coverage": 0.25, "returned_share": 0.8, "raised_share": 0.2, "distinct_outputs": 4, "n_cases": 5},
    ]
    summary = summarise(rows, harvested=4, dropped={"too_few_cases": 2})
    assert summary["mean line coverage"] == 0.75
    assert summary["full line coverage share"] == 0.5
    assert summary["mean branch coverage"] == 0.625
    assert summary["returning calls share"] == round(14 / 15, 4)
    assert summary["raised calls share"] == round(1 / 15, 4)
    assert summary["yield (kept / harvested)"] == 0.5
    assert read_quality(quality_section(summary)) == summary


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from case2code_hub.builder import build

    root = tmp_path_factory.mktemp("quality")
    out = root / "ds"
    summary = build(str(write_corpus(root / "corpus")), out, seed=1, eval_share=0.25, workers=2)
    return out, summary


def test_build_reports_quality_in_summary_card_and_stats(built):
    out, summary = built
    quality = summary.quality
    assert quality["functions"] == summary.functions + summary.eval_items
    assert 0.9 <= quality["mean line coverage"] <= 1.0
    assert quality["returning calls share"] >= 0.7
    assert quality["harvested"] >= quality["functions"]
    card = (out / "README.md").read_text()
    assert "## Input quality" in card and read_quality(card) == quality
    assert summary.counters.get("search/calls", 0) > 0

    result = CliRunner().invoke(app, ["stats", str(out)])
    assert result.exit_code == 0, result.output
    assert "mean line coverage" in result.output and f"{quality['mean line coverage']:.3f}" in result.output
    # Machine-readable, with the dataset named as eval and calibrate name it.
    as_json = CliRunner().invoke(app, ["stats", "--dataset", str(out), "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == {**quality, "source": "card"}
    # Measured again in the sandbox, from the dataset's own rows: the same coverage.
    again = folder_quality(out, measure_again=True, workers=2)
    assert again["source"] == "measured"
    assert again["mean line coverage"] == quality["mean line coverage"]
    assert again["mean branch coverage"] == quality["mean branch coverage"]


def test_raw_stats_carry_coverage(built):
    import pyarrow.parquet as pq

    out, _ = built
    rows = pq.read_table(next((out / "raw").glob("*.parquet"))).to_pylist()
    assert all(0.0 <= row["stats"]["line_coverage"] <= 1.0 for row in rows)
    assert all(row["stats"]["branch_coverage"] is not None for row in rows)


def test_stats_of_a_folder_that_is_not_a_dataset(tmp_path):
    with pytest.raises(DatasetError):
        folder_quality(tmp_path)
    result = CliRunner().invoke(app, ["stats", str(tmp_path)])
    assert result.exit_code == 1
    both = CliRunner().invoke(app, ["stats", str(tmp_path), "--dataset", str(tmp_path)])
    assert both.exit_code == 1 and "name the dataset folder once" in both.output


def test_search_is_more_patient_while_a_line_is_unreached(sandbox):
    # Both return one output whatever the input, so neither is ever done; only f has a line left
    # (unreachable on this platform) and keeps searching for LINES_LEFT_PATIENCE times the stale rounds.
    code = "import os\n\n\ndef f(x):\n    if os.sep == '\\\\':\n        return 1\n    return 2\n\n\ndef g(x):\n    return 2\n"
    functions = [Function(id=name, entry_point=name, code=code, source=Source("t", "t")) for name in ("f", "g")]
    f, g = SearchingWriter(sandbox, SearchConfig(patience=2)).search(functions)
    assert f.stop == g.stop == "stale"
    assert f.quality.line_coverage < 1.0 and g.quality.line_coverage == 1.0
    assert f.rounds - g.rounds == 2 * (LINES_LEFT_PATIENCE - 1), (f.rounds, g.rounds)
