"""Filters for the site's input contract (roles/app).

- `closest_name(name, candidates)`: the candidate most like `name` (difflib's ratio, at least 0.6),
  or '' when none is close: the suggestion for an unknown `app_*` key.
"""

import difflib


def closest_name(name: str, candidates: list) -> str:
    matches = difflib.get_close_matches(str(name), [str(c) for c in candidates], n=1, cutoff=0.6)
    return matches[0] if matches else ""


class FilterModule:
    def filters(self) -> dict:
        return {"closest_name": closest_name}
