"""Who keeps a committee's record: administrators and its customer-side members, whatever their role."""

import pytest

from accounts.choices import Role
from governance.choices import Side
from governance.models import ActionItem, Decision
from governance.permissions import committee_id_of, may_change_record_of
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def committee():
    return f.CommitteeFactory()


@pytest.mark.parametrize("role", [Role.COMMITTEE_MEMBER, Role.PROCUREMENT, Role.VENDOR_MANAGER])
def test_a_customer_side_member_keeps_the_record_whatever_their_role(committee, role):
    # A vendor manager sees (and so may keep the record of) the committees of the contracts they own.
    user = committee.contract.owner if role == Role.VENDOR_MANAGER else f.UserFactory(role=role)
    f.CommitteeMemberFactory(committee=committee, user=user)

    assert may_change_record_of(user, committee.pk)


def test_an_administrator_keeps_every_committees_record_without_a_seat(committee):
    assert may_change_record_of(f.UserFactory(administrator=True), committee.pk)


def test_a_customer_user_who_does_not_sit_on_the_committee_does_not_whatever_their_role(committee):
    owner = committee.contract.owner
    assert owner.has_perm("governance.change_meeting")
    f.CommitteeMemberFactory(committee=f.CommitteeFactory(contract=committee.contract), user=owner)

    assert not may_change_record_of(owner, committee.pk)
    assert not may_change_record_of(f.UserFactory(procurement=True), committee.pk)


def test_a_vendor_member_and_an_inactive_member_do_not(committee):
    vendor_user = f.VendorUserFactory(vendor=committee.contract.vendor)
    f.CommitteeMemberFactory(committee=committee, user=vendor_user, side=Side.VENDOR)
    inactive = f.CommitteeMemberFactory(committee=committee, user__is_active=False).user

    assert not may_change_record_of(vendor_user, committee.pk)
    assert not may_change_record_of(inactive, committee.pk)


def test_the_committee_of_a_row_is_its_meetings_also_before_it_is_created(committee):
    meeting = f.MeetingFactory(committee=committee)
    finding = f.FindingFactory(audit__audit_right__contract=committee.contract)

    assert committee_id_of(meeting) == committee.pk
    assert committee_id_of(f.DecisionFactory(meeting=meeting)) == committee.pk
    assert committee_id_of(Decision(meeting=meeting)) == committee.pk
    assert committee_id_of(f.ActionItemFactory(meeting=meeting)) == committee.pk
    assert committee_id_of(ActionItem(finding=finding)) is None
