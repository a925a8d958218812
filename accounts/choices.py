from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("Administrator")
    VENDOR_MANAGER = "vendor_manager", _("Vendor manager")
    PROCUREMENT = "procurement", _("Procurement")
    COMMITTEE_MEMBER = "committee_member", _("Steering committee member")
    AUDITOR = "auditor", _("Auditor")
    VENDOR_USER = "vendor_user", _("Vendor user")
