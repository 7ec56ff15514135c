"""Month arithmetic (`usage.periods`): the one place for month ends and month lists."""

from datetime import date

from usage import periods


def test_month_end_knows_leap_years_and_december():
    assert periods.month_end(date(2024, 2, 10)) == date(2024, 2, 29)
    assert periods.month_end(date(2026, 2, 1)) == date(2026, 2, 28)
    assert periods.month_end(date(2026, 12, 31)) == date(2026, 12, 31)


def test_months_between_lists_each_month_once_oldest_first():
    assert periods.months_between(date(2025, 11, 30), date(2026, 2, 1)) == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]
    assert periods.months_between(date(2026, 3, 5), date(2026, 3, 6)) == [date(2026, 3, 1)]
    assert periods.months_between(date(2026, 4, 1), date(2026, 3, 31)) == []
