"""The playground's messages (:mod:`chainrule.playground.connection`): what the server cannot
act on is a ProtocolError naming the problem; numbers that overflowed go out as null."""

from __future__ import annotations

import json

import pytest

from chainrule.playground.connection import (
    MAX_MESSAGE_CHARS,
    ProtocolError,
    parse_message,
    to_json,
)


def test_a_message_is_a_json_object_with_a_type():
    assert parse_message('{"type": "step", "n": 2}') == {"type": "step", "n": 2}


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (b'{"type": "step"}', "JSON text, not binary"),
        (" " * (MAX_MESSAGE_CHARS + 1), "longer than"),
        ("{type: step}", "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "nesting too deep"),
        ('{"type": ' + "9" * 5000 + "}", "number too long"),
        ('["step"]', 'a JSON object with a "type" string'),
        ('{"type": 3}', 'a JSON object with a "type" string'),
    ],
)
def test_a_message_the_server_cannot_act_on_is_a_protocol_error(text, match):
    with pytest.raises(ProtocolError, match=match):
        parse_message(text)


def test_numbers_that_overflowed_go_out_as_null():
    message = {"cost": float("inf"), "W": [[1.5, float("nan")]], "n": (2, float("-inf"))}
    assert json.loads(to_json(message)) == {"cost": None, "W": [[1.5, None]], "n": [2, None]}
    assert to_json({"cost": 0.25}) == '{"cost": 0.25}'
