"""The canonical JSON of a statement's input fingerprint: orjson's speed, json's exact text, so
that a fingerprint stored before the change still matches the same inputs."""

import json

from hypothesis import given
from hypothesis import strategies as st

from sla_tracker.penalty_inputs import canonical_json


def json_text(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


# What dump_scenario and history_to_dict give: no floats; integers within 64 bits, any text.
json_ready = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=30,
)


@given(json_ready)
def test_canonical_json_writes_the_text_json_writes(value):
    assert canonical_json(value) == json_text(value)


def test_canonical_json_escapes_what_json_escapes():
    value = {
        "evidence": "CSL-1 ≥ 3 months; €14,400.00 × 1.5",
        "name": "Appels décrochés en 20 s 😀",
        "controls": '\x00\x01\x1f\x7f\b\t\n\f\r"\\/',
        "separators": "\u2028\u2029",
        "é key": 1,
        "a": [True, False, None, 0, -1],
    }

    text = canonical_json(value)

    assert text == json_text(value)
    assert text.isascii()
    assert "\\u20ac" in text and "\\ud83d\\ude00" in text and "\\u007f" in text


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFFFF, exclude_categories=["Cs"])))
def test_canonical_json_writes_characters_of_the_basic_plane_as_json_does(text):
    value = {"evidence": f"CSL-1 ≥ 3 months; {text}", "credit": "€ 14,400.00 – capped"}

    assert canonical_json(value) == json_text(value)


def test_what_orjson_refuses_is_written_by_json():
    value = {"sum": 2**70, "broken": "\ud800"}

    assert canonical_json(value) == json_text(value) == '{"broken":"\\ud800","sum":1180591620717411303424}'
