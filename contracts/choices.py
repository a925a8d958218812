from django.db import models
from django.utils.translation import gettext_lazy as _


class Currency(models.TextChoices):
    """ISO 4217 codes of the currencies BPO contracts are commonly written in."""

    EUR = "EUR", _("Euro")
    USD = "USD", _("US dollar")
    GBP = "GBP", _("Pound sterling")
    CHF = "CHF", _("Swiss franc")
    CAD = "CAD", _("Canadian dollar")
    MAD = "MAD", _("Moroccan dirham")
    TND = "TND", _("Tunisian dinar")
    INR = "INR", _("Indian rupee")
    PHP = "PHP", _("Philippine peso")
    PLN = "PLN", _("Polish złoty")
    RON = "RON", _("Romanian leu")
    ZAR = "ZAR", _("South African rand")


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    NOTICE_GIVEN = "notice_given", _("Notice given")
    EXPIRED = "expired", _("Expired")
    TERMINATED = "terminated", _("Terminated")


class RenewalType(models.TextChoices):
    NONE = "none", _("No renewal")
    TACIT = "tacit", _("Tacit (automatic unless notice is given)")
    EXPLICIT = "explicit", _("Explicit (renewed only by agreement)")


class PeriodUnit(models.TextChoices):
    DAYS = "days", _("Calendar days")
    BUSINESS_DAYS = "business_days", _("Business days")
    MONTHS = "months", _("Months")


class Channel(models.TextChoices):
    VOICE = "voice", _("Voice")
    CHAT = "chat", _("Chat")
    EMAIL = "email", _("E-mail")
    SOCIAL = "social", _("Social media")
    BACK_OFFICE = "back_office", _("Back office")


class CoverageDays(models.TextChoices):
    ALL_WEEK = "all_week", _("Every day")
    WEEKDAYS = "weekdays", _("Weekdays")
    WEEKENDS = "weekends", _("Weekends")


class RenewalDecisionKind(models.TextChoices):
    RENEW = "renew", _("Renew")
    GIVE_NOTICE = "give_notice", _("Give notice")
