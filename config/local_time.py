"""Wall-clock times typed in the app's time zone (Europe/Paris for the demo), made aware explicitly.

A local time without an offset is refused where the time zone makes it wrong, instead of being shifted:
- in the spring gap (02:30 on 29 March 2026 in Paris) the time does not exist: the clocks go forward;
- in the autumn overlap (02:30 on 25 October 2026) it occurs twice: the clocks go back. It is refused
  rather than guessed; the API takes the time with its UTC offset (``2026-10-25T02:30:00+02:00`` is the
  first, ``+01:00`` the second), which names one instant.

Django's own form fields refuse both with one vague message and DRF's field shifts a time in the gap by the
offset change; these fields say which case it is, under the field.
"""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.forms.fields import BaseTemporalField
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from config.formats import long_date


def aware_local_time(value: datetime.datetime) -> datetime.datetime:
    """``value`` (naive, a wall-clock time in the current time zone) as an aware datetime; ValidationError
    when that time does not exist on that day or occurs twice."""
    zone = timezone.get_current_timezone()
    first, second = value.replace(tzinfo=zone, fold=0), value.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    params = {"time": value.strftime("%H:%M"), "day": long_date(value.date()), "zone": str(zone)}
    if first.astimezone(datetime.UTC).astimezone(zone).replace(tzinfo=None) != value:
        raise ValidationError(
            _(
                "%(time)s does not exist on %(day)s in %(zone)s: the clocks go forward that night (summer time). "
                "Choose another time."
            )
            % params,
            code="nonexistent_time",
        )
    raise ValidationError(
        _(
            "%(time)s occurs twice on %(day)s in %(zone)s: the clocks go back that night (end of summer time). "
            "Choose another time."
        )
        % params,
        code="ambiguous_time",
    )


class LocalDateTimeField(forms.DateTimeField):
    """A form's date and time in the current time zone, refused when it does not exist or occurs twice."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.datetime):
            return value if timezone.is_aware(value) else aware_local_time(value)
        return aware_local_time(BaseTemporalField.to_python(self, value))


class LocalSplitDateTimeField(forms.SplitDateTimeField):
    """The back office's date and time inputs, with the same refusals as LocalDateTimeField."""

    def compress(self, data_list):
        if data_list and data_list[0] not in self.empty_values and data_list[1] not in self.empty_values:
            return aware_local_time(datetime.datetime.combine(*data_list))
        return super().compress(data_list)


class LocalDateTimeSerializerField(serializers.DateTimeField):
    """The API's date and time: with a UTC offset it is that instant; without one it is a wall-clock time in
    the current time zone, refused when it does not exist or occurs twice."""

    def enforce_timezone(self, value):
        if timezone.is_naive(value) and self.default_timezone() is not None:
            try:
                return aware_local_time(value)
            except ValidationError as error:
                raise serializers.ValidationError(error.messages) from error
        return super().enforce_timezone(value)
