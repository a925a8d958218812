"""The per-user calendar feed. Calendar apps cannot sign in, so the secret token in the address
authenticates; an unknown token or an inactive user gets 404 (nothing tells them apart)."""

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils import timezone, translation
from django.views.decorators.http import require_GET

from notifications.calendar_feed import user_events
from notifications.ical import calendar
from notifications.models import CalendarFeed


@require_GET
def calendar_feed(request, token: str) -> HttpResponse:
    feed = CalendarFeed.objects.select_related("user").filter(token=token, user__is_active=True).first()
    if feed is None:
        raise Http404
    with translation.override(feed.user.language or settings.LANGUAGE_CODE):
        body = calendar(user_events(feed.user), name=f"BPO tracker – {feed.user}", stamp=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="bpo-tracker.ics"'
    response["Cache-Control"] = "private, max-age=900"
    return response
