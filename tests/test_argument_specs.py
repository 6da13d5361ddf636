"""Every role's argument specs agree with its defaults; the check itself is proven able to fail."""

from pathlib import Path

from argspec import role_disagreements

REPO = Path(__file__).resolve().parent.parent
ROLES = sorted(p for p in (REPO / "roles").iterdir() if p.is_dir()) if (REPO / "roles").is_dir() else []
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "roles" / "disagreeing"


def test_every_role_specs_agree_with_defaults() -> None:
    problems = [p for role in ROLES for p in role_disagreements(role)]
    assert problems == []


def test_fixture_role_disagreements_are_all_found() -> None:
    problems = role_disagreements(FIXTURE)
    expected = [
        "default disagreeing_undocumented is not documented",
        "disagreeing_size default 2048 differs from defaults/main.yml 4096",
        "disagreeing_optional_only_in_spec is optional but missing from defaults/main.yml",
        "disagreeing_no_description has no description",
        "disagreeing_no_default documents no default",
        "activate: disagreeing_mode default 'copy' differs",
    ]
    for fragment in expected:
        assert any(fragment in p for p in problems), f"not reported: {fragment}\n{problems}"
    assert len(problems) == len(expected), problems


def test_agreeing_options_are_not_reported() -> None:
    problems = role_disagreements(FIXTURE)
    assert not any("disagreeing_name" in p or "disagreeing_required" in p for p in problems)


def test_missing_specs_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "defaults").mkdir()
    (tmp_path / "defaults" / "main.yml").write_text("x: 1\n")
    assert role_disagreements(tmp_path) == [f"{tmp_path.name}: meta/argument_specs.yml is missing"]
