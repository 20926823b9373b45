"""When a message that nobody asked for just now may be sent.

* Officers, heads and leaders get notifications and reminders on working days from the
  office time (default 07:30) until the evening quiet time (default 21:00), never at night
  or on a holiday.
* Citizens are never messaged between 21:00 and 07:00 (any day).

A reply to what a person has just written is not a notification and is sent at once.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bot.rules.deadlines import DeadlineCalculator


class DeliveryWindows:
    def __init__(
        self,
        calculator: DeadlineCalculator,
        *,
        office_time: time,
        quiet_start: time,
        quiet_end: time,
    ) -> None:
        self.calculator = calculator
        self.office_time = office_time
        self.quiet_start = quiet_start
        self.quiet_end = quiet_end

    def _at(self, day: date, moment: time) -> datetime:
        from datetime import UTC

        return datetime.combine(day, moment, tzinfo=self.calculator.tz).astimezone(UTC)

    def staff_not_before(self, now: datetime) -> datetime | None:
        """None when ``now`` is inside office time; else the next start of office time."""
        local = now.astimezone(self.calculator.tz)
        calendar = self.calculator.calendar
        today = local.date()
        if calendar.is_working_day(today):
            if local.time() < self.office_time:
                return self._at(today, self.office_time)
            if local.time() < self.quiet_start:
                return None
        next_day = calendar.add_working_days(today, 1)
        return self._at(next_day, self.office_time)

    def citizen_not_before(self, now: datetime) -> datetime | None:
        """None outside the night quiet hours; else the end of them."""
        local = now.astimezone(self.calculator.tz)
        clock = local.time()
        if clock >= self.quiet_start:
            return self._at(local.date() + timedelta(days=1), self.quiet_end)
        if clock < self.quiet_end:
            return self._at(local.date(), self.quiet_end)
        return None

    def is_office_time(self, now: datetime) -> bool:
        return self.staff_not_before(now) is None
