from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AuditType(models.TextChoices):
    FINANCIAL = "financial", _("Financial / fees")
    SLA_DATA = "sla_data", _("SLA data")
    SECURITY = "security", _("Security")
    DATA_PROTECTION = "data_protection", _("Data protection")
    REGULATORY = "regulatory", _("Regulatory")
    OPERATIONAL = "operational", _("Operational")


class NoticeUnit(models.TextChoices):
    CALENDAR_DAYS = "calendar_days", _("Calendar days")
    BUSINESS_DAYS = "business_days", _("Business days")


class Auditor(models.TextChoices):
    CUSTOMER = "customer", _("Customer's own staff")
    THIRD_PARTY = "third_party", _("Independent third party")
    REGULATOR = "regulator", _("Regulator")


class CostBearer(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    VENDOR = "vendor", _("Vendor")
    SHARED = "shared", _("Shared")


class AuditStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    NOTIFIED = "notified", _("Notified")
    FIELDWORK = "fieldwork", _("Fieldwork")
    REPORTED = "reported", _("Reported")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", pgettext_lazy("audit status", "Cancelled")

    @classmethod
    def cancellable_values(cls) -> list[str]:
        """An audit is cancelled before its fieldwork starts."""
        return [cls.PLANNED, cls.NOTIFIED]

    @classmethod
    def reschedulable_values(cls) -> list[str]:
        """An audit's fieldwork moves to other dates until it starts."""
        return [cls.PLANNED, cls.NOTIFIED]

    @classmethod
    def reclassifiable_values(cls) -> list[str]:
        """Whether an audit is held for cause is decided until its report (not once cancelled)."""
        return [cls.PLANNED, cls.NOTIFIED, cls.FIELDWORK]


class Severity(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class FindingStatus(models.TextChoices):
    OPEN = "open", _("Open")
    REMEDIATION_PLANNED = "remediation_planned", _("Remediation planned")
    REMEDIATED = "remediated", _("Remediated")
    VERIFIED = "verified", _("Verified")
    RISK_ACCEPTED = "risk_accepted", _("Risk accepted")

    @classmethod
    def settled_values(cls) -> list[str]:
        return [cls.VERIFIED, cls.RISK_ACCEPTED]
