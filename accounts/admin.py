from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "role", "vendor", "is_active")
    list_filter = ("role", "vendor", "is_active", "is_staff")
    search_fields = ("username", "email", "first_name", "last_name")
    list_select_related = ("vendor",)
    autocomplete_fields = ("vendor",)
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Role"), {"fields": ("role", "vendor", "language")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Role"), {"fields": ("email", "role", "vendor")}),
    )
