"""Shared fixtures. The network is closed to tests: nothing here reaches outside the machine."""

import pytest
from django.db import connection


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL); SQLite lacks this feature")
