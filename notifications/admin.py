from django.contrib import admin
from django.db import models

from notifications.models import CalendarFeed, Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "subject", "created_at", "emailed_at", "read_at")
    list_filter = ("kind",)
    search_fields = ("subject", "key", "user__username")
    list_select_related = ("user",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ("user", "created_at")
    list_filter = ("user__role",)
    search_fields = ("user__username", "user__email")
    list_select_related = ("user",)
    readonly_fields = ("token",)
