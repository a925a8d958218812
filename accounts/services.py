"""Writes of a user's own account: their API token.

A user has at most one token (Django REST framework's Token): creating one replaces the previous
one, which stops working. The API (accounts.api.views) and the web page (accounts.views) both call
these functions.
"""

from django.db import transaction
from rest_framework.authtoken.models import Token


def create_api_token(*, user) -> Token:
    """A fresh API token for `user`; their previous one, if any, stops working."""
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user)


def revoke_api_token(*, user) -> bool:
    """Revoke `user`'s API token; False when they had none."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return bool(deleted)
