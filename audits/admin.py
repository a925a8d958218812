from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from accounts.scoping import ScopedAdminMixin
from audits import permissions, services
from audits.choices import AuditStatus, FindingStatus
from audits.models import Audit, AuditRight, Finding
from config.admin import ReadOnlyInline, ServiceAdminMixin
from contracts.admin import add_contract_inline


class AuditRightInline(ReadOnlyInline):
    """The contract's audit clauses, added and changed on their own page (audits.services keeps why)."""

    model = AuditRight
    fields = ("clause_reference", "audits_per_year", "notice", "notice_unit", "cost_bearer")


add_contract_inline(AuditRightInline)


class AuditRightForm(forms.ModelForm):
    change_reason = forms.CharField(
        label=_("Reason for the change"),
        max_length=100,
        required=False,
        help_text=_("Required once audits were planned under the clause; kept in its history."),
    )

    class Meta:
        model = AuditRight
        fields = services.AUDIT_RIGHT_FIELDS


@admin.register(AuditRight)
class AuditRightAdmin(ServiceAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """An audit right is a contract term: administrators and whoever edits contract terms add and change
    it (audits.permissions.edits_audit_rights), through audits.services, which keeps who, when and why."""

    form = AuditRightForm
    list_display = ("contract", "clause_reference", "audits_per_year", "notice", "notice_unit", "cost_bearer")
    list_filter = ("cost_bearer", "notice_unit")
    search_fields = ("contract__reference", "clause_reference", "clause_text")
    list_select_related = ("contract",)
    add_fields = services.AUDIT_RIGHT_FIELDS

    def has_add_permission(self, request) -> bool:
        return permissions.edits_audit_rights(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return permissions.edits_audit_rights(request.user)

    def create_with_service(self, request, data: dict) -> AuditRight:
        return services.create_audit_right(**{name: data[name] for name in self.add_fields}, actor=request.user)

    def update_with_service(self, request, obj: AuditRight, data: dict) -> AuditRight:
        changes = {name: value for name, value in data.items() if name != "change_reason"}
        return services.change_audit_right(
            right=obj, changes=changes, reason=data.get("change_reason", ""), actor=request.user
        )


class FindingInline(ReadOnlyInline):
    model = Finding
    fields = ("number", "title", "severity", "status", "due_date", "owner", "vendor_contact", "description")


@admin.register(Audit)
class AuditAdmin(ServiceAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """Audits are planned within their audit right (audits.services.plan_audit); an administrator may
    allow one outside it with a reason. What the right checked, the fieldwork's dates and the status stay as
    planned (they change through the audit's actions); the rest is corrected by audits.services.update_audit."""

    list_display = ("reference", "audit_type", "audit_right", "status", "fieldwork_start", "cost_recoverable")
    list_filter = ("status", "audit_type", "auditor_kind", "cost_recoverable")
    search_fields = ("reference", "auditor_name", "audit_right__contract__reference")
    list_select_related = ("audit_right__contract",)
    date_hierarchy = "fieldwork_start"
    inlines = [FindingInline]
    add_fields = services.AUDIT_PLAN_INPUT_FIELDS
    service_fields = services.AUDIT_SERVICE_FIELDS

    def has_change_permission(self, request, obj=None) -> bool:
        final = obj is not None and obj.status in (AuditStatus.CLOSED, AuditStatus.CANCELLED)
        return not final and super().has_change_permission(request, obj)

    def create_with_service(self, request, data: dict) -> Audit:
        return services.plan_audit(**data, actor=request.user)

    def update_with_service(self, request, obj: Audit, data: dict) -> Audit:
        return services.update_audit(audit=obj, changes=data, actor=request.user)


@admin.register(Finding)
class FindingAdmin(ServiceAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """Findings are recorded by audits.services.record_finding (numbered, due after the clause's
    remediation days); their due date, plan and status change through the API's actions, and what they
    say through audits.services.update_finding (refused once settled)."""

    list_display = ("__str__", "severity", "status", "due_date", "owner")
    list_filter = ("severity", "status")
    search_fields = ("title", "description", "audit__reference")
    list_select_related = ("audit", "owner")
    date_hierarchy = "due_date"
    add_fields = services.FINDING_INPUT_FIELDS
    service_fields = services.FINDING_SERVICE_FIELDS

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        if (
            obj is not None and "vendor_contact" in form_class.base_fields
        ):  # the audited vendor's contacts only (Finding.clean)
            contacts = form_class.base_fields["vendor_contact"]
            contacts.queryset = contacts.queryset.filter(vendor_id=obj.audit.audit_right.contract.vendor_id)
        return form_class

    def has_change_permission(self, request, obj=None) -> bool:
        settled = obj is not None and obj.status in FindingStatus.settled_values()
        return not settled and super().has_change_permission(request, obj)

    def create_with_service(self, request, data: dict) -> Finding:
        return services.record_finding(**data, actor=request.user)

    def update_with_service(self, request, obj: Finding, data: dict) -> Finding:
        return services.update_finding(finding=obj, changes=data, actor=request.user)
