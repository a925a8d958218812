"""The contract register's back office records who changed what, and shows past versions without
restoring them (a restore would write every field of the old row at once)."""

import pytest
from django.urls import reverse

from contracts.choices import ContractStatus
from tests.factories import ContractFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator():
    return UserFactory(administrator=True)


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


def _posted(form) -> dict:
    """What the browser sends back for a form as it is shown."""
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(value, list | tuple):
            data[name] = [str(item) for item in value]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = "" if value is None else str(field.prepare_value(value))
    return data


def _change_form_data(admin_client, contract) -> tuple[str, dict]:
    """The contract's change page URL and what the browser sends back for it, inlines included."""
    url = reverse("admin:contracts_contract_change", args=[contract.pk])
    response = admin_client.get(url)
    data = _posted(response.context["adminform"].form)
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        data |= {management.add_prefix(name): management[name].value() for name in management.fields}
    return url, data


def test_a_contract_whose_notice_was_given_is_not_restored_to_a_past_version(admin_client, administrator):
    contract = ContractFactory(status=ContractStatus.DRAFT)
    draft = contract.history.earliest()
    contract.status = ContractStatus.NOTICE_GIVEN
    contract.save()
    url = reverse("admin:contracts_contract_simple_history", args=[contract.pk, draft.history_id])

    page = admin_client.get(url)
    response = admin_client.post(url, _posted(page.context["adminform"].form))

    assert page.status_code == 200
    assert response.status_code == 403
    contract.refresh_from_db()
    assert contract.status == ContractStatus.NOTICE_GIVEN
    assert contract.history.count() == 2


def test_a_contract_changed_in_the_back_office_records_who_changed_it(admin_client, administrator):
    contract = ContractFactory()
    url, data = _change_form_data(admin_client, contract)

    changed = admin_client.post(url, {**data, "title": "Customer service outsourcing (voice, chat, e-mail)"})

    assert changed.status_code == 302
    record = contract.history.latest()
    assert (record.title, record.history_user) == ("Customer service outsourcing (voice, chat, e-mail)", administrator)


@pytest.mark.parametrize(
    ("status", "change", "field"),
    [
        (ContractStatus.ACTIVE, {"end_date": "2031-12-31"}, "end_date"),
        (ContractStatus.ACTIVE, {"status": ContractStatus.NOTICE_GIVEN}, "status"),
        (ContractStatus.TERMINATED, {"status": ContractStatus.ACTIVE}, "status"),
    ],
    ids=["end of term", "notice without the decision", "an ended contract revived"],
)
def test_the_back_office_refuses_to_edit_around_the_renewal_decisions(admin_client, status, change, field):
    contract = ContractFactory(status=status)
    url, data = _change_form_data(admin_client, contract)

    response = admin_client.post(url, {**data, **change})

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    stored = type(contract).objects.get(pk=contract.pk)
    assert (stored.status, stored.end_date) == (contract.status, contract.end_date)
    assert contract.history.count() == 1


def test_the_back_office_activates_a_draft_contract(admin_client):
    contract = ContractFactory(status=ContractStatus.DRAFT)
    url, data = _change_form_data(admin_client, contract)

    response = admin_client.post(url, {**data, "status": ContractStatus.ACTIVE})

    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE


def test_the_history_of_a_row_out_of_the_users_sight_is_404_like_its_change_page(client):
    from django.contrib.auth.models import Permission

    from accounts.choices import Role

    manager = UserFactory(role=Role.VENDOR_MANAGER, is_staff=True)
    manager.user_permissions.add(*Permission.objects.filter(codename__in=["view_contract", "change_contract"]))
    own, other = ContractFactory(owner=manager), ContractFactory()
    record = other.history.earliest()
    client.force_login(manager)

    assert client.get(reverse("admin:contracts_contract_history", args=[own.pk])).status_code == 200
    assert client.get(reverse("admin:contracts_contract_history", args=[other.pk])).status_code == 404
    assert (
        client.get(reverse("admin:contracts_contract_simple_history", args=[other.pk, record.history_id])).status_code
        == 404
    )


def test_a_deleted_rows_history_is_for_superusers(admin_client):
    from django.contrib.auth.models import Permission

    from accounts.choices import Role
    from tests.factories import VendorFactory

    vendor = VendorFactory()
    pk = vendor.pk
    vendor.delete()
    assert admin_client.get(reverse("admin:contracts_vendor_history", args=[pk])).status_code == 200

    procurement = UserFactory(role=Role.PROCUREMENT, is_staff=True)
    procurement.user_permissions.add(*Permission.objects.filter(codename="view_vendor"))
    admin_client.force_login(procurement)
    assert admin_client.get(reverse("admin:contracts_vendor_history", args=[pk])).status_code == 404


def test_a_vendor_user_is_not_offered_as_a_contracts_owner_or_auditor(admin_client):
    from tests.factories import VendorUserFactory

    contract = ContractFactory()
    outsider = VendorUserFactory(vendor=contract.vendor)
    form = admin_client.get(reverse("admin:contracts_contract_change", args=[contract.pk])).context["adminform"].form

    assert outsider not in form.fields["owner"].queryset
    assert outsider not in form.fields["auditors"].queryset
    assert contract.owner in form.fields["owner"].queryset
