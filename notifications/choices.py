from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    STATEMENT_IN_REVIEW = "statement_in_review", _("Statement ready for review")
    STATEMENT_DISPUTED = "statement_disputed", _("Statement disputed")
    STATEMENT_APPROVED = "statement_approved", _("Statement approved")
    DISPUTE_RESOLVED = "dispute_resolved", _("Dispute resolved")
    KPI_DATA_MISSING = "kpi_data_missing", _("KPI data missing")
    CLOSE_REFUSED = "close_refused", _("Statement not computed")
    WAIVER_WITHDRAWN = "waiver_withdrawn", _("Waiver withdrawn by a recomputation")
    ACTION_DUE_SOON = "action_due_soon", _("Action item due soon")
    ACTION_OVERDUE = "action_overdue", _("Action item overdue")
    MEETING_OVERDUE = "meeting_overdue", _("Meeting overdue against cadence")
    AUDIT_NOTICE_TO_SEND = "audit_notice_to_send", _("Audit notice to send")
    FINDING_REMEDIATION_DUE = "finding_remediation_due", _("Finding remediation due")
    NOTICE_DEADLINE = "notice_deadline", _("Contract notice deadline")
