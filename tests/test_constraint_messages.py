"""Every database constraint's message can be shown: Django formats it with the constraint's name
(``message % {"name": …}``), so a bare "%" in it (or in its translation) turned a refused write into
a server error."""

import pytest
from django.apps import apps
from django.utils import translation


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_constraints_violation_message_formats(language):
    checked = 0
    with translation.override(language):
        for model in apps.get_models():
            for constraint in model._meta.constraints:
                assert constraint.get_violation_error_message(), (model.__name__, constraint.name)
                checked += 1
    assert checked > 20
