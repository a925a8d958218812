from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from accounts.scoping import ScopedAdminMixin
from audits.models import Audit, AuditRight, Finding
from contracts.admin import add_contract_inline


class AuditRightInline(admin.TabularInline):
    model = AuditRight
    extra = 0
    fields = ("clause_reference", "audits_per_year", "notice", "notice_unit", "cost_bearer")
    show_change_link = True


add_contract_inline(AuditRightInline)


@admin.register(AuditRight)
class AuditRightAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ("contract", "clause_reference", "audits_per_year", "notice", "notice_unit", "cost_bearer")
    list_filter = ("cost_bearer", "notice_unit")
    search_fields = ("contract__reference", "clause_reference", "clause_text")
    list_select_related = ("contract",)


class FindingInline(admin.StackedInline):
    model = Finding
    extra = 0
    fields = ("number", "title", "severity", "status", "due_date", "owner", "vendor_contact", "description")


@admin.register(Audit)
class AuditAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ("reference", "audit_type", "audit_right", "status", "fieldwork_start", "cost_recoverable")
    list_filter = ("status", "audit_type", "auditor_kind", "cost_recoverable")
    search_fields = ("reference", "auditor_name", "audit_right__contract__reference")
    list_select_related = ("audit_right__contract",)
    date_hierarchy = "fieldwork_start"
    inlines = [FindingInline]


@admin.register(Finding)
class FindingAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ("__str__", "severity", "status", "due_date", "owner")
    list_filter = ("severity", "status")
    search_fields = ("title", "description", "audit__reference")
    list_select_related = ("audit", "owner")
    date_hierarchy = "due_date"
