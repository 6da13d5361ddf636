"""Which of the ensured packages a virtualenv lacks: those none of whose modules its Python finds.

Run by the virtualenv's python, isolated (-I: no working directory or PYTHON* variables on the path):
missing_modules.py ITEMS, ITEMS a JSON list of {"module": name or [names], "requirement": "name==version"}.
Prints the missing items as a JSON list, each one's module as a list of names.
"""

import importlib.util
import json
import sys


def found(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:  # a dotted name whose parent package is not there
        return False


def main(argv: list[str]) -> None:
    missing = []
    for item in json.loads(argv[0]):
        names = [item["module"]] if isinstance(item["module"], str) else list(item["module"])
        if not any(found(name) for name in names):
            missing.append({"module": names, "requirement": item["requirement"]})
    print(json.dumps(missing))


if __name__ == "__main__":
    main(sys.argv[1:])
