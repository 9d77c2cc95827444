"""`kdocs results merge`: shards' records brought together, none dropped silently."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from kdocs.cli import main
from kdocs.errors import UnusableInputError
from kdocs.results import FORMAT_VERSION, ResultStore, UnitRecord, merge_files, shard_file


def record(unit: str, passed: bool, date: str, sha: str = "a" * 64) -> UnitRecord:
    return UnitRecord(
        snippet=f"app/{unit}.yaml", sha256=sha, kind="scenario", unit=unit,
        source=f"snippets/app/{unit}.scenario.yaml", passed=passed, provider="kwok",
        kubernetes_version="v1.36.3", date=date, inputs={f"snippets/app/{unit}.yaml": sha},
        seconds=3.5,
    )  # fmt: skip


def results_file(path: Path, *records: UnitRecord) -> Path:
    store = ResultStore(path, path.parent)
    for each in records:
        store.record(each)
    store.save()
    return path


def verdicts(path: Path) -> dict[str, tuple[bool, str]]:
    raw = json.loads(path.read_text())["records"]
    return {r["unit"]: (r["passed"], r["date"]) for r in raw.values()}


def test_records_of_every_shard_arrive_with_their_durations(tmp_path: Path) -> None:
    one = results_file(tmp_path / "r.shard-1-of-2.json", record("a", True, "2026-01-01T00:00:01"))
    two = results_file(tmp_path / "r.shard-2-of-2.json", record("b", False, "2026-01-01T00:00:02"))
    merged = merge_files([one, two], tmp_path / "results.json", tmp_path)
    assert (merged.records, merged.failed) == (2, 1)
    assert verdicts(tmp_path / "results.json") == {
        "a": (True, "2026-01-01T00:00:01"), "b": (False, "2026-01-01T00:00:02"),
    }  # fmt: skip
    store = ResultStore(tmp_path / "results.json", tmp_path)
    assert store.durations() == {"scenario:a": 3.5, "scenario:b": 3.5}


def test_a_unit_recorded_twice_keeps_the_newest(tmp_path: Path) -> None:
    target = results_file(tmp_path / "results.json", record("a", True, "2026-01-01T00:00:09"))
    older = results_file(tmp_path / "old.json", record("a", True, "2026-01-01T00:00:01"))
    newer = results_file(tmp_path / "new.json", record("a", True, "2026-01-01T00:00:05"))
    merge_files([newer, older], target, tmp_path)
    assert verdicts(target) == {"a": (True, "2026-01-01T00:00:09")}  # the target's is newest
    target.unlink()
    merge_files([older, newer], target, tmp_path)
    assert verdicts(target) == {"a": (True, "2026-01-01T00:00:05")}


def test_a_shards_failure_survives_an_older_pass_in_the_results_file(tmp_path: Path) -> None:
    target = results_file(tmp_path / "results.json", record("a", True, "2026-01-01T00:00:01"))
    shard = results_file(tmp_path / "shard.json", record("a", False, "2026-01-01T00:00:02"))
    merge_files([shard], target, tmp_path)
    assert verdicts(target) == {"a": (False, "2026-01-01T00:00:02")}
    same_second = results_file(tmp_path / "again.json", record("a", True, "2026-01-01T00:00:02"))
    merge_files([same_second], target, tmp_path)
    assert verdicts(target)["a"][0] is False  # a tie never hides the failure


def test_two_shards_disagreeing_on_the_same_key_is_an_error_naming_both(tmp_path: Path) -> None:
    one = results_file(tmp_path / "one.json", record("a", True, "2026-01-01T00:00:01"))
    two = results_file(tmp_path / "two.json", record("a", False, "2026-01-01T00:00:02"))
    target = tmp_path / "results.json"
    with pytest.raises(UnusableInputError) as raised:
        merge_files([one, two], target, tmp_path)
    assert str(two) in str(raised.value) and str(one) in str(raised.value)
    assert "passed" in str(raised.value) and "failed" in str(raised.value)
    assert not target.exists()  # nothing half-merged


def test_other_inputs_and_other_snippet_bytes_are_different_keys(tmp_path: Path) -> None:
    base = record("a", True, "2026-01-01T00:00:01")
    other = replace(base, sha256="b" * 64, passed=False, inputs={"x": "1"})
    one, two = results_file(tmp_path / "1.json", base), results_file(tmp_path / "2.json", other)
    assert merge_files([one, two], tmp_path / "results.json", tmp_path).records == 2


@pytest.mark.parametrize(
    ("content", "reason"),
    [(None, "cannot read"), ("{not json", "not a results file"),
     ('{"format": 1, "records": {}}', "results format 1"),
     (f'{{"format": {FORMAT_VERSION}, "records": {{"k": {{}}}}}}', "malformed record")],
)  # fmt: skip
def test_unusable_files_are_one_line_and_exit_2(tmp_path: Path, capsys, monkeypatch, content,
                                                reason) -> None:  # fmt: skip
    (tmp_path / "pyproject.toml").write_text('[tool.kdocs]\nresults-file = "results.json"\n')
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    monkeypatch.chdir(tmp_path)
    assert main(["results", "merge", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(bad) in err and reason in err, err


def test_the_command_merges_into_the_projects_results_file(tmp_path: Path, monkeypatch,
                                                           capsys) -> None:  # fmt: skip
    (tmp_path / "pyproject.toml").write_text('[tool.kdocs]\nresults-file = "out/r.json"\n')
    shard = results_file(shard_file(tmp_path / "out" / "r.json", "1-of-2"),
                         record("a", False, "2026-01-01T00:00:01"))  # fmt: skip
    assert shard.name == "r.shard-1-of-2.json"
    monkeypatch.chdir(tmp_path)
    assert main(["results", "merge", str(shard)]) == 0
    assert "merged 1 record(s) from 1 file(s)" in capsys.readouterr().err
    assert verdicts(tmp_path / "out" / "r.json") == {"a": (False, "2026-01-01T00:00:01")}
