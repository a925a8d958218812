"""Reads of notifications for the home page."""

from django.db.models import QuerySet

from notifications.models import Notification

HOME_PAGE_LIMIT = 20


def unread_notifications(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user, read_at__isnull=True).order_by("-created_at", "-id")


def recent_notifications(*, user, limit: int = HOME_PAGE_LIMIT) -> list[Notification]:
    return list(Notification.objects.filter(user=user).order_by("-created_at", "-id")[:limit])
