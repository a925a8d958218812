from django import forms
from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from accounts.scoping import ScopedAdminMixin
from config.admin import DeletionRefusalAdminMixin, ReadOnlyHistoryMixin
from contracts.models import (
    Amendment,
    Contract,
    ContractScope,
    MonthlyCharge,
    Vendor,
    VendorContact,
    VendorSite,
)
from contracts.months import month_label
from contracts.services import contract_edit_errors


class VendorSiteInline(admin.TabularInline):
    model = VendorSite
    extra = 0


class VendorContactInline(admin.TabularInline):
    model = VendorContact
    extra = 0


@admin.register(Vendor)
class VendorAdmin(ReadOnlyHistoryMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ("name", "country", "is_active", "created_at")
    list_filter = ("is_active", "country")
    search_fields = ("name", "legal_name", "registration_number")
    inlines = [VendorSiteInline, VendorContactInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(VendorSite)
class VendorSiteAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "vendor", "city", "country", "seats")
    list_filter = ("country", "vendor")
    search_fields = ("name", "city", "vendor__name")
    list_select_related = ("vendor",)


@admin.register(VendorContact)
class VendorContactAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "vendor", "job_title", "email")
    list_filter = ("vendor",)
    search_fields = ("name", "email", "vendor__name")
    list_select_related = ("vendor",)


class ContractScopeInline(admin.TabularInline):
    model = ContractScope
    extra = 0


class AmendmentInline(admin.TabularInline):
    model = Amendment
    extra = 0
    fields = ("number", "title", "signed_on", "effective_from", "document_reference")


class ContractAdminForm(forms.ModelForm):
    """Edits keep to the rules the API applies (contracts.services.contract_edit_errors): the end of
    the term and the notice move only with a recorded decision (the contract page's renew and
    give-notice buttons), other status changes follow STATUS_CHANGES, the vendor and currency are
    fixed once the contract runs, and its renewal and notice clauses change with a reason."""

    change_reason = forms.CharField(
        label=_("Reason for the change"),
        max_length=100,
        required=False,
        help_text=_(
            "Required to change the renewal or notice clauses of a contract that runs or ran (e.g. the amendment "
            "that changes them); kept in its history."
        ),
    )

    class Meta:
        model = Contract
        fields = "__all__"  # noqa: DJ007  (the admin's own fieldsets choose what is shown)

    def clean(self):
        cleaned = super().clean()
        # The instance still holds the stored values here (None when adding).
        stored = self.instance if self.instance.pk is not None else None
        values = {name: value for name, value in cleaned.items() if name != "change_reason"}
        for field, messages in contract_edit_errors(stored, values, reason=cleaned.get("change_reason", "")).items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
        return cleaned


@admin.register(Contract)
class ContractAdmin(ReadOnlyHistoryMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """The contract page; the apps built on contracts add their inlines with add_contract_inline. Past
    versions are shown, never restored: a restore would write an old row's every field at once (its
    status and end of term too, behind the renewal decisions' back)."""

    form = ContractAdminForm

    list_display = ("reference", "title", "vendor", "owner", "status", "currency", "start_date", "end_date")
    list_filter = ("status", "currency", "renewal_type", "vendor")
    search_fields = ("reference", "title", "vendor__name")
    list_select_related = ("vendor", "owner")
    autocomplete_fields = ("vendor", "owner")
    filter_horizontal = ("auditors",)
    date_hierarchy = "start_date"
    inlines = [ContractScopeInline, AmendmentInline]

    def save_model(self, request, obj, form, change) -> None:
        if reason := form.cleaned_data.get("change_reason", "").strip():
            obj._change_reason = reason
        super().save_model(request, obj, form, change)


@admin.register(ContractScope)
class ContractScopeAdmin(ReadOnlyHistoryMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ("contract", "channel", "languages", "coverage_days", "volume_share_pct")
    list_filter = ("channel", "coverage_days")
    search_fields = ("contract__reference", "languages")
    list_select_related = ("contract",)


@admin.display(description=_("month"), ordering="month")
def month_column(obj) -> str:
    """A list's month as it is written everywhere else ("2026-01"), not as the first day it is stored as."""
    return month_label(obj.month)


@admin.register(MonthlyCharge)
class MonthlyChargeAdmin(DeletionRefusalAdminMixin, ReadOnlyHistoryMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """Charges of a month whose statement is approved or invoiced are neither changed nor deleted here."""

    list_display = ("contract", month_column, "amount", "currency")
    list_filter = ("currency", "contract__vendor")
    search_fields = ("contract__reference",)
    list_select_related = ("contract",)
    date_hierarchy = "month"


@admin.register(Amendment)
class AmendmentAdmin(ReadOnlyHistoryMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ("contract", "number", "title", "signed_on", "effective_from")
    list_filter = ("contract__vendor",)
    search_fields = ("contract__reference", "title", "summary")
    list_select_related = ("contract",)


def add_contract_inline(inline: type[admin.options.InlineModelAdmin]) -> None:
    """Let an app that depends on contracts show its rows inside the contract's page."""
    ContractAdmin.inlines = [*ContractAdmin.inlines, inline]
