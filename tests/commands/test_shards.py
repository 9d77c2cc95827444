"""Sharding policy: every unit in exactly one shard, the same answer in every process, balanced."""

from __future__ import annotations

import random

import pytest

from kdocs.cli import main
from kdocs.errors import UnusableInputError
from kdocs.shards import Shard, Work, assign, parse_shard, share, weights


def names(count: int, prefix: str = "scenario:s") -> list[str]:
    return [f"{prefix}{i:02d}" for i in range(count)]


@pytest.mark.parametrize("total", [1, 2, 3, 7])
def test_every_unit_runs_in_exactly_one_shard(total: int) -> None:
    work = [Work(name, seconds=float(i % 5) or None, exclusive=i % 4 == 0)
            for i, name in enumerate(names(23))]  # fmt: skip
    shards = assign(work, total)
    assert len(shards) == total
    flat = [name for shard in shards for name in shard]
    assert sorted(flat) == sorted(w.name for w in work)  # none lost, none twice


def test_the_assignment_does_not_depend_on_the_order_units_were_found() -> None:
    work = [Work(name, seconds=float(len(name) % 3 + 1)) for name in names(17)]
    shuffled = list(work)
    random.Random(4).shuffle(shuffled)
    assert assign(work, 3) == assign(shuffled, 3)
    assert [share(shuffled, Shard(i, 3)) for i in (1, 2, 3)] == [set(s) for s in assign(work, 3)]


def test_without_durations_shards_are_balanced_by_count() -> None:
    sizes = sorted(len(shard) for shard in assign([Work(n) for n in names(10)], 3))
    assert sizes == [3, 3, 4]


def test_recorded_durations_balance_the_time_not_the_count() -> None:
    work = [Work("scenario:slow", 90.0)] + [Work(n, 10.0) for n in names(9)]
    slow, fast = assign(work, 2)
    if "scenario:slow" not in slow:
        slow, fast = fast, slow
    assert slow == ["scenario:slow"]  # alone: 90 s against 9 x 10 s
    assert len(fast) == 9


def test_a_unit_never_timed_weighs_the_mean_of_those_that_were() -> None:
    assert weights([Work("a", 10.0), Work("b", 30.0), Work("c")]) == {"a": 10, "b": 30, "c": 20}
    assert weights([Work("a"), Work("b", 0.0)]) == {"a": 1.0, "b": 1.0}


def test_exclusive_units_spread_over_the_shards_even_when_light() -> None:
    work = [Work(f"scenario:x{i}", 1.0, exclusive=True) for i in range(3)]
    work += [Work(n, 50.0) for n in names(3)]
    for shard in assign(work, 3):
        assert sum(name.startswith("scenario:x") for name in shard) == 1, shard


def test_a_shard_with_nothing_to_run_is_empty_not_an_error() -> None:
    assert assign([Work("a")], 3) == [["a"], [], []]


@pytest.mark.parametrize(
    ("text", "expected"), [("1/1", Shard(1, 1)), ("2/3", Shard(2, 3)), (" 3/3 ", Shard(3, 3))]
)
def test_shard_values(text: str, expected: Shard) -> None:
    assert parse_shard(text) == expected
    assert expected.label == f"{expected.index}-of-{expected.total}"


@pytest.mark.parametrize("text", ["0/3", "4/3", "1/0", "3", "a/b", "-1/2", "1/3/4", ""])
def test_bad_shard_values_are_one_line_and_exit_2(text: str, capsys) -> None:
    with pytest.raises(UnusableInputError):
        parse_shard(text)
    with pytest.raises(SystemExit) as ended:
        main(["test", "--shard", text])
    assert ended.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--shard" in err, err
