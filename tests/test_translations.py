"""The French catalogue is complete, in step with the code and templates, compiled, and used.

English is the source language; French ships as locale/fr/LC_MESSAGES/django.po and its compiled django.mo.
Refresh both after changing user-visible strings:

    .venv/bin/python manage.py makemessages -l fr --ignore=.venv --ignore=staticfiles --ignore=media \
        --ignore=test-artifacts --ignore=node_modules --no-obsolete
    (translate the new entries in locale/fr/LC_MESSAGES/django.po, drop their "#, fuzzy" flags)
    .venv/bin/python manage.py compilemessages -l fr --ignore=.venv
"""

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

BASE_DIR = Path(settings.BASE_DIR)
LC_MESSAGES = BASE_DIR / "locale" / "fr" / "LC_MESSAGES"
PO_FILE = LC_MESSAGES / "django.po"
MO_FILE = LC_MESSAGES / "django.mo"

# The same folders `makemessages` is told to skip (see the module docstring).
MAKEMESSAGES_IGNORES = [".venv", "staticfiles", "media", "test-artifacts", "node_modules"]
# What the temporary copy of the project leaves out: the above, plus caches, VCS data and the catalogue itself.
COPY_IGNORES = [
    *MAKEMESSAGES_IGNORES,
    ".git",
    ".hypothesis",
    ".pytest_cache",
    ".ruff_cache",
    "__pycache__",
    "*.py[cod]",
    "*.sqlite3",
    "*.sqlite3-journal",
    "locale",
]

needs_gettext = pytest.mark.skipif(
    not (shutil.which("msgfmt") and shutil.which("msgattrib") and shutil.which("xgettext")),
    reason="GNU gettext tools (msgfmt, msgattrib, xgettext) are not installed; apt-get install gettext",
)


def _unquote(line: str) -> str:
    """The text of one quoted PO string ("..."), with its C escapes resolved."""
    return ast.literal_eval(line)


def read_po(text: str) -> list[dict]:
    """A small PO reader: one dict per entry, with msgctxt, msgid, msgid_plural, msgstr (list) and flags.

    Obsolete (#~) entries and the header (empty msgid) are left out.
    """
    entries, entry, field = [], None, None

    def finish():
        if entry is not None and entry.get("msgid"):
            entries.append(entry)

    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#"):
            if line.startswith("#,"):
                if entry is not None and "msgid" in entry:  # a comment opens the next entry
                    finish()
                    entry = None
                entry = entry or {"flags": set(), "msgstr": []}
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            continue
        keyword, _space, rest = line.partition(" ")
        if line.startswith('"'):
            value = _unquote(line)
            if field == "msgstr":
                entry["msgstr"][-1] += value
            else:
                entry[field] += value
            continue
        if keyword in ("msgctxt", "msgid") and entry is not None and "msgid" in entry:
            finish()
            entry = None
        entry = entry or {"flags": set(), "msgstr": []}
        if keyword.startswith("msgstr"):
            field = "msgstr"
            entry["msgstr"].append(_unquote(rest))
        else:
            field = keyword
            entry[field] = _unquote(rest)
    finish()
    return entries


def keys(entries: list[dict]) -> set[tuple]:
    return {(e.get("msgctxt"), e["msgid"], e.get("msgid_plural")) for e in entries}


def describe(key: tuple) -> str:
    context, msgid, plural = key
    return (f"[{context}] " if context else "") + repr(msgid) + (f" / {plural!r}" if plural else "")


@pytest.fixture(scope="module")
def catalogue() -> list[dict]:
    assert PO_FILE.is_file(), f"{PO_FILE} is missing; run makemessages (see this module's docstring)"
    return read_po(PO_FILE.read_text(encoding="utf-8"))


def test_the_reader_reads_the_whole_catalogue(catalogue):
    count = len(re.findall(r'^msgid "', PO_FILE.read_text(encoding="utf-8"), flags=re.MULTILINE))
    assert len(catalogue) == count - 1  # every entry but the header
    assert len(catalogue) > 500


@needs_gettext
def test_catalogue_is_valid_and_its_header_declares_french():
    result = subprocess.run(
        ["msgfmt", "--check", "-o", os.devnull, str(PO_FILE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    header = PO_FILE.read_text(encoding="utf-8").split("\n\n", 1)[0]
    assert '"Language: fr\\n"' in header
    assert '"Content-Type: text/plain; charset=UTF-8\\n"' in header
    assert '"Plural-Forms: nplurals=2; plural=(n > 1);\\n"' in header
    assert "#, fuzzy" not in header


@needs_gettext
@pytest.mark.parametrize("option", ["--untranslated", "--only-fuzzy"])
def test_catalogue_has_no_untranslated_or_fuzzy_entry(option):
    result = subprocess.run(
        ["msgattrib", option, "--no-obsolete", str(PO_FILE)], capture_output=True, text=True, check=True
    )
    left = sorted(describe(key) for key in keys(read_po(result.stdout)))
    assert not left, f"{len(left)} French entries are {option.removeprefix('--')}:\n" + "\n".join(left)


def test_translations_keep_every_placeholder_and_tag(catalogue):
    pattern = re.compile(r"%\([a-z_]+\)[sd]|%[sd%]|\{[a-z_]*\}|</?[a-zA-Z][^>]*>")
    wrong = []
    for entry in catalogue:
        for source, translated in zip(
            [entry["msgid"], entry.get("msgid_plural", entry["msgid"])], entry["msgstr"], strict=False
        ):
            if translated and sorted(pattern.findall(source)) != sorted(pattern.findall(translated)):
                wrong.append(f"{source!r} -> {translated!r}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_french_writes_one_apostrophe(catalogue):
    # French typography: "l’audit", never "l'audit" beside it (the catalogue mixed both).
    straight = [translated for entry in catalogue for translated in entry["msgstr"] if re.search(r"\w'\w", translated)]
    assert not straight, "straight apostrophes:\n" + "\n".join(straight)


def test_french_puts_a_no_break_space_before_double_punctuation_and_inside_guillemets(catalogue):
    # French typography: "Motif\u00a0:", "«\u00a0texte\u00a0»"; an ordinary space lets the line break before ":".
    plain = [
        translated for entry in catalogue for translated in entry["msgstr"] if re.search(r" [:;!?»]|« ", translated)
    ]
    assert not plain, "ordinary spaces where French needs a no-break space:\n" + "\n".join(plain)


@needs_gettext
def test_every_translatable_string_of_the_code_and_templates_is_in_the_catalogue(tmp_path, catalogue):
    """Extract the strings again from a copy of the project and compare with the committed catalogue."""
    project = tmp_path / "project"
    shutil.copytree(BASE_DIR, project, ignore=shutil.ignore_patterns(*COPY_IGNORES), symlinks=True)
    (project / "locale").mkdir()
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "--no-obsolete"]
        + [f"--ignore={folder}" for folder in MAKEMESSAGES_IGNORES],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    extracted = keys(read_po((project / "locale" / "fr" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")))
    committed = keys(catalogue)

    missing = sorted(describe(key) for key in extracted - committed)
    assert not missing, (
        f"{len(missing)} strings of the code or templates are not in {os.path.relpath(PO_FILE, BASE_DIR)}; "
        "run makemessages and translate them (see tests/test_translations.py):\n" + "\n".join(missing)
    )
    stale = sorted(describe(key) for key in committed - extracted)
    assert not stale, "the French catalogue has strings the code no longer uses; run makemessages:\n" + "\n".join(stale)


@needs_gettext
def test_compiled_catalogue_is_up_to_date(tmp_path):
    assert MO_FILE.is_file(), f"{MO_FILE} is missing; run compilemessages (see this module's docstring)"
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(PO_FILE)], check=True)
    with fresh.open("rb") as handle:
        expected = gettext.GNUTranslations(handle)
    with MO_FILE.open("rb") as handle:
        committed = gettext.GNUTranslations(handle)
    stale = sorted(
        repr(key)
        for key in expected._catalog.keys() | committed._catalog.keys()
        if expected._catalog.get(key) != committed._catalog.get(key)
    )
    shown = os.path.relpath(MO_FILE, BASE_DIR)
    assert not stale, f"{shown} is out of date; run compilemessages:\n" + "\n".join(stale[:50])
    assert [committed.plural(n) for n in (0, 1, 2, 10)] == [0, 0, 1, 1]


def test_key_strings_come_out_in_french():
    from accounts.choices import Role
    from sla_tracker.choices import StatementStatus
    from sla_tracker.models import PenaltyStatement

    # An alias, so that the extraction of test strings does not put these in the catalogue.
    french = translation.gettext
    plural = translation.ngettext
    with translation.override("fr"):
        assert [str(role.label) for role in Role] == [
            "Administrateur",
            "Responsable prestataires",
            "Achats",
            "Membre du comité de pilotage",
            "Auditeur",
            "Utilisateur prestataire",
        ]
        assert [str(status.label) for status in StatementStatus] == [
            "Brouillon",
            "En revue",
            "Contesté",
            "Approuvé",
            "Facturé",
        ]
        assert str(PenaltyStatement._meta.verbose_name_plural) == "relevés de pénalités"
        assert french("Penalty report") == "Rapport des pénalités"
        assert french("Steering committees") == "Comités de pilotage"
        assert plural("%(counter)s finding", "%(counter)s findings", 1) % {"counter": 1} == "1 constat"
        assert plural("%(counter)s finding", "%(counter)s findings", 3) % {"counter": 3} == "3 constats"
    with translation.override("en"):
        assert str(Role.PROCUREMENT.label) == "Procurement"


def test_british_english_reads_the_english_source_and_needs_no_catalogue():
    """British English ("en-gb") differs from the source only in how dates are written, which Django's en_GB formats
    and config.formats give: its words are the English source, whatever the French catalogue holds."""
    from accounts.choices import Role

    assert "en-gb" in dict(settings.LANGUAGES)
    # Aliases, so that the extraction of test strings does not put these in the catalogue.
    english, in_context = translation.gettext, translation.pgettext
    with translation.override("en-gb"):
        assert str(Role.PROCUREMENT.label) == "Procurement"
        assert english("Penalty report") == "Penalty report"
        # The first-of-month formats stay untranslated: config.formats then uses en_GB's DATE_FORMAT.
        assert in_context("date format of the first day of a month", "N j, Y") == "N j, Y"
        assert in_context("date and time format of the first day of a month", "N j, Y, P") == "N j, Y, P"
