"""REST resources of service levels, KPI data and penalty statements.

Statements, their lines, adjustments and disputes are read-only resources: only the services of
sla_tracker.services change them, each through one action endpoint (submit, approve, reopen,
invoice, dispute or waive a line or an adjustment, withdraw its waiver, resolve a dispute). Exclusions are
decided the same way (approve, reject). Refused closes are read-only too: only the close records them. Bulk
KPI imports live in sla_tracker.api.kpi.
"""

import copy
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response
from rest_framework.reverse import reverse

from accounts.choices import Role
from accounts.roles import reviews_statements
from config.api import (
    ScopedModelViewSet,
    ScopedReadOnlyViewSet,
    ServiceInputSerializer,
    ValidatedModelSerializer,
    has_model_permission,
    refuse_read_only_changes,
    refuse_unknown_fields,
    serializer_errors,
)
from config.parsers import JSONParser
from contracts.months import first_of_month
from sla_tracker import filtersets, services
from sla_tracker.choices import ApprovalStatus, CreditType
from sla_tracker.evidence import ALLOWED_EXTENSIONS, evidence_download
from sla_tracker.kpi_import.access import contracts_for_kpi_entry, may_not_log
from sla_tracker.kpi_import.service import KpiDataRejected, save_measurement
from sla_tracker.models import (
    AdjustmentDispute,
    CloseRefusal,
    Exclusion,
    Incident,
    KpiCounter,
    LineDispute,
    Measurement,
    PenaltyStatement,
    ServiceLevel,
    ServiceLevelVersion,
    StatementAdjustment,
    StatementLine,
)
from sla_tracker.models.data import validate_service_levels_of
from sla_tracker.penalty_inputs import tier_problems


def may_dispute(user) -> bool:
    """The vendor's own users contest a line or an adjustment (administrators may record it for them)."""
    return user.is_active and (user.is_vendor_user or user.role == Role.ADMINISTRATOR)


# Serializers ---------------------------------------------------------------------------------------


class KpiCounterSerializer(ValidatedModelSerializer):
    class Meta:
        model = KpiCounter
        fields = ["id", "code", "name", "channel", "unit", "must_not_exceed", "description"]


class ServiceLevelSerializer(ValidatedModelSerializer):
    class Meta:
        model = ServiceLevel
        fields = ["id", "contract", "code", "name", "description", "display_order", "retired_from"]


# What a version's tiers are checked against (sla_tracker.penalty_inputs.tier_problems).
TIER_TARGET = ("expected", "direction", "credit_type")


class ServiceLevelVersionSerializer(ValidatedModelSerializer):
    numerator = serializers.ListField(child=serializers.CharField(max_length=61), allow_empty=False)
    denominator = serializers.ListField(child=serializers.CharField(max_length=61), allow_empty=False)

    class Meta:
        model = ServiceLevelVersion
        fields = "__all__"

    def validate(self, attrs):
        """The version's tiers (edited in the back office) must still price every default once the target,
        the direction or the credit model changes; a tiered version is created there, with its tiers."""
        attrs = super().validate(attrs)
        if self.instance is None:
            if attrs.get("credit_type") == CreditType.TIERS:
                message = _("A tiered version is created in the back office, with its tiers: its page edits both.")
                raise serializers.ValidationError({"credit_type": [message]})
            return attrs
        version = copy.copy(self.instance)
        for name, value in attrs.items():
            setattr(version, name, value)
        changed = [name for name in TIER_TARGET if getattr(version, name) != getattr(self.instance, name)]
        if changed and (problems := tier_problems(version, self.instance.tiers.values_list("lower", "upper", "pct"))):
            raise serializers.ValidationError(dict.fromkeys(changed, problems))
        return attrs


MEASUREMENT_KEY = ("contract", "counter", "month", "day")


class MeasurementSerializer(serializers.ModelSerializer):
    """A stored value; writes go through MeasurementInput and the KPI data service."""

    class Meta:
        model = Measurement
        fields = ["id", "contract", "counter", "month", "day", "value", "source", "upload", "updated_by", "updated_at"]
        read_only_fields = ["source", "upload", "updated_by", "updated_at"]
        extra_kwargs = {"month": {"required": False, "help_text": "First day of the month; set from the day if given."}}


class MeasurementInput(ServiceInputSerializer):
    """One value's key and number; `save_measurement` checks the rules shared with files and bulk."""

    class Meta:
        model = Measurement
        fields = ["contract", "counter", "month", "day", "value"]
        extra_kwargs = {
            "month": {"required": False, "help_text": "First day of the month; set from the day if given."},
            "value": {"help_text": "A whole number for counts; never negative."},
        }

    def get_validators(self):
        # The month may come from the day; the service answers for a key that already has a value.
        return []

    def validate(self, attrs):
        day = attrs.get("day", getattr(self.instance, "day", None))
        month = attrs.get("month", getattr(self.instance, "month", None))
        if not (day or month):
            raise serializers.ValidationError({"day": [_("Give the day, or the month of a whole-month value.")]})
        if day and attrs.get("month") and first_of_month(attrs["month"]) != first_of_month(day):
            raise serializers.ValidationError(
                {"month": [_("The month of a day's value is the day's month: leave it out.")]}
            )
        return {**attrs, "month": first_of_month(day or month)}


class ServiceLevelsOfTheContract:
    """The service levels given must be the contract's own (sla_tracker.models.data.validate_service_levels_of)."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        contract = attrs.get("contract") or getattr(self.instance, "contract", None)
        try:
            validate_service_levels_of(contract, attrs.get("service_levels"))
        except ValidationError as exc:
            raise serializers.ValidationError(serializer_errors(exc)) from exc
        return attrs


class ExclusionSerializer(ServiceLevelsOfTheContract, ValidatedModelSerializer):
    class Meta:
        model = Exclusion
        fields = "__all__"
        read_only_fields = ["status", "requested_by", "decided_by", "decided_at", "decision_note", "created_at"]

    def validate(self, attrs):
        if self.instance is not None and self.instance.status != ApprovalStatus.PROPOSED:
            raise ValidationError(_("A decided exclusion is final: propose a new one to change it."))
        attrs = super().validate(attrs)
        contract = attrs.get("contract") or getattr(self.instance, "contract", None)
        start = attrs.get("start_date", getattr(self.instance, "start_date", None))
        end = attrs.get("end_date", getattr(self.instance, "end_date", None))
        if contract is not None and (errors := services.exclusion_day_errors(contract, start, end)):
            raise serializers.ValidationError(errors)
        return attrs

    def update(self, instance, validated_data):
        levels = validated_data.pop("service_levels", None)
        instance = super().update(instance, validated_data)
        if levels is not None:
            with services.exclusion_service_levels_recorded(instance):
                instance.service_levels.set(levels)
        return instance


class IncidentSerializer(ServiceLevelsOfTheContract, ValidatedModelSerializer):
    class Meta:
        model = Incident
        fields = "__all__"
        read_only_fields = ["month", "created_by", "created_at"]


class PenaltyStatementSerializer(serializers.ModelSerializer):
    contract_reference = serializers.CharField(source="contract.reference", read_only=True)

    class Meta:
        model = PenaltyStatement
        fields = "__all__"
        read_only_fields = [field.name for field in PenaltyStatement._meta.fields]


class StatementLineSerializer(serializers.ModelSerializer):
    service_level_code = serializers.CharField(source="service_level.code", read_only=True)
    localized_explanation = serializers.CharField(
        source="readable_explanation",
        read_only=True,
        help_text="The explanation in the request's language (Accept-Language); `explanation` is the engine's English.",
    )
    charged = serializers.DecimalField(
        source="charged_credit",
        max_digits=14,
        decimal_places=2,
        read_only=True,
        help_text="The credit the line charges: `credit`, or 0 once the line is waived (`credit` keeps the computed "
        "value). The statement's `credits` is the sum of its lines' `charged`.",
    )

    class Meta:
        model = StatementLine
        fields = "__all__"
        read_only_fields = [field.name for field in StatementLine._meta.fields]


class StatementAdjustmentSerializer(serializers.ModelSerializer):
    service_level_code = serializers.CharField(source="service_level.code", read_only=True)
    origin_month = serializers.DateField(
        source="origin.month", read_only=True, help_text="The month corrected (its first day)."
    )
    localized_reason = serializers.CharField(
        source="readable_reason",
        read_only=True,
        help_text="The reason in the request's language (Accept-Language); `reason` is the English record.",
    )
    charged = serializers.DecimalField(
        source="charged_amount",
        max_digits=14,
        decimal_places=2,
        read_only=True,
        help_text="What the adjustment counts for in its statement: `amount` (signed: positive favours the "
        "vendor), or 0 once it is waived. The statement's `adjustments` is the sum of its adjustments' `charged`.",
    )

    class Meta:
        model = StatementAdjustment
        exclude = ["reason_data"]
        read_only_fields = [field.name for field in StatementAdjustment._meta.fields if field.name != "reason_data"]


class DisputeSerializer(serializers.ModelSerializer):
    """A dispute of a line or of an adjustment, its evidence as a link to its download."""

    evidence_name = serializers.SerializerMethodField(help_text="The evidence file's name; null without evidence.")
    evidence_url = serializers.SerializerMethodField(
        help_text="Where the evidence file is downloaded (GET, the same authentication); null without evidence."
    )
    evidence_route = ""  # the API's URL name of the kind's evidence download

    def get_evidence_name(self, dispute: LineDispute | AdjustmentDispute) -> str | None:
        return PurePath(dispute.evidence.name).name if dispute.evidence else None

    def get_evidence_url(self, dispute: LineDispute | AdjustmentDispute) -> str | None:
        if not dispute.evidence:
            return None
        return reverse(self.evidence_route, kwargs={"pk": dispute.pk}, request=self.context.get("request"))


class LineDisputeSerializer(DisputeSerializer):
    evidence_route = "api:linedispute-evidence"

    class Meta:
        model = LineDispute
        exclude = ["evidence"]
        read_only_fields = [field.name for field in LineDispute._meta.fields if field.name != "evidence"]


class AdjustmentDisputeSerializer(DisputeSerializer):
    evidence_route = "api:adjustmentdispute-evidence"

    class Meta:
        model = AdjustmentDispute
        exclude = ["evidence"]
        read_only_fields = [field.name for field in AdjustmentDispute._meta.fields if field.name != "evidence"]


class CloseRefusalSerializer(serializers.ModelSerializer):
    contract_reference = serializers.CharField(source="contract.reference", read_only=True)
    localized_message = serializers.CharField(
        source="readable_message",
        read_only=True,
        help_text="The refusal in the request's language (Accept-Language); `message` is the text as the close "
        "wrote it.",
    )

    class Meta:
        model = CloseRefusal
        fields = "__all__"
        read_only_fields = [field.name for field in CloseRefusal._meta.fields]


class ApproveInput(serializers.Serializer):
    """Optional: the figures the approver saw, so that figures changed since are not approved unseen."""

    input_fingerprint = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="The statement's input_fingerprint as you read it: if it was recomputed since, the approval "
        "is refused (400) and nothing changes.",
    )
    net = serializers.DecimalField(
        required=False,
        max_digits=14,
        decimal_places=2,
        help_text="The statement's net as you read it: if it changed since (new data, a waiver, an adjustment), "
        "the approval is refused (400) and nothing changes.",
    )


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(
        max_length=services.REASON_MAX_LENGTH, help_text="Why: kept in the statement's history."
    )


class DecisionNoteInput(serializers.Serializer):
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Why it is decided so, kept as the exclusion's decision note; required to reject.",
    )


class DisputeInput(serializers.Serializer):
    reason = serializers.CharField(
        max_length=services.REASON_MAX_LENGTH,
        help_text="Why the line or adjustment is wrong: kept in the statement's history.",
    )
    evidence = serializers.FileField(
        required=False,
        help_text=f"Optional evidence file (multipart/form-data): {ALLOWED_EXTENSIONS}; checked by its content.",
    )


class InvoiceInput(serializers.Serializer):
    invoice_reference = serializers.CharField(max_length=services.REFERENCE_MAX_LENGTH)


class SettlementInput(serializers.Serializer):
    reference = serializers.CharField(
        max_length=services.REFERENCE_MAX_LENGTH,
        help_text="The credit note or invoice that settles the difference outside the statements.",
    )
    amounts = serializers.DictField(
        child=serializers.DecimalField(max_digits=14, decimal_places=2),
        required=False,
        help_text="The amounts waiting per service level code as you read them (positive: in the vendor's "
        "favour): the settlement is refused if a correction changed them since.",
    )


class ResolutionInput(serializers.Serializer):
    resolution = serializers.CharField(max_length=services.REASON_MAX_LENGTH)
    accepted = serializers.BooleanField(help_text="True: the vendor is right; false: the line stands.")
    waive = serializers.BooleanField(
        default=False,
        help_text="With accepted: also waive the line's credit, the resolution being the waiver's reason.",
    )


class AdjustmentResolutionInput(ResolutionInput):
    accepted = serializers.BooleanField(help_text="True: the vendor is right; false: the adjustment stands.")
    waive = serializers.BooleanField(
        default=False,
        help_text=(
            "With accepted: also waive the adjustment, the resolution being the waiver's reason (only one in the "
            "customer's favour, a negative `amount`)."
        ),
    )


# Viewsets ------------------------------------------------------------------------------------------


class KpiCounterViewSet(ScopedModelViewSet):
    queryset = KpiCounter.objects.all()
    serializer_class = KpiCounterSerializer
    filterset_class = filtersets.KpiCounterFilterSet


class ServiceLevelViewSet(ScopedModelViewSet):
    queryset = ServiceLevel.objects.all()
    serializer_class = ServiceLevelSerializer
    filterset_class = filtersets.ServiceLevelFilterSet


class ServiceLevelVersionViewSet(ScopedModelViewSet):
    """A service level's terms from one month on, within the contract's term and with its own amendments.

    Terms are fixed once a month they apply to has its penalty statement approved or invoiced: a change
    is refused (400, naming each changed field and that month) and made instead as a new version valid
    from the first open month (sla_tracker.models.terms).
    """

    queryset = ServiceLevelVersion.objects.all()
    serializer_class = ServiceLevelVersionSerializer
    filterset_class = filtersets.ServiceLevelVersionFilterSet


class KpiEntryPermission(BasePermission):
    """Reads as scoping shows them; writes on the contracts the user may log KPI data for
    (sla_tracker.kpi_import.access), as for files, bulk posts and the grid: a visible value of
    another contract is a 403 saying the user may not log data for it."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS or may_enter_kpis(request.user, obj.contract_id):
            return True
        self.message = may_not_log(obj.contract)
        return False


def may_enter_kpis(user, contract_id: int) -> bool:
    return contracts_for_kpi_entry(user).filter(pk=contract_id).exists()


class MeasurementViewSet(ScopedModelViewSet):
    """Single daily or monthly values; files and bulk imports go through the KPI import endpoints.

    Every write goes through the KPI data service, like files, bulk and hand entry: the same checks,
    the refusal of a month whose statement is approved, the contract's lock and the change log, and
    the same rule of who may log data for which contract. A value's key (contract, counter, day or
    month) does not change: delete it and create the new one.
    """

    queryset = Measurement.objects.all()
    serializer_class = MeasurementSerializer
    filterset_class = filtersets.MeasurementFilterSet
    permission_classes = [KpiEntryPermission]
    create_input_class = MeasurementInput

    def create_with_service(self, data: dict) -> Measurement:
        if not may_enter_kpis(self.request.user, data["contract"].pk):
            raise PermissionDenied(may_not_log(data["contract"]))
        return self._save(data, data["value"], must_be_new=True)

    @extend_schema(request=MeasurementInput)
    def update(self, request, *args, **kwargs):
        measurement = self.get_object()
        form = MeasurementInput(
            measurement, data=request.data, partial=kwargs.get("partial", False), context=self.get_serializer_context()
        )
        shown = self.get_serializer(measurement)
        refuse_unknown_fields(request.data, form.fields, shown.fields)
        refuse_read_only_changes(request.data, shown)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        moved = [name for name in MEASUREMENT_KEY if name in data and data[name] != getattr(measurement, name)]
        if moved:
            message = _("A value's contract, counter and day do not change: delete it and create the new one.")
            raise serializers.ValidationError({name: [message] for name in moved})
        row = self._save(_key_of(measurement), data.get("value", measurement.value))
        return self.respond_with(row)

    @extend_schema(request=MeasurementInput)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        self._save(_key_of(self.get_object()), None)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _save(self, key: dict, value, *, must_be_new: bool = False) -> Measurement | None:
        try:
            return save_measurement(
                contract=key["contract"],
                counter=key["counter"],
                month=key["month"],
                day=key.get("day"),
                value=value,
                actor=self.request.user,
                must_be_new=must_be_new,
            )
        except KpiDataRejected as rejected:
            errors: dict[str, list[str]] = {}
            for issue in rejected.issues:
                errors.setdefault(issue.column or "non_field_errors", []).append(str(issue.message))
            raise serializers.ValidationError(errors) from rejected


def _key_of(measurement: Measurement) -> dict:
    return {name: getattr(measurement, name) for name in MEASUREMENT_KEY}


class ExclusionViewSet(ScopedModelViewSet):
    """Vendor managers propose exclusions; procurement approves or rejects them, or their proposer withdraws
    them (final decisions)."""

    queryset = Exclusion.objects.prefetch_related("service_levels")
    serializer_class = ExclusionSerializer
    filterset_class = filtersets.ExclusionFilterSet

    def server_fields(self) -> dict:
        return {"requested_by": self.request.user}

    def check_object_permissions(self, request, obj):
        super().check_object_permissions(request, obj)
        # Else a reviewer could rewrite a proposal and then approve what no one else proposed.
        if self.action in ("update", "partial_update") and obj.requested_by_id != request.user.pk:
            self.permission_denied(
                request, message=_("Only its proposer changes a proposed exclusion; a reviewer approves or rejects it.")
            )

    def _decide(self, approve: bool) -> Response:
        exclusion_id = self.get_object().pk
        note = self.action_input(DecisionNoteInput).get("note", "")
        exclusion = services.decide_exclusion(
            exclusion_id=exclusion_id, actor=self.request.user, approve=approve, note=note
        )
        return self.respond_with(exclusion)

    @extend_schema(request=DecisionNoteInput, summary="Approve a proposed exclusion (procurement), with a note")
    @action(detail=True, methods=["post"], action_rule=reviews_statements)
    def approve(self, request, pk=None):
        return self._decide(approve=True)

    @extend_schema(request=DecisionNoteInput, summary="Reject a proposed exclusion (procurement), with its reason")
    @action(detail=True, methods=["post"], action_rule=reviews_statements)
    def reject(self, request, pk=None):
        return self._decide(approve=False)

    @extend_schema(request=DecisionNoteInput, summary="Withdraw your own proposed exclusion, with an optional note")
    @action(detail=True, methods=["post"], action_rule=has_model_permission(Exclusion, "add"))
    def withdraw(self, request, pk=None):
        exclusion_id = self.get_object().pk
        note = self.action_input(DecisionNoteInput).get("note", "")
        return self.respond_with(
            services.withdraw_exclusion(exclusion_id=exclusion_id, actor=self.request.user, note=note)
        )


class IncidentViewSet(ScopedModelViewSet):
    queryset = Incident.objects.prefetch_related("service_levels")
    serializer_class = IncidentSerializer
    filterset_class = filtersets.IncidentFilterSet

    def server_fields(self) -> dict:
        return {"created_by": self.request.user}


class PenaltyStatementViewSet(ScopedReadOnlyViewSet):
    """Statements are computed by the monthly close; these actions move them through review."""

    queryset = PenaltyStatement.objects.select_related("contract")
    serializer_class = PenaltyStatementSerializer
    filterset_class = filtersets.PenaltyStatementFilterSet

    @extend_schema(request=None, summary="Submit a draft statement for review")
    @action(detail=True, methods=["post"], action_rule=has_model_permission(PenaltyStatement, "change"))
    def submit(self, request, pk=None):
        statement = services.submit_statement(statement_id=self.get_object().pk, actor=request.user)
        return self.respond_with(statement)

    @extend_schema(
        request=ApproveInput,
        summary="Approve a statement in review",
        description="Send the statement's `input_fingerprint` and `net` as you read them (both optional) to have "
        "the approval refused if the figures changed since; with no body, the statement is approved as it stands.",
    )
    @action(detail=True, methods=["post"], action_rule=reviews_statements)
    def approve(self, request, pk=None):
        statement_id = self.get_object().pk
        seen = self.action_input(ApproveInput)
        statement = services.approve_statement(statement_id=statement_id, actor=request.user, **seen)
        return self.respond_with(statement)

    @extend_schema(request=ReasonInput, summary="Reopen an approved statement, with a reason")
    @action(detail=True, methods=["post"], action_rule=reviews_statements)
    def reopen(self, request, pk=None):
        statement_id = self.get_object().pk
        data = self.action_input(ReasonInput)
        statement = services.reopen_statement(statement_id=statement_id, actor=request.user, reason=data["reason"])
        return self.respond_with(statement)

    @extend_schema(request=InvoiceInput, summary="Mark an approved statement invoiced")
    @action(detail=True, methods=["post"], action_rule=reviews_statements)
    def invoice(self, request, pk=None):
        statement_id = self.get_object().pk
        data = self.action_input(InvoiceInput)
        statement = services.mark_statement_invoiced(
            statement_id=statement_id, actor=request.user, invoice_reference=data["invoice_reference"]
        )
        return self.respond_with(statement)

    @extend_schema(
        request=SettlementInput,
        summary="Record the settlement of a difference no statement will carry",
        description="For an approved or invoiced statement of an ended contract whose last month is closed: the "
        "difference waiting on it (a correction after approval) was settled by a credit note or invoice, whose "
        "reference is recorded. Refused, with the reason, while a later close can still carry it.",
    )
    @action(detail=True, methods=["post"], action_rule=reviews_statements)
    def settle(self, request, pk=None):
        statement_id = self.get_object().pk
        data = self.action_input(SettlementInput)
        statement = services.settle_outside_statements(statement_id=statement_id, actor=request.user, **data)
        return self.respond_with(statement)


class StatementLineViewSet(ScopedReadOnlyViewSet):
    queryset = StatementLine.objects.select_related("service_level")
    serializer_class = StatementLineSerializer
    filterset_class = filtersets.StatementLineFilterSet

    @extend_schema(
        request={"application/json": DisputeInput, "multipart/form-data": DisputeInput},
        responses={201: LineDisputeSerializer},
        summary="Dispute a line (vendor users), with a reason and optional evidence",
        description="Send multipart/form-data to attach an evidence file; JSON for a reason alone.",
    )
    @action(
        detail=True,
        methods=["post"],
        action_rule=may_dispute,
        parser_classes=[JSONParser, MultiPartParser, FormParser],
    )
    def dispute(self, request, pk=None):
        line_id = self.get_object().pk
        data = self.action_input(DisputeInput)
        dispute = services.dispute_line(
            line_id=line_id, actor=request.user, reason=data["reason"], evidence=data.get("evidence")
        )
        context = self.get_serializer_context()
        return Response(LineDisputeSerializer(dispute, context=context).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReasonInput, summary="Waive a line's credit (procurement), with a reason")
    @action(detail=True, methods=["post"], action_rule=reviews_statements)
    def waive(self, request, pk=None):
        line_id = self.get_object().pk
        data = self.action_input(ReasonInput)
        line = services.waive_line(line_id=line_id, actor=request.user, reason=data["reason"])
        return self.respond_with(line)

    @extend_schema(
        request=ReasonInput,
        summary="Withdraw a line's waiver (procurement), with a reason",
        description="Before the statement is approved (draft or in review): the line's credit counts again in the "
        "statement's totals and in later months' history. Refused (400, nothing changes) when the line is not "
        "waived, the statement is approved, invoiced or disputed, or the waiver was given in accepting the "
        "vendor's dispute of the line. The waiver and its withdrawal stay in the statement's history.",
    )
    @action(detail=True, methods=["post"], url_path="withdraw-waiver", action_rule=reviews_statements)
    def withdraw_waiver(self, request, pk=None):
        line_id = self.get_object().pk
        data = self.action_input(ReasonInput)
        line = services.withdraw_line_waiver(line_id=line_id, actor=request.user, reason=data["reason"])
        return self.respond_with(line)


class StatementAdjustmentViewSet(ScopedReadOnlyViewSet):
    """Corrections of approved months carried into a later statement by the close; disputed and waived as
    lines are."""

    queryset = StatementAdjustment.objects.select_related("service_level", "origin")
    serializer_class = StatementAdjustmentSerializer
    filterset_class = filtersets.StatementAdjustmentFilterSet

    @extend_schema(
        request={"application/json": DisputeInput, "multipart/form-data": DisputeInput},
        responses={201: AdjustmentDisputeSerializer},
        summary="Dispute an adjustment (vendor users), with a reason and optional evidence",
        description="Send multipart/form-data to attach an evidence file; JSON for a reason alone.",
    )
    @action(
        detail=True,
        methods=["post"],
        action_rule=may_dispute,
        parser_classes=[JSONParser, MultiPartParser, FormParser],
    )
    def dispute(self, request, pk=None):
        adjustment_id = self.get_object().pk
        data = self.action_input(DisputeInput)
        dispute = services.dispute_adjustment(
            adjustment_id=adjustment_id, actor=request.user, reason=data["reason"], evidence=data.get("evidence")
        )
        context = self.get_serializer_context()
        return Response(AdjustmentDisputeSerializer(dispute, context=context).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ReasonInput,
        summary="Waive an adjustment (procurement), with a reason",
        description=(
            "Only an adjustment in the customer's favour (a negative `amount`): a waiver gives up a credit owed to "
            "the customer, and one in the vendor's favour owes it none (a 400 saying so)."
        ),
    )
    @action(detail=True, methods=["post"], action_rule=reviews_statements)
    def waive(self, request, pk=None):
        adjustment_id = self.get_object().pk
        data = self.action_input(ReasonInput)
        adjustment = services.waive_adjustment(adjustment_id=adjustment_id, actor=request.user, reason=data["reason"])
        return self.respond_with(adjustment)

    @extend_schema(
        request=ReasonInput,
        summary="Withdraw an adjustment's waiver (procurement), with a reason",
        description="Before the statement is approved (draft or in review): the adjustment counts again in the "
        "statement's totals. Refused (400, nothing changes) when the adjustment is not waived, the statement is "
        "approved, invoiced or disputed, or the waiver was given in accepting the vendor's dispute of the "
        "adjustment. The waiver and its withdrawal stay in the statement's history.",
    )
    @action(detail=True, methods=["post"], url_path="withdraw-waiver", action_rule=reviews_statements)
    def withdraw_waiver(self, request, pk=None):
        adjustment_id = self.get_object().pk
        data = self.action_input(ReasonInput)
        adjustment = services.withdraw_adjustment_waiver(
            adjustment_id=adjustment_id, actor=request.user, reason=data["reason"]
        )
        return self.respond_with(adjustment)


class CloseRefusalViewSet(ScopedReadOnlyViewSet):
    """Months the monthly close could not compute, and why: kept by the close until a close of that month
    or a later one succeeds (never written here). A vendor's own users see none."""

    queryset = CloseRefusal.objects.select_related("contract")
    serializer_class = CloseRefusalSerializer
    filterset_class = filtersets.CloseRefusalFilterSet


class DisputeViewSet(ScopedReadOnlyViewSet):
    """What the disputes of lines and of adjustments share: procurement resolves them the same way, and their
    evidence is downloaded the same way."""

    def _resolve(self, resolve, input_class: type[ResolutionInput]) -> Response:
        dispute_id = self.get_object().pk
        data = self.action_input(input_class)
        dispute = resolve(
            dispute_id=dispute_id,
            actor=self.request.user,
            resolution=data["resolution"],
            accepted=data["accepted"],
            waive=data["waive"],
        )
        return Response(self.get_serializer(dispute).data)

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        summary="Download a dispute's evidence file (404 when it has none)",
    )
    @action(detail=True, methods=["get"])
    def evidence(self, request, pk=None):
        dispute = self.get_object()
        if not dispute.evidence:
            raise Http404
        return evidence_download(dispute.evidence)


class LineDisputeViewSet(DisputeViewSet):
    """The vendor's disputes of statement lines (raised by a line's `dispute/` action); procurement resolves
    them."""

    queryset = LineDispute.objects.all()
    serializer_class = LineDisputeSerializer
    filterset_class = filtersets.LineDisputeFilterSet

    @extend_schema(request=ResolutionInput, summary="Accept or reject a dispute (procurement)")
    @action(detail=True, methods=["post"], action_rule=reviews_statements)
    def resolve(self, request, pk=None):
        return self._resolve(services.resolve_dispute, ResolutionInput)


class AdjustmentDisputeViewSet(DisputeViewSet):
    """The vendor's disputes of adjustments (raised by an adjustment's `dispute/` action); procurement resolves
    them as it resolves the disputes of lines."""

    queryset = AdjustmentDispute.objects.all()
    serializer_class = AdjustmentDisputeSerializer
    filterset_class = filtersets.AdjustmentDisputeFilterSet

    @extend_schema(request=AdjustmentResolutionInput, summary="Accept or reject an adjustment's dispute (procurement)")
    @action(detail=True, methods=["post"], action_rule=reviews_statements)
    def resolve(self, request, pk=None):
        return self._resolve(services.resolve_adjustment_dispute, AdjustmentResolutionInput)
