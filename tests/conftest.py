"""Shared fixtures. The network is closed to tests: nothing here reaches outside the machine."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import translation


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the default language: a request of a French user leaves French active in
    the thread (LocaleMiddleware does not deactivate it), which would leak into the next test."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: what is kept there by a row's id (a refused KPI import's errors,
    by its upload's id) would otherwise reach a later test whose rows get the same ids."""
    cache.clear()


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL); SQLite lacks this feature")


@pytest.fixture
def rejected_by():
    """`with rejected_by(Model, "constraint_name"): ...` asserts the database refuses the block's write
    because of that very constraint (not a NOT NULL or another check), on SQLite and PostgreSQL.

    PostgreSQL names the constraint in its error; SQLite names a CHECK constraint, and a UNIQUE one
    by its columns. The block runs in its own savepoint, so the test can go on using the database.
    """
    import contextlib

    from django.db import IntegrityError, models, transaction

    @contextlib.contextmanager
    def rejected(model, name):
        constraint = next(c for c in model._meta.constraints if c.name == name)
        with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
            yield
        message = str(excinfo.value)
        if connection.vendor != "sqlite":
            assert f'constraint "{name}"' in message, message
        elif isinstance(constraint, models.UniqueConstraint):
            table = model._meta.db_table
            columns = ", ".join(f"{table}.{model._meta.get_field(field).column}" for field in constraint.fields)
            assert message == f"UNIQUE constraint failed: {columns}", message
        else:
            assert message == f"CHECK constraint failed: {name}", message

    return rejected
