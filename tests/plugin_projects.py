"""Build plugin projects as wheels, install them (not editable) into a target folder and run
their own tests in a subprocess, as an integrator's CI would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
IGNORED = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist", ".pytest_cache")


def copy_project(source: Path, workdir: Path) -> Path:
    """A copy of ``source`` in ``workdir`` (building writes into the project folder)."""
    return Path(shutil.copytree(source, workdir / source.name, ignore=IGNORED))


def pip(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args],
        check=True,
        capture_output=True,
    )


def install_wheels(projects: list[Path], workdir: Path) -> Path:
    """Build each project's wheel and install them into ``workdir/site``; return it."""
    dist, site = workdir / "dist", workdir / "site"
    pip("wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), *map(str, projects))
    pip("install", "--no-deps", "--target", str(site), *map(str, sorted(dist.glob("*.whl"))))
    return site


def run_project_tests(project: Path, site: Path) -> subprocess.CompletedProcess[str]:
    """Run ``project``'s tests against the installed wheels (never the source folder: the
    package is imported from ``site``, so a file missing from the wheel fails). SQLite only,
    so that a PostgreSQL run of this suite keeps its database to itself."""
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("FACTURO_TEST_DATABASE_URL", None)
    tests = project / "tests"
    package = next(p for p in project.iterdir() if p.name.startswith("facturo_"))
    shutil.rmtree(package)  # the installed copy, and only it, is under test
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def assert_passed(result: subprocess.CompletedProcess[str], expected: int) -> None:
    """The run passed ``expected`` tests and nothing failed."""
    tail = result.stdout[-4000:] + result.stderr[-2000:]
    assert result.returncode == 0, tail
    assert f"{expected} passed" in result.stdout, tail
