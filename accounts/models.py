from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from accounts.roles import role_allows, role_has_app


class User(AbstractUser):
    """A person who signs in: client staff in one of the internal roles, or a vendor's employee.

    A vendor user belongs to exactly one vendor and sees only that vendor's data; internal users
    belong to no vendor.
    """

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VENDOR_MANAGER)
    vendor = models.ForeignKey(
        "contracts.Vendor",
        verbose_name=_("vendor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        help_text=_("Only for vendor users: the BPO provider this person works for."),
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Interface language; empty follows the browser."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                name="user_vendor_iff_vendor_user",
                condition=(Q(role=Role.VENDOR_USER) & Q(vendor__isnull=False))
                | (~Q(role=Role.VENDOR_USER) & Q(vendor__isnull=True)),
                violation_error_message=_("A vendor user needs a vendor; other roles have none."),
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def has_perm(self, perm, obj=None) -> bool:
        if self.is_active and self.role == Role.ADMINISTRATOR:
            return True
        return super().has_perm(perm, obj) or (self.is_active and role_allows(self.role, perm))

    def has_module_perms(self, app_label) -> bool:
        if self.is_active and self.role == Role.ADMINISTRATOR:
            return True
        return super().has_module_perms(app_label) or (self.is_active and role_has_app(self.role, app_label))

    @property
    def is_vendor_user(self) -> bool:
        return self.role == Role.VENDOR_USER
