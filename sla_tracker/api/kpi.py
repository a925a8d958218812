"""REST endpoints of KPI data logging: KPI pack uploads (preview, then import), bulk measurements, and
corrections of months whose statement is approved."""

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.scoping import visible_contracts
from config.api import PlainDecimalField, ScopedViewSetMixin, refuse_unknown_fields
from config.parsers import JSONParser
from contracts.models import Contract
from sla_tracker import filtersets
from sla_tracker.choices import MeasurementSource, UploadStatus
from sla_tracker.kpi_import.access import (
    contract_for_kpi_entry,
    contracts_for_kpi_correction,
    contracts_for_kpi_entry,
    may_not_log,
)
from sla_tracker.kpi_import.readers import UnreadableFile
from sla_tracker.kpi_import.reasons import readable_errors, readable_reason
from sla_tracker.kpi_import.service import (
    CORRECTION_REASON_MAX_LENGTH,
    KpiDataRejected,
    check_may_import,
    import_upload,
    preview_upload,
    retry_import,
    save_measurements,
)
from sla_tracker.kpi_import.tasks import ASYNC_ROW_THRESHOLD, queue_import, refused_import
from sla_tracker.kpi_import.validation import KpiValue
from sla_tracker.models import KpiUpload

# A rejected pack or bulk input: every bad row or item, each with where it is and what is wrong.
INVALID_ROWS = "invalid_rows"
CONTRACT_PARAMETER = OpenApiParameter("contract_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="Contract id")
UPLOAD_PARAMETER = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Upload id")


class FileErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="Row number in the file (header row = 1).")
    column = serializers.CharField(allow_null=True)
    value = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class FileErrorsSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=[INVALID_ROWS])
    errors = FileErrorSerializer(many=True)
    error_count = serializers.IntegerField(help_text="All errors found; `errors` lists the first thousand.")


class KpiUploadInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV (`,` or `;`, UTF-8) or .xlsx KPI pack.")
    mapping_name = serializers.CharField(required=False, help_text="Name of a saved column mapping.")
    mapping = serializers.JSONField(
        required=False,
        binary=True,
        help_text=(
            '{"date_column": "Date", "columns": {"Appels reçus": "offered", "Commentaire": null}, "name": "…"}; '
            'add "time_column": "Heure" for an interval file whose time of day has its own column.'
        ),
    )
    correction_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=CORRECTION_REASON_MAX_LENGTH,
        help_text=(
            "Only when the file corrects months whose penalty statement is approved or invoiced (the contract's "
            "vendor manager or an administrator): those statements stay as they are, and the differences in "
            "credits are carried into the next open statement as adjustments. Kept with the upload and each change."
        ),
    )


class KpiUploadSerializer(serializers.ModelSerializer):
    """An upload, its errors and its mapping step's question in the reader's language (stored in none)."""

    progress_pct = serializers.SerializerMethodField()
    errors = serializers.SerializerMethodField()
    preview = serializers.SerializerMethodField()

    class Meta:
        model = KpiUpload
        fields = [
            "id",
            "contract",
            "original_name",
            "sha256",
            "size_bytes",
            "status",
            "rows_total",
            "rows_done",
            "progress_pct",
            "error_count",
            "errors",
            "preview",
            "mapping",
            "correction_reason",
            "created_at",
            "imported_at",
            "retried_at",
        ]
        read_only_fields = fields

    def get_progress_pct(self, upload: KpiUpload) -> int:
        if upload.status == UploadStatus.IMPORTED:
            return 100
        return upload.rows_done * 100 // upload.rows_total if upload.rows_total else 0

    @extend_schema_field(FileErrorSerializer(many=True))
    def get_errors(self, upload: KpiUpload) -> list[dict]:
        return readable_errors(upload.errors)

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_preview(self, upload: KpiUpload) -> dict:
        if "mapping_needed" not in upload.preview:
            return upload.preview
        return {**upload.preview, "mapping_needed": readable_reason(upload.preview["mapping_needed"])}


class KpiUploadViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """KPI packs of one contract: upload to get the validation report, then confirm the import; the list finds
    the uploads waiting for their import, or failed, again."""

    serializer_class = KpiUploadSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    queryset = KpiUpload.objects.none()
    filterset_class = filtersets.KpiUploadFilterSet
    ordering = ["-created_at", "-id"]
    # Who logs the contract's data (kpi_import.access) works on its uploads, not who holds a model permission:
    # a vendor's users hold none.
    permission_classes = [IsAuthenticated]

    def get_contract(self):
        return get_object_or_404(contracts_for_kpi_entry(self.request.user), pk=self.kwargs["contract_pk"])

    def contract_to_log(self):
        """The contract of a new upload: 404 if the user cannot see it, 403 saying they may not log its data if
        they see it but do not log it."""
        try:
            return contract_for_kpi_entry(self.request.user, self.kwargs["contract_pk"])
        except Contract.DoesNotExist:
            raise exceptions.NotFound from None
        except PermissionDenied as refused:
            raise exceptions.PermissionDenied(str(refused)) from refused

    def get_queryset(self):
        """The uploads of the contract of the path, if the user logs its data (the contract's scope, so a
        vendor's users see their vendor's uploads only)."""
        contracts = contracts_for_kpi_entry(self.request.user).filter(pk=self.kwargs.get("contract_pk"))
        return KpiUpload.objects.filter(contract__in=contracts).select_related("contract")

    @extend_schema(
        summary="The contract's uploads, newest first (e.g. `?status=validated` or `?status=failed`)",
        description=(
            "Finds an upload whose id was lost: one validated and waiting for its import, one still importing, "
            "or one whose import failed (to retry it). A pack refused is not stored and is not listed."
        ),
        parameters=[CONTRACT_PARAMETER],
    )
    def list(self, request, *args, **kwargs):
        self.get_contract()  # a contract the user does not log data for is a 404, as for its uploads
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Upload a KPI pack and get its validation report (nothing is written yet)",
        description=(
            "A valid pack is stored, validated, for its import. A pack with errors (bad rows, an unreadable "
            "file, columns the mapping cannot read: send a `mapping` with the file) is a 400 listing every "
            "error with its row and column, and nothing is stored."
        ),
        parameters=[CONTRACT_PARAMETER],
        request={"multipart/form-data": KpiUploadInputSerializer},
        responses={201: KpiUploadSerializer, 400: FileErrorsSerializer},
    )
    def create(self, request, *args, **kwargs):
        contract = self.contract_to_log()
        form = KpiUploadInputSerializer(data=request.data)
        refuse_unknown_fields(request.data, form.fields)  # a misspelt mapping_name would upload with a guess
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            upload = preview_upload(
                contract=contract,
                file=data["file"],
                actor=request.user,
                original_name=data["file"].name,
                mapping_name=data.get("mapping_name"),
                mapping=data.get("mapping"),
                correction_reason=data.get("correction_reason", ""),
            )
        except PermissionDenied as refused:
            raise exceptions.PermissionDenied(str(refused)) from refused
        except KpiDataRejected as rejected:
            return _rows_refused(rejected.stored_errors(), rejected.error_count)
        except UnreadableFile as error:
            return _file_errors(error.message)
        except ValidationError as error:
            return _file_errors(*error.messages)
        return Response(KpiUploadSerializer(upload).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="An upload: its status, validation report and import progress",
        description=(
            "An upload whose import in the background was refused is removed with its file: for a day, its "
            "address then answers 410 with the errors."
        ),
        parameters=[CONTRACT_PARAMETER, UPLOAD_PARAMETER],
        responses={200: KpiUploadSerializer, 410: FileErrorsSerializer},
    )
    def retrieve(self, request, *args, **kwargs):
        try:
            return super().retrieve(request, *args, **kwargs)
        except Http404:
            upload_id = str(kwargs["pk"])
            refusal = refused_import(int(upload_id)) if upload_id.isascii() and upload_id.isdigit() else None
            if refusal is None or refusal["contract"] != self.get_contract().pk:
                raise
        return _rows_refused(refusal["errors"], refusal["error_count"], code=status.HTTP_410_GONE)

    @extend_schema(
        summary="Import a validated upload (large ones run in the background: follow the upload's progress)",
        description=(
            "The values are checked again (a statement may have been approved since the upload). A refused "
            "import writes nothing and removes the upload with its file: a 400 with the errors, or, in the "
            "background, a 410 with them on the upload's address."
        ),
        parameters=[CONTRACT_PARAMETER, UPLOAD_PARAMETER],
        request=None,
        responses={200: KpiUploadSerializer, 202: KpiUploadSerializer, 400: FileErrorsSerializer},
    )
    @action(detail=True, methods=["post"], url_path="import")
    def import_data(self, request, *args, **kwargs):
        upload = self.get_object()
        if upload.status == UploadStatus.IMPORTED:
            return Response(KpiUploadSerializer(upload).data)
        if upload.status != UploadStatus.VALIDATED:
            return _file_errors(_("Only a validated upload can be imported; upload a corrected file."))
        try:
            check_may_import(upload, request.user)
        except PermissionDenied as refused:
            raise exceptions.PermissionDenied(str(refused)) from refused
        return _import(upload, request.user)

    @extend_schema(
        summary="Retry a failed import (large ones run in the background: follow the upload's progress)",
        description=(
            "For an upload whose import failed for a reason other than its file (status `failed`: a database "
            "or server error; nothing was written). The stored file is checked again as a new upload of it "
            "would be, against the contract's data as it is now, then imported as by `…/import/`; the upload "
            "records who retried it and when. Refused now, the upload is removed with its file: a 400 with the "
            "errors. An upload that did not fail is a 400 saying its status."
        ),
        parameters=[CONTRACT_PARAMETER, UPLOAD_PARAMETER],
        request=None,
        responses={200: KpiUploadSerializer, 202: KpiUploadSerializer, 400: FileErrorsSerializer},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, *args, **kwargs):
        upload = self.get_object()
        try:
            upload = retry_import(upload=upload, actor=request.user)
        except PermissionDenied as refused:
            raise exceptions.PermissionDenied(str(refused)) from refused
        except KpiDataRejected as rejected:
            return _rows_refused(rejected.stored_errors(), rejected.error_count)
        except ValidationError as error:
            return _file_errors(*error.messages)
        return _import(upload, request.user)


def _import(upload: KpiUpload, user) -> Response:
    """Import a validated upload now (200), or a large one as the Celery task (202); a refusal is a 400."""
    if upload.rows_total > ASYNC_ROW_THRESHOLD:
        queue_import(upload, user)
        return Response(KpiUploadSerializer(upload).data, status=status.HTTP_202_ACCEPTED)
    try:
        import_upload(upload=upload, actor=user)
    except KpiDataRejected as rejected:
        return _rows_refused(rejected.stored_errors(), rejected.error_count)
    except ValidationError as error:
        return _file_errors(*error.messages)
    return Response(KpiUploadSerializer(upload).data)


def _rows_refused(errors: list[dict], error_count: int, *, code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    """A refused pack's errors (as stored) in the reader's language, each with its row and column."""
    return Response({"type": INVALID_ROWS, "errors": readable_errors(errors), "error_count": error_count}, status=code)


def _file_errors(*messages) -> Response:
    errors = [{"row": None, "column": None, "value": None, "message": str(message)} for message in messages]
    return Response(
        {"type": INVALID_ROWS, "errors": errors, "error_count": len(errors)}, status=status.HTTP_400_BAD_REQUEST
    )


class MeasurementItemSerializer(serializers.Serializer):
    """Documents one item; the items are checked by the same validation as files."""

    contract = serializers.CharField(help_text="Contract id or reference.")
    counter = serializers.CharField(help_text="Counter code, e.g. answered_within_20s.")
    date = serializers.DateField(required=False, help_text="The day (YYYY-MM-DD); or give `month`.")
    month = serializers.CharField(required=False, help_text="A whole-month value: YYYY-MM.")
    value = serializers.DecimalField(
        max_digits=20,
        decimal_places=4,
        allow_null=True,
        help_text='A JSON number or a decimal string with "." ("1234.5", no thousands separator); null deletes.',
    )


class ItemErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(
        allow_null=True, help_text="The item's position in `values` (from 0); null for an error of the whole body."
    )
    field = serializers.CharField(allow_null=True, help_text="The item's (or the body's) field; null for the whole.")
    message = serializers.CharField()


class ItemErrorsSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=[INVALID_ROWS])
    errors = ItemErrorSerializer(many=True)


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    deleted = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class MeasurementBulkViewSet(viewsets.ViewSet):
    """KPI values sent by systems: all items are stored, or none."""

    @extend_schema(
        summary="Store KPI values (all or nothing)",
        request=MeasurementItemSerializer(many=True),
        responses={200: BulkResultSerializer, 400: ItemErrorsSerializer},
    )
    def create(self, request):
        items = request.data
        if not isinstance(items, list) or not items:
            return _item_errors([(None, None, _("Send a non-empty JSON list of values."))])
        return _store(items, request.user, contracts_for_kpi_entry(request.user), refusal=may_not_log)


class MeasurementCorrectionSerializer(serializers.Serializer):
    """Documents a correction; its values are checked by the same validation as files."""

    reason = serializers.CharField(help_text="Why the data of months with an approved statement is corrected.")
    values = MeasurementItemSerializer(many=True)


class MeasurementCorrectionViewSet(viewsets.ViewSet):
    """Corrections of KPI values, including months whose statement is approved or invoiced."""

    @extend_schema(
        summary="Correct KPI values, approved months included (all or nothing)",
        description=(
            "As the bulk endpoint, with a reason, and months whose penalty statement is approved or invoiced "
            "accepted: those statements stay as they are; each corrected month is recomputed at once and the "
            "difference in its credits is carried into the contract's next open statement as an adjustment "
            "(or waits for one). The reason is kept with every changed value and on each corrected statement's "
            "history. For the contract's vendor manager and administrators; the vendor's own users contest a "
            "figure through a dispute instead."
        ),
        request=MeasurementCorrectionSerializer,
        responses={200: BulkResultSerializer, 400: ItemErrorsSerializer},
    )
    def create(self, request):
        contracts = contracts_for_kpi_correction(request.user)
        if not contracts.exists():
            raise exceptions.PermissionDenied(
                _("Only the contract's vendor manager or an administrator corrects approved months.")
            )
        body = request.data
        if not isinstance(body, dict):
            return _item_errors([(None, None, _("Send a JSON object with “reason” and “values”."))])
        if unknown := sorted(str(key) for key in body if key not in ("reason", "values")):
            return _item_errors(
                [
                    (None, key, format_lazy(_("Unknown field “{field}”: the fields are reason, values."), field=key))
                    for key in unknown
                ]
            )
        reason, items = body.get("reason"), body.get("values")
        errors = []
        if not isinstance(reason, str) or not reason.strip():
            errors.append((None, "reason", _("Give the reason for the correction.")))
        elif "\x00" in reason:
            errors.append((None, "reason", ProhibitNullCharactersValidator.message))
        elif len(reason.strip()) > CORRECTION_REASON_MAX_LENGTH:
            message = _("Keep the reason to at most %(max)d characters.") % {"max": CORRECTION_REASON_MAX_LENGTH}
            errors.append((None, "reason", message))
        if not isinstance(items, list) or not items:
            errors.append((None, "values", _("Send a non-empty JSON list of values.")))
        if errors:
            return _item_errors(errors)
        return _store(items, request.user, contracts, refusal=_may_not_correct, correction_reason=reason)


def _may_not_correct(contract: Contract) -> str:
    return _("Only the contract's vendor manager or an administrator corrects approved months.")


def _store(items: list, user, contracts, *, refusal, correction_reason: str = "") -> Response:
    """Save the items of each contract (among ``contracts``), all or nothing over every contract. An item of a
    contract ``user`` sees but that is not among ``contracts`` is refused with ``refusal(contract)``; one of a
    contract they cannot see, as unknown."""
    by_contract, errors = _group_by_contract(items, user, contracts, refusal)
    totals = {"created": 0, "updated": 0, "deleted": 0, "unchanged": 0}
    try:
        with transaction.atomic():
            for contract, values in by_contract.values():
                try:
                    result = save_measurements(
                        contract=contract,
                        values=values,
                        source=MeasurementSource.API,
                        actor=user,
                        per_item=True,
                        correction_reason=correction_reason,
                    )
                except KpiDataRejected as rejected:
                    errors += [(issue.row, issue.column, issue.message) for issue in rejected.issues]
                    continue
                for key, count in result.as_dict().items():
                    totals[key] += count
            if errors:
                raise _Rollback
    except _Rollback:
        return _item_errors(sorted(errors, key=lambda error: (error[0] is None, error[0] or 0)))
    return Response(totals)


class _Rollback(Exception):
    pass


ITEM_FIELDS = ("contract", "counter", "date", "month", "value")
# The item's value as documented; its range and decimals are checked by the validation all paths share.
_ITEM_VALUE = PlainDecimalField(max_digits=None, decimal_places=None, allow_null=True)
_FIELD_LIST = "contract, counter, date (or month), value"
# A day in `date`, a whole month in `month`: one given in the other's field is refused, not taken for it.
_PERIOD_SHAPES = {
    "date": (re.compile(r"\d{4}-\d{2}-\d{2}"), _("A date is written YYYY-MM-DD; a whole month goes in “month”.")),
    "month": (re.compile(r"\d{4}-\d{2}"), _("A month is written YYYY-MM; a day goes in “date”.")),
}


def _group_by_contract(items: list, user, allowed, refusal) -> tuple[dict, list]:
    visible = visible_contracts(user).annotate(allowed=Exists(allowed.filter(pk=OuterRef("pk"))))
    contracts, by_contract, errors = {}, {}, []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append((index, None, _("Each item must be an object.")))
            continue
        if nul := [name for name in ITEM_FIELDS if isinstance(item.get(name), str) and "\x00" in item[name]]:
            # PostgreSQL text cannot hold one: refused here, as a serializer's CharField refuses it.
            errors += [(index, name, ProhibitNullCharactersValidator.message) for name in nul]
            continue
        key = str(item.get("contract", "")).strip()
        if key not in contracts:
            # An id is ASCII digits within a bigint; anything else ("²", "١", 10**30) is a reference.
            is_id = key.isascii() and key.isdigit() and len(key) <= 18
            lookup = {"pk": int(key)} if is_id else {"reference": key}
            contracts[key] = visible.filter(**lookup).first() if key else None
        contract = contracts[key]
        if contract is None:
            errors.append((index, "contract", _("Unknown contract.")))
            continue
        if not contract.allowed:
            errors.append((index, "contract", refusal(contract)))
            continue
        if unknown := sorted(str(key) for key in item if key not in ITEM_FIELDS):
            errors += [
                (
                    index,
                    key,
                    format_lazy(_("Unknown field “{field}”: the fields are {fields}."), field=key, fields=_FIELD_LIST),
                )
                for key in unknown
            ]
            continue
        field = "date" if "date" in item else "month"
        if "date" in item and "month" in item:
            errors.append((index, "month", _("Give either a date or a month, not both.")))
            continue
        shape, message = _PERIOD_SHAPES[field]
        if isinstance(item.get(field), str) and not shape.fullmatch(item[field].strip()):
            errors.append((index, field, message))
            continue
        if "value" not in item:
            errors.append((index, "value", _("The value is missing (null deletes a stored value).")))
            continue
        try:
            number = _ITEM_VALUE.run_validation(item["value"])
        except serializers.ValidationError as error:
            errors += [(index, "value", message) for message in error.detail]
            continue
        value = KpiValue(
            counter=str(item.get("counter", "")),
            period=item.get(field),
            value=number,
            row=index,
            column="value",
            period_column=field,
            counter_column="counter",
        )
        by_contract.setdefault(contract.pk, (contract, []))[1].append(value)
    return by_contract, errors


def _item_errors(errors: list) -> Response:
    payload = [{"index": index, "field": field, "message": str(message)} for index, field, message in errors]
    return Response({"type": INVALID_ROWS, "errors": payload}, status=status.HTTP_400_BAD_REQUEST)
