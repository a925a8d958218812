"""Notifications: one row per user and due item (its key), e-mailed once and shown on the home page."""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from notifications.choices import NotificationKind


class Notification(models.Model):
    """Something a user must know or do. The (user, key) pair is unique, so the daily job records
    each item once however often it runs; ``emailed_at`` is claimed before the e-mail goes out."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    key = models.CharField(
        _("key"), max_length=200, help_text=_("What the notice is about, e.g. action_overdue:12:2025-02-14.")
    )
    kind = models.CharField(_("kind"), max_length=30, choices=NotificationKind.choices)
    subject = models.CharField(_("subject"), max_length=250)
    body = models.TextField(_("body"))
    link = models.URLField(_("link"), max_length=500)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_user_key"),
        ]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_unread_idx"),
            models.Index(fields=["emailed_at"], name="notification_unsent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.subject}"


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A user's secret calendar-feed address: calendar apps cannot sign in, so the token is the key."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(_("token"), max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"
