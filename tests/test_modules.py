"""The collection's modules (plugins/modules/): ansible-doc and ansible-lint read DOCUMENTATION, EXAMPLES and
RETURN as YAML, and the options documented are those the module accepts."""

import ast
import importlib.util
from pathlib import Path

import pytest
import yaml

MODULES = sorted((Path(__file__).resolve().parent.parent / "plugins" / "modules").glob("*.py"))


def constant(tree: ast.Module, name: str) -> str:
    return next(
        node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == name for t in node.targets)
    )


class Built(Exception):
    pass


def argument_spec(path: Path) -> dict:
    """The argument_spec the module's main() builds its AnsibleModule with."""
    spec = importlib.util.spec_from_file_location(f"module_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    seen = {}

    def capture(argument_spec, **_kwargs):
        seen.update(argument_spec)
        raise Built

    module.AnsibleModule = capture
    with pytest.raises(Built):
        module.main()
    return seen


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_the_module_documents_its_options(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    documentation = yaml.safe_load(constant(tree, "DOCUMENTATION"))
    yaml.safe_load(constant(tree, "EXAMPLES"))
    yaml.safe_load(constant(tree, "RETURN"))
    assert documentation["module"] == path.stem
    assert set(documentation["options"]) == set(argument_spec(path))


def test_every_module_is_checked() -> None:
    assert {p.stem for p in MODULES} >= {"host_state", "release_switch", "service_release"}
