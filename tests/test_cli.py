"""The ``case2code`` CLI, driven with typer's CliRunner: results on stdout, user errors in one line."""

from __future__ import annotations

from typer.testing import CliRunner

from case2code_hub.cli import app

from sample_corpus import write_corpus

runner = CliRunner()


def test_build_command_writes_a_dataset(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    out = tmp_path / "ds"
    result = runner.invoke(app, ["build", "--corpus", str(corpus), "--out", str(out), "--eval-share", "0.2", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert (out / "README.md").exists()
    assert str(out) in result.stdout
    assert "functions harvested" in result.output


def test_missing_corpus_is_one_line_and_exit_1(tmp_path):
    result = runner.invoke(app, ["build", "--corpus", str(tmp_path / "missing"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "missing" in lines[0] and "not found" in lines[0]


def test_bad_option_value_is_rejected(tmp_path):
    result = runner.invoke(app, ["build", "--eval-share", "1.5", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "eval_share" in result.output
    assert "Traceback" not in result.output


def test_out_dir_that_is_not_a_build_is_never_overwritten(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = runner.invoke(app, ["build", "--corpus", str(corpus), "--out", str(out)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert (out / "notes.txt").read_text() == "mine"


def test_a_user_error_keeps_its_brackets(tmp_path):
    # rich reads [word] as markup and would drop it: a path such as tasks[ray].jsonl must survive.
    missing = tmp_path / "tasks[ray].jsonl"
    result = runner.invoke(app, ["execute", str(missing), "--out", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "tasks[ray].jsonl: not found" in lines[0]


def _jsonl_corpus(path, *, bad_line: bool = True, column: str = "content"):
    import json

    good = "def triple(x):\n    if x > 100:\n        return x\n    return x * 3 + 1\n"
    lines = [json.dumps({column: good, "path": "a.py"}), json.dumps({column: good.replace("triple", "quad"), "path": "b.py"})]
    if bad_line:
        lines.insert(1, "{this is not json")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_bad_corpus_lines_are_counted_or_with_strict_stop_the_build(tmp_path):
    corpus = _jsonl_corpus(tmp_path / "stack.jsonl")
    result = runner.invoke(app, ["build", "--corpus", str(corpus), "--out", str(tmp_path / "ds"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "corpus rows skipped: bad_json" in result.output
    strict = runner.invoke(app, ["build", "--corpus", str(corpus), "--out", str(tmp_path / "strict"), "--strict"])
    # The sandbox's INFO lines may precede it; the failure itself is one line, no traceback.
    assert strict.exit_code == 1 and "Traceback" not in strict.output and "datatrove" not in strict.output
    errors = [line for line in strict.output.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and "stack.jsonl:2: not a JSON object" in errors[0], strict.output
    assert not (tmp_path / "strict").exists()


def test_a_corpus_without_content_is_one_line(tmp_path):
    corpus = _jsonl_corpus(tmp_path / "text.jsonl", bad_line=False, column="text")
    result = runner.invoke(app, ["build", "--corpus", str(corpus), "--out", str(tmp_path / "ds")])
    assert result.exit_code == 1 and "Traceback" not in result.output and "datatrove" not in result.output
    errors = [line for line in result.output.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and "no 'content' column" in errors[0], result.output
