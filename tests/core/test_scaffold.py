"""``facturo plugin new``: each variant, built as a wheel and installed (not editable), passes
the tests it was generated with; bad names are one line and a non-zero exit."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from facturo.cli import main
from facturo.db.migrations import core_head
from tests.plugin_projects import (
    assert_passed,
    install_wheels,
    run_project_tests,
    site_packages,
)

#: variant flag → (project folder, tests the example ships)
VARIANTS = {
    "": ("facturo-shop-notes", 1),
    "--gateway": ("facturo-acmepay", 5),
    "--provisioner": ("facturo-acmehost", 2),
}


def new(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["plugin", "new", *args])
    return result.exit_code, result.output


def test_each_generated_plugin_passes_its_tests_installed_as_a_wheel(tmp_path: Path) -> None:
    names = {"": "shop_notes", "--gateway": "acmepay", "--provisioner": "acmehost"}
    projects = []
    for flag, name in names.items():
        code, output = new(name, *([flag] if flag else []), "--dir", str(tmp_path))
        folder = tmp_path / VARIANTS[flag][0]
        assert (code, output.strip()) == (0, f"created {folder}")
        projects.append(folder)
    gateway = (tmp_path / "facturo-acmepay" / "facturo_acmepay" / "gateway.py").read_text()
    assert "class AcmepayGateway(BaseGateway)" in gateway and "examplepay" not in gateway
    (migration,) = (tmp_path / "facturo-acmehost" / "facturo_acmehost" / "migrations").glob(
        "acmehost_0001_*.py"
    )
    assert f'depends_on = "{core_head()}"' in migration.read_text()

    python = install_wheels(projects, tmp_path)
    site = site_packages(python)
    assert (site / "facturo_acmepay" / "templates" / "acmepay" / "sandbox.html").is_file()
    for flag, project in zip(names, projects, strict=True):
        assert_passed(run_project_tests(project, python), VARIANTS[flag][1])


def test_bad_names_are_refused_in_one_line(tmp_path: Path) -> None:
    for bad in ("9lives", "has-dash", "Upper", "class", "ruralvia"):
        code, output = new(bad, "--dir", str(tmp_path))
        assert code != 0, bad
        assert output.startswith("error: ") and output.count("\n") == 1, output
    assert new("twice", "--dir", str(tmp_path))[0] == 0
    code, output = new("twice", "--dir", str(tmp_path))
    assert code != 0 and output == f"error: {tmp_path / 'facturo-twice'} already exists\n"


def test_generated_plugins_find_their_resources_by_convention(tmp_path: Path) -> None:
    for name, flag in (
        ("conv_plain", ""),
        ("conv_pay", "--gateway"),
        ("conv_host", "--provisioner"),
    ):
        assert new(name, *([flag] if flag else []), "--dir", str(tmp_path))[0] == 0
        package = tmp_path / f"facturo-{name.replace('_', '-')}" / f"facturo_{name}"
        source = "\n".join(p.read_text(encoding="utf-8") for p in package.rglob("*.py"))
        for hook in ("template_dirs", "locale_dirs", "db_migrations"):
            assert f"def {hook}(" not in source, (name, hook)
        assert (package / "migrations").is_dir()
