"""What every REST endpoint shares: scoped querysets, role permissions, validation, errors, pagination.

A resource's viewset is three lines (queryset, serializer, filterset) on top of `ScopedModelViewSet`
or `ScopedReadOnlyViewSet`; visibility, permissions and the error shape are decided here once.

- Rows: `accounts.scoping.restrict` narrows every queryset, so an object outside the user's scope is
  a 404 for every method (never a 403 that would confirm it exists).
- Actions: reads are open to every signed-in user (scoping decides the rows); writes need the role's
  model permission (`User.has_perm`, from accounts.roles), checked after the object was found in scope,
  so a visible but forbidden write is a 403. Nothing is deleted, except where a service records the
  deletion (KPI values, in their change log): that viewset names the permission a DELETE needs.
  A domain action declares its own rule (`action_rule`); a committee's record (governance) and the
  vendor's answers to audit findings (audits) follow their app's own rule instead of the role's.
- Writes: serializers run the model's `full_clean()` (fields, `clean()`, constraints), so a bad input is
  a 400 with the error shape, never an IntegrityError; a field the resource does not have is a 400 too.
  Rows with business rules are created by their domain service (`create_input_class` and
  `create_with_service` on the viewset), whose refusal is a 400.
- Lists: a query parameter a list does not take (its filters, `q`, `ordering`, `page`, `page_size`,
  `format`), an ordering term it does not offer or a page size that is not a positive whole number is a
  400 naming it, never ignored: a misspelt filter would return every row.
- Errors: `{"type": "validation_error", "errors": {field: [messages]}}` for 400, and
  `{"type": "<code>", "detail": "<message>"}` for the others (not_found, permission_denied,
  not_authenticated, authentication_failed, method_not_allowed, throttled, request_too_large, ...).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.openapi import AutoSchema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from accounts.scoping import COMMITTEE_PATHS, CONTRACT_PATHS, SHARED_MODELS, VENDOR_PATHS, restrict

WRITE_PERMISSIONS = {"POST": "add", "PUT": "change", "PATCH": "change"}
SCOPED_LABELS = (
    set(CONTRACT_PATHS) | set(COMMITTEE_PATHS) | set(VENDOR_PATHS) | SHARED_MODELS | {"governance.ActionItem"}
)


# Errors --------------------------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """Every error but a validation error."""

    type = serializers.CharField(help_text="Stable code, e.g. not_found, permission_denied, not_authenticated.")
    detail = serializers.CharField(help_text="Human-readable message.")


class ValidationErrorSerializer(serializers.Serializer):
    """A 400: messages per field; errors not tied to one field are under non_field_errors."""

    type = serializers.ChoiceField(choices=["validation_error"])
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


def serializer_errors(exc: DjangoValidationError) -> dict:
    """Django's errors in the API's shape: those that name no field (a model's constraints', a service's)
    under non_field_errors, where the API's other ones are, not under Django's "__all__"."""
    errors = serializers.as_serializer_error(exc)
    if NON_FIELD_ERRORS in errors:
        errors.setdefault(api_settings.NON_FIELD_ERRORS_KEY, []).extend(errors.pop(NON_FIELD_ERRORS))
    return errors


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


def api_exception_handler(exc, context):
    """DRF's handler, with Django's ValidationError turned into a 400, a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE into a 413 (Django would answer a bare HTML 400), and one JSON shape
    for all errors."""
    if isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge(
            _("The request body is larger than %(limit)s: send the data in several requests.")
            % {"limit": filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}
        )
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(serializer_errors(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, exceptions.ParseError):  # a 400 like the others: the body as a whole is wrong
        exc = exceptions.ValidationError({"non_field_errors": [str(exc.detail)]})
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {"type": "validation_error", "errors": errors}
    else:
        response.data = {"type": exc.default_code, "detail": str(exc.detail)}
    return response


class ApiAutoSchema(AutoSchema):
    """Documents the error responses every operation can give, in the shapes of the handler above, and
    the input of a create that a domain service performs."""

    def get_request_serializer(self):
        create_input_class = getattr(self.view, "create_input_class", None)
        if create_input_class is not None and getattr(self.view, "action", None) == "create":
            return create_input_class
        return super().get_request_serializer()

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = {"401": ErrorSerializer}
        if self.method in WRITE_PERMISSIONS or self.method == "DELETE":
            errors |= {"400": ValidationErrorSerializer, "403": ErrorSerializer}
        if self.method in WRITE_PERMISSIONS:
            errors["413"] = ErrorSerializer
        if "{" in self.path:
            errors["404"] = ErrorSerializer
        if getattr(self.view, "throttle_scope", None):
            errors["429"] = ErrorSerializer
        for code, serializer in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(serializer, code, direction=direction)
        return responses


# Permissions ---------------------------------------------------------------------------------------


def model_permission(model: type[models.Model], action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


class RolePermission(BasePermission):
    """Signed-in users read what scoping shows them; writes need the role's model permission.

    On an object route nothing is decided before the object is found in the user's scope, so an
    object outside it is a 404 whatever the method and the role.
    """

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return bool(getattr(view, "detail", False)) or self._allowed(request, view)

    def has_object_permission(self, request, view, obj) -> bool:
        return self._allowed(request, view)

    @staticmethod
    def _allowed(request, view) -> bool:
        rule: Callable | None = getattr(view, "action_rule", None)
        if rule is not None:
            return rule(request.user)
        if request.method in SAFE_METHODS:
            return True
        if request.method == "DELETE" and getattr(view, "delete_permission", None):
            action = view.delete_permission
        elif request.method in WRITE_PERMISSIONS:
            action = WRITE_PERMISSIONS[request.method]
        else:
            return True  # DELETE where nothing is deleted, TRACE, …: the view answers 405
        model = view.get_queryset().model
        return request.user.has_perm(model_permission(model, action))


def has_model_permission(model: type[models.Model], action: str) -> Callable:
    """An `action_rule`: the user holds `action` (view, add, change) on `model`."""
    return lambda user: user.has_perm(model_permission(model, action))


# Serializers ---------------------------------------------------------------------------------------


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object by id, chosen among the rows the requesting user may see.

    An id outside the scope is refused as "does not exist", the same answer as for an unknown id.
    Users are internal (non-vendor) active accounts. An id is an integer or a string of digits: DRF would
    take 1.5 (or true) for 1.
    """

    def to_internal_value(self, data):
        is_id = isinstance(data, int) and not isinstance(data, bool)
        if not (is_id or (isinstance(data, str) and data.isascii() and data.isdigit())):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if queryset.model is get_user_model():
            return queryset.filter(is_active=True, vendor__isnull=True)
        if queryset.model._meta.label not in SCOPED_LABELS:
            return queryset.none()
        return restrict(queryset, user)


def refuse_unknown_fields(data, *known_fields) -> None:
    """A 400 naming the fields of a JSON or form body that no serializer of the request knows: a
    misspelt field would otherwise be dropped silently, and the client believe it was saved."""
    if not isinstance(data, Mapping):
        return
    known = set().union(*known_fields)
    if unknown := sorted(set(data) - known):
        raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})


def refuse_read_only_changes(data, resource: serializers.Serializer, writable=()) -> None:
    """A 400 naming the read-only fields of `resource` that a body would change (on a create: sets at
    all), which DRF drops silently: a client would believe a status or a total was saved. A field sent
    back as the resource shows it is accepted, so a client may send what it read."""
    if not isinstance(data, Mapping):
        return
    sent = [
        name for name, field in resource.fields.items() if field.read_only and name in data and name not in writable
    ]
    if not sent:
        return
    shown = resource.to_representation(resource.instance) if resource.instance is not None else {}
    if changed := [name for name in sent if not _same_value(data[name], shown.get(name))]:
        message = _("Read-only: the server sets it. Leave it out, or send it as the resource shows it.")
        raise serializers.ValidationError({name: [message] for name in changed})


def _same_value(sent, shown) -> bool:
    """Whether a value sent is the one shown, "12.5" and 12.50 alike (JSON numbers and strings)."""
    if sent == shown or (sent in ("", None) and shown in ("", None)):
        return True
    if isinstance(sent, bool) or isinstance(shown, bool) or not isinstance(sent, str | int | float):
        return False
    try:
        return Decimal(str(sent)) == Decimal(str(shown))
    except (InvalidOperation, ValueError):
        return False


class PlainDecimalField(serializers.DecimalField):
    """A decimal as JSON writes one, or a string of ASCII digits with an optional "-" and "." decimals:
    Python's Decimal would also read "1_000", "1e3", "+5" or other scripts' digits, which the API documents
    as refused."""

    PLAIN = re.compile(r"-?[0-9]+(\.[0-9]+)?")

    def to_internal_value(self, data):
        if isinstance(data, str) and not self.PLAIN.fullmatch(data.strip()):
            self.fail("invalid")
        return super().to_internal_value(data)


DECIMALS_PLAIN = {**serializers.ModelSerializer.serializer_field_mapping, models.DecimalField: PlainDecimalField}


class ValidatedModelSerializer(serializers.ModelSerializer):
    """A model serializer whose writes pass the model's full validation before they reach the database.

    Fields the server sets (the acting user, the source) come from the viewset through the context
    ("server_fields") and are validated with the rest.
    """

    serializer_related_field = ScopedPrimaryKeyRelatedField
    serializer_field_mapping = DECIMALS_PLAIN

    def to_internal_value(self, data):
        refuse_unknown_fields(data, self.fields)
        refuse_read_only_changes(data, self)
        return super().to_internal_value(data)

    def validate(self, attrs):
        attrs = {**super().validate(attrs), **self.context.get("server_fields", {})}
        model = self.Meta.model
        instance = copy.copy(self.instance) if self.instance is not None else model()
        many_to_many = {field.name for field in model._meta.many_to_many}
        for name, value in attrs.items():
            if name not in many_to_many:
                setattr(instance, name, value)
        self.prepare_instance(instance)
        not_editable = [field.name for field in model._meta.fields if not field.editable]
        try:
            instance.full_clean(exclude=not_editable)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(serializer_errors(exc)) from exc
        return attrs

    def prepare_instance(self, instance) -> None:
        """Derive what the model derives in save() before validating (e.g. a month from a day)."""


class ServiceInputSerializer(serializers.ModelSerializer):
    """The input of a create that a domain service performs: the model's fields give the types, the
    choices and the related ids (among the user's rows); the service checks the business rules,
    validates the whole row and saves it."""

    serializer_related_field = ScopedPrimaryKeyRelatedField
    serializer_field_mapping = DECIMALS_PLAIN


# Viewsets ------------------------------------------------------------------------------------------


class ApiPagination(PageNumberPagination):
    """Pages of 50 rows; ``?page_size=`` asks for up to 200. A size that is not a positive whole number is a 400
    (DRF would give the default page, and a client asking for no rows or all of them believe it got them)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        size = request.query_params.get(self.page_size_query_param)
        if size is not None and not (size.isascii() and size.isdigit() and int(size) > 0):
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        _("A page size is a positive whole number (a page holds at most %(max)d rows).")
                        % {"max": self.max_page_size}
                    ]
                }
            )
        return super().get_page_size(request)


class CheckedOrderingFilter(OrderingFilter):
    """``?ordering=`` by the fields a list shows: the serializer's readable fields that are columns of the
    model (or of the queryset's annotations), unless the view names its own ``ordering_fields``. A term
    outside them is a 400 naming it, instead of being ignored (DRF's default): an integrator sees the
    mistake, and no one orders rows by a column they may not read, whose order would tell its values."""

    def get_valid_fields(self, queryset, view, context=None):
        context = context or {}
        if getattr(view, "ordering_fields", self.ordering_fields) != "__all__":
            return super().get_valid_fields(queryset, view, context)
        columns = {field.name for field in queryset.model._meta.concrete_fields} | set(queryset.query.annotations)
        fields = view.get_serializer_class()(context=context).fields
        return [
            (field.source, field.label) for field in fields.values() if not field.write_only and field.source in columns
        ]

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = {name for name, _label in self.get_valid_fields(queryset, view, {"request": request})}
        terms = [term for term in fields if term]  # "month," orders by month
        unknown = [term for term in terms if term.removeprefix("-") not in valid]
        if unknown:
            raise exceptions.ValidationError(
                {
                    self.ordering_param: [
                        _("“%(term)s” is not a field this list can be ordered by; use one of: %(fields)s.")
                        % {"term": term, "fields": ", ".join(sorted(valid))}
                        for term in unknown
                    ]
                }
            )
        return terms


def _filter_parameters(filterset) -> set[str]:
    """The query parameters of a filterset's filters: a range filter's widget reads its name with suffixes
    (``_min``/``_max``, ``_after``/``_before``)."""
    if filterset is None:
        return set()
    names = set()
    for name, field in filterset.form.fields.items():
        suffixes = getattr(field.widget, "suffixes", None)
        names |= {field.widget.suffixed(name, suffix) for suffix in suffixes} if suffixes else {name}
    return names


class ScopedViewSetMixin:
    """The one place where visibility, permissions, filtering, ordering and pagination are set."""

    permission_classes = [RolePermission]
    pagination_class = ApiPagination
    filter_backends = [DjangoFilterBackend, CheckedOrderingFilter]
    ordering_fields = "__all__"
    # Ids are integers; a word after a collection's path is another route (e.g. measurements/bulk/).
    lookup_value_regex = "[0-9]+"
    action_rule: Callable | None = None
    # The model permission a DELETE needs, on the few resources whose service records a deletion.
    delete_permission: str | None = None

    def get_queryset(self):
        return restrict(super().get_queryset(), self.request.user)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method in WRITE_PERMISSIONS:
            request.data  # noqa: B018 - read the body now: a malformed one is a 400 even where an action takes none
        if self.action == "list":
            self.refuse_unknown_query_parameters(request)

    def refuse_unknown_query_parameters(self, request) -> None:
        """A 400 naming each query parameter the list does not take: django-filter ignores them, so a misspelt
        filter (``?montth_after=``, ``?month=`` for ``month_after``) would return every row as if it were kept."""
        taken = self.query_parameters(request)
        if unknown := sorted(set(request.query_params) - taken):
            message = _("Not a parameter of this list, which takes: %(parameters)s.") % {
                "parameters": ", ".join(sorted(taken))
            }
            raise exceptions.ValidationError({name: [message] for name in unknown})

    def query_parameters(self, request) -> set[str]:
        """The query parameters the list takes: its filters' (a range filter's as django-filter suffixes them),
        its ordering, its pagination and the response format."""
        taken = {api_settings.URL_FORMAT_OVERRIDE}
        if self.paginator is not None:
            taken |= {self.paginator.page_query_param, self.paginator.page_size_query_param}
        for backend_class in self.filter_backends:
            backend = backend_class()
            if isinstance(backend, OrderingFilter):
                taken.add(backend.ordering_param)
            elif isinstance(backend, DjangoFilterBackend):
                taken |= _filter_parameters(backend.get_filterset(request, self.get_queryset(), self))
        return taken - {None}

    def server_fields(self) -> dict:
        """Fields the server sets on create (the acting user, …); the client cannot send them."""
        return {}

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "action", None) == "create":
            context["server_fields"] = self.server_fields()
        return context

    def action_input(self, input_class: type[serializers.Serializer]) -> dict:
        """The validated body of an action (a 400 in the API's error shape when it is not valid). A field
        of neither the input nor the resource is refused, and so is, on a create, a read-only field of the
        resource; on another action the resource's own fields that it sets itself (a decision's number, a
        row's status) are ignored."""
        data = input_class(data=self.request.data, context=self.get_serializer_context())
        resource = self.get_serializer_class()(context=self.get_serializer_context())
        refuse_unknown_fields(self.request.data, data.fields, resource.fields)
        if self.action == "create":
            refuse_read_only_changes(self.request.data, resource, writable=data.fields)
        data.is_valid(raise_exception=True)
        return data.validated_data

    def respond_with(self, row: models.Model, status_code: int = status.HTTP_200_OK) -> Response:
        """`row` as this resource shows it, read again through the user's scope (after a service wrote it)."""
        return Response(self.get_serializer(self.get_queryset().get(pk=row.pk)).data, status=status_code)


class ScopedModelViewSet(
    ScopedViewSetMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """List, detail, create and update. Nothing is deleted through the API: the tracker keeps history
    (a viewset whose service logs a deletion defines `destroy` and names its `delete_permission`).

    Where a domain service creates the rows, `create_input_class` validates the request and
    `create_with_service` calls the service (with the acting user); the answer is the created row.
    """

    create_input_class: type[ServiceInputSerializer] | None = None

    def create(self, request, *args, **kwargs):
        if self.create_input_class is None:
            return super().create(request, *args, **kwargs)
        row = self.create_with_service(self.action_input(self.create_input_class))
        return self.respond_with(row, status.HTTP_201_CREATED)

    def create_with_service(self, data: dict) -> models.Model:
        raise NotImplementedError(f"{type(self).__name__} names a create_input_class but no service to call")


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """List and detail of rows only the domain's services change (their actions are on the viewset)."""
