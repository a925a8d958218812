"""A user's API token: one at most; creating one replaces the previous one; revoking reports whether there was one."""

import pytest
from rest_framework.authtoken.models import Token

from accounts.services import create_api_token, revoke_api_token
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_creating_a_token_replaces_the_users_previous_one_and_no_one_elses():
    user, other = UserFactory(), UserFactory()
    first = create_api_token(user=user)
    others = create_api_token(user=other)

    second = create_api_token(user=user)

    assert list(Token.objects.filter(user=user)) == [second]
    assert second.key != first.key
    assert Token.objects.filter(pk=others.pk).exists()


def test_revoking_deletes_only_the_users_token_and_says_whether_there_was_one():
    user, other = UserFactory(), UserFactory()
    create_api_token(user=user)
    kept = create_api_token(user=other)

    assert revoke_api_token(user=user) is True
    assert revoke_api_token(user=user) is False
    assert list(Token.objects.all()) == [kept]
