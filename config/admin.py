"""What the back-office pages of rows with business rules share: their writes go through the domain's
services, as the API's and the web pages' do, and a service's refusal is shown on the form."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse


def show_refusal(form: forms.BaseForm, error: ValidationError) -> None:
    """A service's refusal on the form: under the field it names when the form has it, else on top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class ReadOnlyInline(admin.TabularInline):
    """Rows shown on their parent's page as recorded; each is added and changed on its own page."""

    extra = 0
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyHistoryMixin:
    """A SimpleHistoryAdmin whose past versions are shown but never restored, to those who may see the
    row now (simple-history would otherwise show any row's history, falling back to its last version
    when the admin's scoped queryset does not hold it)."""

    def revert_disabled(self, request, obj=None) -> bool:
        return True

    def history_view(self, request, object_id, extra_context=None):
        self._refuse_rows_out_of_sight(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        self._refuse_rows_out_of_sight(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def _refuse_rows_out_of_sight(self, request, object_id) -> None:
        """404 for a row outside the user's scope; a deleted row's history is for superusers only."""
        pk = unquote(object_id)
        if self.get_queryset(request).filter(pk=pk).exists():
            return
        if self.model._default_manager.filter(pk=pk).exists() or not request.user.is_superuser:
            raise Http404

    def save_model(self, request, obj, form, change) -> None:
        """A change form saved as it was writes no history row (simple-history records every save)."""
        if not change or form.has_changed() or hasattr(obj, "skip_history_when_saving"):
            super().save_model(request, obj, form, change)
            return
        obj.skip_history_when_saving = True
        try:
            super().save_model(request, obj, form, change)
        finally:
            del obj.skip_history_when_saving

    def render_history_view(self, request, template, context, **kwargs):
        """A record saved without a reason shows no reason, not the word "None"."""
        for record in context.get("page_obj") or ():
            if record.history_change_reason is None:
                record.history_change_reason = ""
        return super().render_history_view(request, template, context, **kwargs)


class ViewOnlyAdminMixin(ReadOnlyHistoryMixin):
    """The back-office page of rows only the domain's services write (a close, an import, a transition):
    shown as recorded, never added, changed, deleted or restored here. `view_on_site` names the web page
    where people act on them."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ServiceAdminMixin(ReadOnlyHistoryMixin):
    """The back-office page of a model whose rows a domain service creates.

    - Add: the page shows `add_fields`; once they are valid, `create_with_service(request, data)` creates
      the row (the service validates it as a whole). A refusal is shown on the form; nothing is written.
    - Change: the fields the services own (`service_fields`) are read-only; they change through the web
      pages and the API actions that call the services. Where a change has rules of its own,
      `update_with_service(request, obj, data)` saves it the way an add is saved.
    - History: past versions are shown, never restored (a restore would write every field).
    """

    add_fields: tuple[str, ...] = ()
    service_fields: tuple[str, ...] = ()
    update_with_service: Callable | None = None

    def create_with_service(self, request, data: dict) -> models.Model:
        raise NotImplementedError(f"{type(self).__name__} does not say which service creates its rows")

    def get_fields(self, request, obj=None):
        return self.add_fields if obj is None else super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        return readonly if obj is None else (*readonly, *self.service_fields)

    def get_inlines(self, request, obj):
        """No inline on the add page: the service creates the row alone."""
        return super().get_inlines(request, obj) if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and self.update_with_service is None:
            return form_class
        model_admin = self

        class ServiceForm(form_class):
            def _post_clean(self):
                """The service validates and saves the row, in the admin's transaction, instead of the
                model form; the page then only records and shows what the service wrote."""
                if self._errors:
                    return
                try:
                    if obj is None:
                        self.instance = model_admin.create_with_service(request, self.cleaned_data)
                    else:
                        self.instance = model_admin.update_with_service(request, self.instance, self.cleaned_data)
                except ValidationError as error:
                    show_refusal(self, error)

        return ServiceForm

    def save_model(self, request, obj, form, change) -> None:
        if change and self.update_with_service is None:
            super().save_model(request, obj, form, change)


def delete_selected_unless_refused(modeladmin, request, queryset):
    """Django's "delete selected", refused (naming each row and why) when any row refuses its deletion."""
    refusals = [(row, refusal) for row in queryset if (refusal := row.deletion_refusal())]
    for row, refusal in refusals:
        modeladmin.message_user(request, f"{row}: {refusal}", messages.ERROR)
    return None if refusals else delete_selected(modeladmin, request, queryset)


class DeletionRefusalAdminMixin:
    """The page of rows whose model says why a row may not be deleted (``deletion_refusal()``: e.g. terms or
    charges of an approved month): the deletion is refused with that reason, on the row's page and in the
    list's "delete selected" action."""

    def delete_view(self, request, object_id, extra_context=None):
        row = self.get_object(request, unquote(object_id))
        if row is not None and self.has_delete_permission(request, row) and (refusal := row.deletion_refusal()):
            self.message_user(request, refusal, messages.ERROR)
            opts = self.opts
            return HttpResponseRedirect(
                reverse(
                    f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk], current_app=self.admin_site.name
                )
            )
        return super().delete_view(request, object_id, extra_context)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            _function, name, description = actions["delete_selected"]
            actions["delete_selected"] = (delete_selected_unless_refused, name, description)
        return actions
