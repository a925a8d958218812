from django.contrib import admin

from notifications.models import CalendarFeed, Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "subject", "created_at", "emailed_at", "read_at")
    list_filter = ("kind",)
    search_fields = ("subject", "key", "user__username")
    list_select_related = ("user",)


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ("user", "created_at")
    list_select_related = ("user",)
    readonly_fields = ("token",)
