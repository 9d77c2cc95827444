"""The goal table divides each kdocs run by the run made next to it, and says 'met' by the goal.

Unit tests of benchmarks/goal_table.py on hand-made runs (its own arithmetic, no
timing); the harness test runs it on real measurements.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_cluster  # noqa: E402
import goal_table as goals  # noqa: E402
from measure import Run, Series  # noqa: E402


def series(*seconds: float, peak: float = 40.0) -> Series:
    return Series([Run(s, peak, 0, "", "", cpu=s / 2) for s in seconds])


@dataclass
class Row:  # the fields goals.site_lines reads from bench_site.BuildRow
    mkdocs: Series
    kdocs: Series
    uncached: Series
    macros: Series | None = None  # the macros-alone reference; as plain unless a test says

    def __post_init__(self) -> None:
        self.macros = self.macros or self.mkdocs


def test_ratios_are_paired_run_by_run_not_median_over_median() -> None:
    # Medians 2.0 / 2.0 would say 1.00x; the pairs say 1.5x, 0.5x and 2.0x.
    ratios = goals.paired(series(3.0, 1.0, 4.0), series(2.0, 2.0, 2.0))
    assert ratios == [0.5, 1.5, 2.0]
    assert goals.spread(ratios) == "1.50× (0.50-2.00, n=3)"


def test_site_goals_met_and_not_met_follow_the_limits() -> None:
    row = Row(mkdocs=series(1.0, 1.0, 1.0, peak=40), kdocs=series(1.1, 1.3, 1.15, peak=50),
              uncached=series(1.2, 1.25, 1.3, peak=70))  # fmt: skip
    lines = {line.measure: line for line in goals.site_lines({50: row})}
    full = next(v for k, v in lines.items() if k.startswith("`kdocs build` (full"))
    unchanged = next(v for k, v in lines.items() if k.startswith("unchanged"))
    memory = next(v for k, v in lines.items() if "memory" in k)
    assert full.met == "no" and full.goal == "≤ 1.15×"  # median 1.25
    assert unchanged.met == "yes" and unchanged.goal == "≤ 1.2×"  # median 1.15
    assert memory.met == "no" and "full 1.75×" in memory.value  # 70 / 40, the larger of the two


def test_a_full_build_outside_the_issues_sizes_says_so_and_keeps_its_verdict() -> None:
    row = Row(mkdocs=series(1.0, 1.0), kdocs=series(1.1, 1.1), uncached=series(1.3, 1.3))
    lines = goals.site_lines({1: row, 50: row})
    full = [x for x in lines if x.measure.startswith("`kdocs build` (full")]
    one, fifty = (next(x for x in full if x.measure.endswith(f" {n} pages")) for n in (1, 50))
    assert fifty.goal == "≤ 1.15×"
    assert one.goal.startswith("≤ 1.15× (beyond the issue") and one.met == "no"


def test_the_macros_reference_is_paired_and_claims_no_verdict() -> None:
    row = Row(mkdocs=series(1.0, 2.0), kdocs=series(1.1, 2.2), uncached=series(1.2, 2.4),
              macros=series(1.05, 2.2))  # fmt: skip
    lines = goals.site_lines({50: row})
    reference = next(x for x in lines if x.measure.startswith("reference"))
    assert "macros plugin alone" in reference.measure and reference.measure.endswith("50 pages")
    assert reference.value.startswith("wall 1.08× (1.05-1.10, n=2)")  # 1.05/1.0 and 2.2/2.0
    assert reference.met == "" and "goal" in reference.goal  # context, not a goal to meet


def test_a_site_goal_is_met_only_when_wall_and_cpu_time_agree() -> None:
    plain = Series([Run(1.0, 40, 0, "", "", cpu=1.0), Run(1.0, 40, 0, "", "", cpu=1.0)])
    lucky = Series([Run(1.0, 40, 0, "", "", cpu=1.3), Run(1.1, 40, 0, "", "", cpu=1.25)])
    row = Row(mkdocs=plain, kdocs=lucky, uncached=lucky)
    unchanged = next(x for x in goals.site_lines({50: row}) if x.measure.startswith("unchanged"))
    assert unchanged.met == "wall time: yes; CPU time: no"  # wall 1.05x met, CPU 1.28x not
    for time_and_cpu, met in ((1.1, "yes"), (1.3, "no")):  # both agree: one word
        runs = [Run(time_and_cpu, 40, 0, "", "", cpu=time_and_cpu) for _ in range(2)]
        row = Row(mkdocs=plain, kdocs=Series(runs), uncached=Series(runs))
        lines = goals.site_lines({50: row})
        assert next(x for x in lines if x.measure.startswith("unchanged")).met == met


def test_validation_goals_read_the_paired_kubeconform_bundled_rows() -> None:
    @dataclass
    class VRow:
        docs: int
        tool: str
        versions: str
        series: Series

    rows = [VRow(1, "kdocs validate", "1.33", series(0.06, 0.05, 0.07)),
            VRow(1, "kubeconform, bundled schemas", "1.33", series(0.02, 0.03, 0.02)),
            VRow(10000, "kdocs validate", "1.33", series(1.0, 0.9)),
            VRow(10000, "kubeconform, bundled schemas", "1.33", series(1.1, 1.0)),
            VRow(1, "kdocs validate --server, one file (server warm)", "1.33",
                 series(0.03, 0.09, 0.03))]  # fmt: skip
    one, served, many = goals.validate_lines(rows)
    assert one.met == "no" and one.value.startswith("3.00×")  # 0.06/0.02, 0.05/0.03, 0.07/0.02
    assert "a cold process" in one.measure and "resident validator" in served.measure
    assert served.met == "yes" and served.value.startswith("1.50×")  # 1.5, 3.0, 1.5
    assert many.met == "yes" and many.value == "1.11 (1.10-1.11, n=2)"  # 1.1 and 1.11 docs/s


def test_a_section_that_did_not_run_is_said_not_measured() -> None:
    text = "\n".join(goals.table({}, "1.0-2.0"))
    assert text.count("not measured in this run") == 3
    assert "| yes |" not in text


def test_all_scenarios_are_the_median_of_their_runs_with_the_spread_shown() -> None:
    def step(seconds: float, note: str = "") -> bench_cluster.Step:
        run = Run(seconds, 40.0, 0, "{}", "")
        return bench_cluster.Step("all scenarios and snippets", "kdocs test", run, note)

    middle = bench_cluster._median_of([step(70.0), step(50.0), step(55.0)])
    assert (middle.seconds, middle.spread) == (55.0, [70.0, 50.0, 55.0])
    [line] = goals.cluster_lines([middle])
    assert (line.value, line.met) == ("55.0 s (50.0-70.0, n=3)", "yes")
    failed = bench_cluster._median_of([step(50.0), step(52.0, "exit 1: boom"), step(51.0)])
    [line] = goals.cluster_lines([failed])
    assert (line.value, line.met) == ("failed: exit 1: boom", "n/a")


def test_instruction_counts_are_references_beside_the_time_rows() -> None:
    import bench_instructions

    counts = bench_instructions.Counts(
        50, {"plain": 8_000, "macros": 8_480, "unchanged": 8_800, "full": 9_200}
    )
    text = "\n".join(goals.table({"instructions": {50: counts}}, "1.0-2.0"))
    row = next(line for line in text.splitlines() if "instructions executed" in line)
    assert "50 pages" in row and "full `kdocs build` 1.150×" in row, row
    assert "unchanged 1.100×" in row and "macros plugin alone 1.060×" in row, row
    assert row.endswith("verdict is the code or the day) |  |"), row
    # absent (no valgrind): no row, and no "not measured" for a reference
    assert "instructions" not in "\n".join(goals.table({}, "1.0-2.0"))
