"""`github.parse_timestamp`: the one reading of times in GitHub's JSON (installations,
webhook deliveries, Copilot seats)."""

from datetime import UTC, datetime, timedelta, timezone

from billingdash import github


def test_iso_times_with_z_an_offset_or_none_are_aware():
    when = datetime(2026, 12, 6, 13, 5, tzinfo=UTC)
    assert github.parse_timestamp("2026-12-06T13:05:00Z") == when
    assert github.parse_timestamp("2026-12-06T13:05:00") == when  # GitHub means UTC
    plus_one = github.parse_timestamp("2026-12-06T14:05:00+01:00")
    assert plus_one == when and plus_one.utcoffset() == timedelta(hours=1)
    assert github.parse_timestamp("2026-12-06T13:05:00.123456Z").tzinfo is not None
    assert plus_one.tzinfo == timezone(timedelta(hours=1))


def test_epoch_seconds_of_older_installation_payloads():
    assert github.parse_timestamp(1765026300) == datetime(2025, 12, 6, 13, 5, tzinfo=UTC)


def test_nothing_or_not_a_real_time_is_none_never_an_exception():
    for value in (None, "", "soon", "2026-02-30T00:00:00Z", True, [], {}):
        assert github.parse_timestamp(value) is None, value
