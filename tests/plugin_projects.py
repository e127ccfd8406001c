"""Build plugin projects as wheels, install them (not editable) into a fresh virtualenv and
run their own tests there, as an integrator's CI would.

The virtualenv is made cheap: no pip of its own (this environment's pip installs into it with
``--python``) and the core and its dependencies seen through a ``.pth`` that adds this
environment's site-packages, so nothing is downloaded or rebuilt."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from collections.abc import Sequence
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


def site_packages(python: Path) -> Path:
    """The site-packages folder of the environment of ``python``."""
    return Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )


def fresh_virtualenv(folder: Path) -> Path:
    """A new virtualenv at ``folder`` that sees this environment's packages (the core)
    through a ``.pth``; return its python."""
    venv.EnvBuilder(with_pip=False).create(folder)
    python = folder / "bin" / "python"
    ours = sysconfig.get_paths()["purelib"]
    (site_packages(python) / "facturo_core.pth").write_text(
        f"import site; site.addsitedir({ours!r})\n"
    )
    return python


def install_wheels(projects: list[Path], workdir: Path) -> Path:
    """Build each project's wheel and install them into a fresh virtualenv; return its python."""
    dist = workdir / "dist"
    pip("wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), *map(str, projects))
    python = fresh_virtualenv(workdir / "venv")
    wheels = map(str, sorted(dist.glob("*.whl")))
    pip("--python", str(python), "install", "--no-deps", *wheels)
    return python


def run_project_tests(
    project: Path, python: Path, plugins: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    """Run ``project``'s tests with the virtualenv's ``python`` (never the source folder: it is
    removed, so a file missing from the wheel fails). SQLite only, so that a PostgreSQL run of
    this suite keeps its database to itself.

    The virtualenv also sees this repository's bundled plugins (through the core's
    site-packages); the tests' template database is built with ``plugins`` only (default: the
    project's own), as in an integrator's environment where only theirs is installed."""
    env = dict(os.environ)
    env.pop("FACTURO_TEST_DATABASE_URL", None)
    env.pop("PYTHONPATH", None)
    # Only the plugins the project asks for (its conftest names facturo.testing): an
    # integrator's environment has none of this suite's (hypothesis and schemathesis alone
    # take seconds to import).
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    tests = project / "tests"
    package = next(p for p in project.iterdir() if p.name.startswith("facturo_"))
    env["FACTURO_TEST_PLUGINS"] = ",".join(plugins or [package.name.removeprefix("facturo_")])
    shutil.rmtree(package)  # the installed copy, and only it, is under test
    return subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)],
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
