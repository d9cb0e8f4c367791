"""Working days in England and Wales: weekends and bank holidays (from the `holidays` package) are not counted.
Hand-worked examples; the convention (day received not counted, day answered counted) is the complaints rule."""
from __future__ import annotations

from datetime import date

import holidays
import numpy as np
import pandas as pd
import pytest

from data_layer.policy.calendar import (add_working_days, bank_holidays, is_working_day, nth_working_day,
                                        working_days_between)


def test_christmas_and_new_year_are_not_working_days():
    # Mon 2 Dec 2024 -> Tue 28 Jan 2025: 41 weekdays after the day received, less 25 and 26 Dec and 1 Jan
    assert working_days_between(date(2024, 12, 2), date(2025, 1, 28)) == 38
    assert int(np.busday_count(date(2024, 12, 2), date(2025, 1, 28))) == 41  # what weekday counting said


def test_day_received_is_not_counted_and_day_answered_is():
    assert working_days_between(date(2026, 3, 2), date(2026, 3, 2)) == 0  # answered the same day
    assert working_days_between(date(2026, 3, 2), date(2026, 3, 3)) == 1  # Mon -> Tue
    assert working_days_between(date(2026, 3, 2), date(2026, 3, 5)) == 3  # Mon -> Thu: inside 3 working days
    assert working_days_between(date(2026, 3, 2), date(2026, 3, 9)) == 5  # Mon -> next Mon


def test_received_on_a_weekend_counts_from_the_next_working_day():
    # Sat 7 Mar 2026: counts as received on Mon 9 Mar, so Thu 12 Mar is the third working day after
    assert working_days_between(date(2026, 3, 7), date(2026, 3, 12)) == 3
    assert working_days_between(date(2026, 3, 7), date(2026, 3, 9)) == 0
    assert working_days_between(date(2026, 3, 6), date(2026, 3, 7)) == 0  # Fri -> Sat: no working day after
    # Good Friday 3 Apr 2026 and Easter Monday 6 Apr: received Thu 2 Apr, answered Tue 7 Apr = 1 working day
    assert working_days_between(date(2026, 4, 2), date(2026, 4, 7)) == 1
    assert add_working_days(date(2026, 4, 2), 3) == date(2026, 4, 9)
    assert add_working_days(date(2026, 3, 7), 3) == date(2026, 3, 12)


def test_substitute_and_one_off_bank_holidays():
    # Christmas 2021 fell at a weekend: Mon 27 and Tue 28 Dec were the bank holidays
    assert working_days_between(date(2021, 12, 24), date(2021, 12, 29)) == 1
    assert not is_working_day(date(2022, 9, 19))  # the Queen's state funeral
    assert not is_working_day(date(2023, 5, 8))  # the coronation
    assert is_working_day(date(2023, 5, 9))
    assert date(2022, 6, 3) in bank_holidays(2022)


def test_wales_has_the_same_bank_holidays_as_england():
    years = range(2015, 2031)
    assert set(holidays.country_holidays("GB", subdiv="ENG", years=years)) == set(
        holidays.country_holidays("GB", subdiv="WLS", years=years))
    scotland = set(holidays.country_holidays("GB", subdiv="SCT", years=2025))
    assert date(2025, 1, 2) in scotland and date(2025, 1, 2) not in bank_holidays(2025)  # only Scotland's


def test_series_are_counted_together_and_missing_dates_stay_missing():
    received = pd.Series(pd.to_datetime(["2024-12-02", "2026-03-02", None, "2026-03-07"]), index=[10, 11, 12, 13])
    answered = pd.Series([date(2025, 1, 28), None, date(2026, 3, 3), date(2026, 3, 12)], index=[10, 11, 12, 13])
    out = working_days_between(received, answered)
    assert out[0] == 38 and np.isnan(out[1]) and np.isnan(out[2]) and out[3] == 3
    as_of = working_days_between(received, pd.Timestamp("2026-03-09"))  # one date against a column
    assert as_of[1] == 5 and np.isnan(as_of[2])
    assert working_days_between(None, date(2026, 3, 3)) is None
    assert working_days_between(date(2026, 3, 5), date(2026, 3, 2)) == -3  # answer dated before receipt


def test_fft_submission_deadline_is_the_twelfth_working_day_of_the_next_month():
    # December 2024's data: January 2025 starts with New Year's Day, so the 12th working day is Fri 17 Jan
    assert nth_working_day(2025, 1, 12) == date(2025, 1, 17)
    assert nth_working_day(2025, 1, 1) == date(2025, 1, 2)
    # March 2026's data: April 2026 has Good Friday (3rd) and Easter Monday (6th)
    assert nth_working_day(2026, 4, 12) == date(2026, 4, 20)
    with pytest.raises(ValueError):
        nth_working_day(2026, 4, 0)
