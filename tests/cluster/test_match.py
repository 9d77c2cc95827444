"""Partial-object matching: subsets, lists element-wise, lenient scalars, messages with paths."""

from __future__ import annotations

from fractions import Fraction

import pytest

from kdocs.cluster.match import first_mismatch, matches, mismatches, parse_quantity

DAEMONSET = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "node-agent", "labels": {"app.kubernetes.io/name": "node-agent"}},
    "spec": {"template": {"spec": {"tolerations": [{"operator": "Exists"}]}}},
    "status": {"desiredNumberScheduled": 3, "numberReady": 2},
}
POD = {
    "kind": "Pod",
    "spec": {"nodeName": "stable-1", "containers": [{"resources": {"requests": {"cpu": "100m"}}}]},
    "status": {
        "phase": "Running",
        "conditions": [
            {"type": "Initialized", "status": "True"},
            {"type": "Ready", "status": "True"},
            {"type": "PodScheduled", "status": "True"},
        ],
    },
}


def test_a_mapping_matches_when_it_is_a_subset() -> None:
    assert matches({"kind": "DaemonSet", "status": {"desiredNumberScheduled": 3}}, DAEMONSET)


def test_a_different_scalar_is_reported_with_its_json_path() -> None:
    found = first_mismatch({"status": {"numberReady": 3}}, DAEMONSET)
    assert found == "status.numberReady: expected 3, got 2"


def test_every_mismatch_is_listed_not_only_the_first() -> None:
    found = mismatches({"kind": "Pod", "status": {"numberReady": 3}}, DAEMONSET)
    assert found == [
        'kind: expected "Pod", got "DaemonSet"',
        "status.numberReady: expected 3, got 2",
    ]


def test_a_missing_field_says_it_is_absent() -> None:
    found = first_mismatch({"status": {"numberAvailable": 3}}, DAEMONSET)
    assert found == "status.numberAvailable: expected 3, got nothing (field absent)"


def test_keys_with_dots_and_slashes_are_bracketed_in_paths() -> None:
    wanted = {"metadata": {"labels": {"app.kubernetes.io/name": "other"}}}
    assert first_mismatch(wanted, DAEMONSET) == (
        'metadata.labels["app.kubernetes.io/name"]: expected "other", got "node-agent"'
    )


def test_lists_must_have_the_same_length() -> None:
    wanted = {"spec": {"template": {"spec": {"tolerations": [{"operator": "Exists"}, {}]}}}}
    assert first_mismatch(wanted, DAEMONSET) == (
        "spec.template.spec.tolerations: expected 2 items, got 1"
    )


def test_list_elements_match_in_order_and_name_their_index() -> None:
    wanted = {"spec": {"template": {"spec": {"tolerations": [{"operator": "Exist"}]}}}}
    assert first_mismatch(wanted, DAEMONSET) == (
        'spec.template.spec.tolerations[0].operator: expected "Exist", got "Exists"'
    )


def test_null_means_absent() -> None:
    assert matches({"spec": {"priorityClassName": None}}, POD)
    assert first_mismatch({"spec": {"nodeName": None}}, POD) == (
        'spec.nodeName: expected nothing, got "stable-1"'
    )


@pytest.mark.parametrize(
    ("expected", "actual"),
    [("3", 3), (3, "3"), ("100m", "0.1"), ("1", "1000m"), ("64Mi", 67108864), (True, "True"),
     ("1e3", "1k"), (2, 2.0)],
)  # fmt: skip
def test_scalars_written_differently_with_the_same_meaning_match(expected, actual) -> None:
    assert matches({"v": expected}, {"v": actual})


@pytest.mark.parametrize(
    ("expected", "actual"),
    [("3", 4), ("100m", "1"), ("Running", "running"), (True, "False"), (False, 0), ("1", True),
     ("x", ["x"]), ({"a": 1}, "a")],
)  # fmt: skip
def test_scalars_with_a_different_meaning_do_not_match(expected, actual) -> None:
    assert not matches({"v": expected}, {"v": actual})


def test_a_type_mismatch_names_what_was_found() -> None:
    assert first_mismatch({"spec": {"nodeName": {"x": 1}}}, POD) == (
        'spec.nodeName: expected a mapping, got "stable-1"'
    )


def test_a_selector_key_picks_the_element_whose_field_has_the_value() -> None:
    assert matches({"status": {"conditions[type=Ready]": {"status": "True"}}}, POD)
    assert first_mismatch({"status": {"conditions[type=Ready]": {"status": "False"}}}, POD) == (
        'status.conditions[type=Ready].status: expected "False", got "True"'
    )


def test_a_selector_key_without_an_element_is_a_mismatch_unless_null_is_expected() -> None:
    wanted = {"status": {"conditions[type=DisruptionTarget]": {"status": "True"}}}
    assert first_mismatch(wanted, POD) == (
        "status.conditions[type=DisruptionTarget]: expected an element, none has "
        "type=DisruptionTarget"
    )
    assert matches({"status": {"conditions[type=DisruptionTarget]": None}}, POD)


def test_a_selector_key_on_a_missing_list_is_a_mismatch() -> None:
    wanted = {"status": {"containerStatuses[name=agent]": {"ready": True}}}
    assert first_mismatch(wanted, POD) == (
        "status.containerStatuses[name=agent]: expected an element, got nothing "
        "(status.containerStatuses absent)"
    )


def test_a_selector_key_matching_two_elements_is_ambiguous() -> None:
    live = {"items": [{"type": "A", "v": 1}, {"type": "A", "v": 2}]}
    assert first_mismatch({"items[type=A]": {"v": 1}}, live) == (
        "items[type=A]: expected one element, 2 have type=A"
    )


def test_quantities_parse_to_exact_values() -> None:
    assert parse_quantity("100m") == Fraction(1, 10)
    assert parse_quantity("4Gi") == 4 * 2**30
    assert parse_quantity("1.5k") == 1500
    assert parse_quantity("2e-3") == Fraction(2, 1000)
    assert parse_quantity("fast") is None
    assert parse_quantity(True) is None
