"""Standard conditions: the transition time moves only when the status flips."""

from __future__ import annotations

import datetime

from staticsite.machinery.conditions import FALSE, TRUE, Condition, format_time, merge_conditions

EARLIER = datetime.datetime(2024, 5, 1, 12, 0, 0, tzinfo=datetime.UTC)
LATER = datetime.datetime(2024, 5, 1, 13, 30, 0, tzinfo=datetime.UTC)


def test_a_new_condition_gets_the_current_time_and_the_generation() -> None:
    merged = merge_conditions(
        [], [Condition("Ready", TRUE, "Available", "1/1")], generation=4, now=EARLIER
    )

    assert merged == [
        {
            "type": "Ready",
            "status": "True",
            "reason": "Available",
            "message": "1/1",
            "lastTransitionTime": "2024-05-01T12:00:00Z",
            "observedGeneration": 4,
        }
    ]


def test_transition_time_is_kept_when_the_status_is_unchanged() -> None:
    previous = merge_conditions(
        [], [Condition("Ready", TRUE, "Available")], generation=1, now=EARLIER
    )

    merged = merge_conditions(
        previous, [Condition("Ready", TRUE, "Available", "new message")], generation=2, now=LATER
    )

    assert merged[0]["lastTransitionTime"] == "2024-05-01T12:00:00Z"
    assert merged[0]["message"] == "new message"
    assert merged[0]["observedGeneration"] == 2


def test_transition_time_changes_when_the_status_flips() -> None:
    previous = merge_conditions(
        [], [Condition("Ready", TRUE, "Available")], generation=1, now=EARLIER
    )

    merged = merge_conditions(
        previous, [Condition("Ready", FALSE, "Broken")], generation=1, now=LATER
    )

    assert merged[0]["lastTransitionTime"] == "2024-05-01T13:30:00Z"


def test_merging_the_same_decision_again_yields_an_identical_list() -> None:
    decided = [Condition("Ready", TRUE, "Available"), Condition("Degraded", FALSE, "AsExpected")]
    first = merge_conditions([], decided, generation=1, now=EARLIER)

    second = merge_conditions(first, decided, generation=1, now=LATER)

    assert second == first


def test_conditions_not_decided_any_more_are_dropped() -> None:
    previous = merge_conditions([], [Condition("Stale", TRUE, "Old")], generation=1, now=EARLIER)

    merged = merge_conditions(
        previous, [Condition("Ready", TRUE, "Available")], generation=1, now=LATER
    )

    assert [c["type"] for c in merged] == ["Ready"]


def test_times_are_written_in_utc_with_a_z_suffix() -> None:
    moment = datetime.datetime(
        2024, 5, 1, 14, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
    )

    assert format_time(moment) == "2024-05-01T12:00:00Z"
