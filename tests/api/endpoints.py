"""The table every API test reads: one row per resource, so a new endpoint adds one line here.

prefix: the collection under /api/v1/; label: the model in tests.accounts.test_scoping.build_world;
app: whose role permissions decide writes (None: read-only resource, changed only by actions);
record: a committee's record, whose writes governance.permissions decides instead of the role (an
administrator or a customer-side member of the row's committee);
shared: reference data every signed-in user reads; deletable: DELETE is answered (the service logs
the deletion) with the app's change permission, where every other resource answers 405.
"""

from dataclasses import dataclass

# The API's refusal of a read-only field that a body would change (config.api.refuse_read_only_changes).
READ_ONLY = ["Read-only: the server sets it. Leave it out, or send it as the resource shows it."]


@dataclass(frozen=True)
class Endpoint:
    prefix: str
    label: str
    app: str | None
    record: bool = False
    shared: bool = False
    deletable: bool = False

    def __str__(self) -> str:
        return self.prefix


ENDPOINTS = (
    Endpoint("vendors", "contracts.Vendor", "contracts"),
    Endpoint("contracts", "contracts.Contract", "contracts"),
    Endpoint("contract-scopes", "contracts.ContractScope", "contracts"),
    Endpoint("monthly-charges", "contracts.MonthlyCharge", "contracts"),
    Endpoint("amendments", "contracts.Amendment", "contracts"),
    Endpoint("kpi-counters", "sla_tracker.KpiCounter", "sla_tracker", shared=True),
    Endpoint("service-levels", "sla_tracker.ServiceLevel", "sla_tracker"),
    Endpoint("service-level-versions", "sla_tracker.ServiceLevelVersion", "sla_tracker"),
    Endpoint("measurements", "sla_tracker.Measurement", "sla_tracker", deletable=True),
    Endpoint("exclusions", "sla_tracker.Exclusion", "sla_tracker"),
    Endpoint("incidents", "sla_tracker.Incident", "sla_tracker"),
    Endpoint("penalty-statements", "sla_tracker.PenaltyStatement", None),
    Endpoint("statement-lines", "sla_tracker.StatementLine", None),
    Endpoint("line-disputes", "sla_tracker.LineDispute", None),
    Endpoint("statement-adjustments", "sla_tracker.StatementAdjustment", None),
    Endpoint("adjustment-disputes", "sla_tracker.AdjustmentDispute", None),
    Endpoint("close-refusals", "sla_tracker.CloseRefusal", None),
    Endpoint("committees", "governance.Committee", "governance"),
    Endpoint("meetings", "governance.Meeting", "governance", record=True),
    Endpoint("decisions", "governance.Decision", "governance", record=True),
    Endpoint("action-items", "governance.ActionItem", "governance", record=True),
    Endpoint("audit-rights", "audits.AuditRight", "contracts"),
    Endpoint("audits", "audits.Audit", "audits"),
    Endpoint("findings", "audits.Finding", "audits"),
)


def list_url(endpoint: Endpoint) -> str:
    return f"/api/v1/{endpoint.prefix}/"


def detail_url(endpoint: Endpoint, obj) -> str:
    return f"/api/v1/{endpoint.prefix}/{obj.pk}/"
