"""Every role README's variables section is what tools/role_docs.py renders from the argument specs;
the check is proven able to fail."""

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TOOL = REPO / "tools" / "role_docs.py"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "roles" / "documented"

_spec = importlib.util.spec_from_file_location("role_docs", TOOL)
role_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(role_docs)


def run_tool(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True, check=False)


@pytest.fixture
def role(tmp_path: Path) -> Path:
    """A copy of the fixture role whose README is up to date."""
    copy = tmp_path / "documented"
    shutil.copytree(FIXTURE, copy)
    return copy


def test_every_role_readme_is_generated_from_its_specs() -> None:
    roles = role_docs.roles_in(REPO / "roles")
    assert len(roles) >= 7, roles
    assert role_docs.stale_readmes(roles, write=False) == [], "run tools/role_docs.py (make docs)"


def test_check_fails_when_a_description_changed_and_a_rewrite_fixes_it(role: Path) -> None:
    assert run_tool("--check", role).returncode == 0
    specs = role / "meta" / "argument_specs.yml"
    specs.write_text(specs.read_text().replace("Their password.", "Their new password."))
    readme_before = (role / "README.md").read_text()

    check = run_tool("--check", role)
    assert check.returncode == 1
    assert f"{role / 'README.md'} is out of date" in check.stdout
    assert (role / "README.md").read_text() == readme_before

    assert run_tool(role).returncode == 0
    assert "| Their new password. Never logged (`no_log`). |" in (role / "README.md").read_text()
    assert run_tool("--check", role).returncode == 0


def test_only_the_text_between_the_markers_is_generated(role: Path) -> None:
    readme = role / "README.md"
    readme.write_text(readme.read_text().replace("| `documented_mode` |", "| `documented_mode_edited_by_hand` |"))
    readme.write_text(readme.read_text().replace("text after the markers", "text after the markers, edited,"))
    assert run_tool(role).returncode == 0
    text = readme.read_text()
    assert "documented_mode_edited_by_hand" not in text
    assert "Hand-written text before the markers stays." in text
    assert "Hand-written text after the markers, edited, stays." in text


def test_rows_show_type_default_or_required_choices_and_description() -> None:
    section = role_docs.render_section(role_docs.load_specs(FIXTURE))
    expected = [
        "**Entry point `main`**: Fixture for the README generator.",
        "| `documented_name` | str | required |  | The name; see `documented_mode`. |",
        "| `documented_mode` | str | `link` | `link`, `copy` | How files are placed. A list of sentences is joined. |",
        '| `documented_filter` | str | `"{{ documented_name \\| upper }}"` |  | A Jinja default, with a pipe. |',
        "| `documented_hosts` | list of str | `[alpha.example.org, beta.example.org, gamma.example.org, …]` |",
        "| `documented_users[].password` | str |  |  | Their password. Never logged (`no_log`). |",
        "**Entry point `activate`**: Second entry point.",
        "| Variable | Type | Default | Description |",  # no Choices column where no option has choices
        "A default ending in … is shortened here; `defaults/main.yml` has it in full.",
    ]
    for line in expected:
        assert line in section, f"missing: {line}\n{section}"


@pytest.mark.parametrize(
    ("text", "markdown"),
    [
        ("Set O(x_y) to V(true); C(a|b).", "Set `x_y` to `true`; `a\\|b`."),
        ("Under /srv/<app>, e.g. app_code_release_path.", "Under `/srv/<app>`, e.g. `app_code_release_path`."),
        ('"" for none; "unix:/path" or on/off over HTTP/2.', '`""` for none; `unix:/path` or on/off over HTTP/2.'),
    ],
)
def test_descriptions_become_markdown_for_a_table_cell(text: str, markdown: str) -> None:
    assert role_docs.markdown(text) == markdown


def test_a_readme_without_markers_is_an_error(role: Path) -> None:
    (role / "README.md").write_text("# documented\n\nNo markers.\n")
    result = run_tool("--check", role)
    assert result.returncode == 2
    assert "needs one line <!-- BEGIN role variables" in result.stderr
