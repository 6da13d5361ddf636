"""plugins/filter/script.py: the answer of a script run over raw, as the roles read it."""

import importlib.util
import json
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "script_filter", Path(__file__).resolve().parent.parent / "plugins" / "filter" / "script.py"
)
script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(script)


def test_the_last_line_is_the_answer_whatever_a_terminal_put_before_it():
    result = {"rc": 0, "stdout_lines": ["sudo: a warning", '{"digest": "abc", "state": {}}']}
    assert script.script_answer(result) == {"digest": "abc", "state": {}}


@pytest.mark.parametrize("result", [{}, None, {"skipped": True, "changed": False}, {"stdout_lines": []}])
def test_no_output_is_no_answer(result):
    assert script.script_answer(result) == {}


def test_a_last_line_that_is_not_json_fails_loudly():
    with pytest.raises(json.JSONDecodeError):
        script.script_answer({"stdout_lines": ["Traceback (most recent call last):", "OSError: boom"]})
