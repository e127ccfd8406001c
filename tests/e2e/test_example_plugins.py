"""The example gateway and provisioner, installed with pip as wheels, pass their own tests:
order → pay on the sandbox's hosted page → signed notification → invoice → provisioned;
duplicates, forgeries, the status query and a refund; create, renew, suspend, unsuspend."""

from __future__ import annotations

from pathlib import Path

from tests.plugin_projects import (
    EXAMPLES,
    assert_passed,
    copy_project,
    install_wheels,
    run_project_tests,
    site_packages,
)


def test_example_gateway_and_provisioner_pass_their_tests_installed_as_wheels(
    tmp_path: Path,
) -> None:
    projects = [
        copy_project(EXAMPLES / name, tmp_path)
        for name in ("facturo-examplepay", "facturo-exampleprovisioner")
    ]
    python = install_wheels(projects, tmp_path)
    site = site_packages(python)
    assert (site / "facturo_examplepay" / "templates" / "examplepay" / "sandbox.html").is_file()
    assert (site / "facturo_exampleprovisioner" / "migrations").is_dir()
    assert_passed(run_project_tests(projects[0], python), 5)
    assert_passed(run_project_tests(projects[1], python), 2)
