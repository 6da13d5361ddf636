"""The answer of a script the roles run over ansible.builtin.raw (the host's python3, no module around it).

- `script_answer(result)`: the JSON object on the last line of the registered result's output (a terminal merges
  stderr into stdout, so only the last line counts); {} for a result with no output (a skipped task, or
  `default({})` of one that did not run).
"""

import json


def script_answer(result) -> dict:
    lines = (result or {}).get("stdout_lines") or []
    return json.loads(lines[-1]) if lines else {}


class FilterModule:
    def filters(self) -> dict:
        return {"script_answer": script_answer}
