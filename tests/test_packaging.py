"""The built distribution: ``python -m build`` makes an sdist and, from it, a wheel that holds
every module and data file of the package, installs into a fresh virtual environment and runs
there (rules, models, schema, console script), away from this checkout.

Slow beside the other tests (a build and a venv, a few seconds), so it builds once per session;
it needs no network: ``build`` and ``setuptools`` come from the test extra (``--no-isolation``),
and the wheel is installed without its dependencies, which are then lent from this environment,
only those the wheel's metadata declares (with what they in turn require), so a dependency
missing from ``pyproject.toml`` fails the run instead of being found by accident.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest
from e2e import REPO
from packaging.requirements import Requirement

from secreview import __version__

pytestmark = pytest.mark.packaging


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    done = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


def _project_files() -> list[str]:
    """The files a fresh clone of this working tree holds: tracked and not ignored."""
    listed = _run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=REPO).stdout
    return sorted(name for name in listed.split("\0") if name and (REPO / name).is_file())


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"
    for name in _project_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name)
    # builds the sdist, then the wheel from the unpacked sdist: the sdist must be complete too
    _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", str(work / "dist"), str(source), cwd=work)
    [wheel] = (work / "dist").glob("secreview-*.whl")
    [sdist] = (work / "dist").glob("secreview-*.tar.gz")
    return {"work": work, "source": source, "wheel": wheel, "sdist": sdist}


def _package_files() -> set[str]:
    return {name.removeprefix("src/") for name in _project_files() if name.startswith("src/secreview/")}


def test_wheel_holds_every_module_and_data_file(built: dict[str, Path]) -> None:
    names = set(zipfile.ZipFile(built["wheel"]).namelist())
    missing = _package_files() - names
    assert not missing, f"not in the wheel: {sorted(missing)} (see [tool.setuptools.package-data])"
    assert any(n.startswith("secreview/models/") and n.endswith(".toml") for n in names)
    assert "secreview/report/review.schema.json" in names


def test_wheel_metadata_names_the_version_script_and_dependencies(built: dict[str, Path]) -> None:
    wheel = zipfile.ZipFile(built["wheel"])
    metadata = wheel.read(f"secreview-{__version__}.dist-info/METADATA").decode()
    assert f"\nVersion: {__version__}\n" in metadata
    assert {Requirement(line.split(": ", 1)[1]).name for line in metadata.splitlines()
            if line.startswith("Requires-Dist:") and "extra ==" not in line} >= {"cwe2", "pathspec"}
    entry_points = wheel.read(f"secreview-{__version__}.dist-info/entry_points.txt").decode()
    assert "secreview = secreview.cli:main" in entry_points


def test_sdist_holds_the_sources_readme_and_changelog(built: dict[str, Path]) -> None:
    top = f"secreview-{__version__}/"
    names = {n.removeprefix(top) for n in tarfile.open(built["sdist"]).getnames()}
    missing = {f"src/{n}" for n in _package_files()} - names
    assert not missing, f"not in the sdist: {sorted(missing)}"
    assert {"pyproject.toml", "README.md", "PKG-INFO"} <= names


def _declared_dependencies(wheel: Path) -> list[str]:
    metadata = zipfile.ZipFile(wheel).read(f"secreview-{__version__}.dist-info/METADATA").decode()
    wanted = []
    for line in metadata.splitlines():
        if line.startswith("Requires-Dist:"):
            requirement = Requirement(line.split(": ", 1)[1])
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                wanted.append(requirement.name)
    return wanted


def _with_their_dependencies(names: list[str]) -> list[str]:
    """``names`` and, transitively, what each of them requires in this environment: a declared
    dependency's own dependencies (``cwe2`` needs ``importlib_resources``) come with it."""
    found: list[str] = []
    pending = list(names)
    while pending:
        name = pending.pop()
        if name.lower() in (n.lower() for n in found):
            continue
        found.append(name)
        for line in importlib.metadata.requires(name) or ():
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    return found


def _lend(distributions: list[str], into: Path) -> None:
    """Links to the installed files of exactly these distributions (and their dist-info)."""
    into.mkdir()
    for name in distributions:
        dist = importlib.metadata.distribution(name)
        tops = {Path(str(f)).parts[0] for f in dist.files or () if not str(f).startswith("..")}
        for top in tops - {"__pycache__"}:
            target = Path(str(dist.locate_file(top)))
            if target.exists() and not (into / top).exists():
                (into / top).symlink_to(target)


def test_wheel_installs_and_runs_in_a_fresh_venv(built: dict[str, Path]) -> None:
    work = built["work"]
    env_dir = work / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", str(env_dir), cwd=work)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    _run(sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index",
         str(built["wheel"]), cwd=work)
    site = Path(_run(str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=work).stdout.strip())
    _lend(_with_their_dependencies(_declared_dependencies(built["wheel"])), work / "lent")
    (site / "lent-dependencies.pth").write_text(str(work / "lent") + "\n")

    project = work / "project"
    project.mkdir()
    (project / "app.py").write_text(
        "import subprocess\nfrom flask import Flask, request\napp = Flask(__name__)\n\n\n"
        "@app.route('/run')\ndef run():\n    subprocess.run(request.args['cmd'], shell=True)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    script = env_dir / ("Scripts/secreview.exe" if os.name == "nt" else "bin/secreview")
    where = _run(str(python), "-c", "import secreview; print(secreview.__file__)", cwd=project, env=env).stdout
    assert Path(where.strip()).is_relative_to(site), where

    assert _run(str(script), "-V", cwd=project, env=env).stdout.strip() == f"secreview {__version__}"
    scanned = subprocess.run([str(script), "scan", "app.py", "--format", "json", "--no-cache", "-q"], cwd=project,
                             env=env, capture_output=True, text=True, timeout=120, check=False)
    assert scanned.returncode == 1, scanned.stderr  # a finding: the Flask and subprocess models were found
    [entry] = json.loads(scanned.stdout)["files"]
    assert [(f["rule"], f["location"]["line"]) for f in entry["findings"]] == [("os-command-injection", 8)]
    sarif = subprocess.run([str(script), "scan", "app.py", "--format", "sarif", "--no-cache", "-q"], cwd=project,
                           env=env, capture_output=True, text=True, timeout=120, check=False)
    assert sarif.returncode == 1 and json.loads(sarif.stdout)["version"] == "2.1.0", sarif.stderr
    explained = _run(str(script), "explain", "B602", cwd=project, env=env).stdout
    assert explained.startswith("Bandit B602 is reported by secreview's rule os-command-injection.")


# --- the install paths the documentation gives --------------------------------------------------

DOCUMENTS = ["README.md", "docs/integrations.md", "examples/ci/github-workflow.yml", "CONTRIBUTING.md"]


def test_documents_never_install_an_unpublished_name_or_a_missing_tag() -> None:
    import re

    # the bare name (a PyPI lookup), not "secreview @ git+..." nor a wheel's file name
    bare_name = re.compile(r"pip install\s+(?:--?\S+\s+)*[\"']?secreview(?:\[[^\]]*\])?(?:[=<>!~]=?[^\s\"']*)?[\"']?(?!\s*@)(?:\s|$)")
    for name in DOCUMENTS:
        text = (REPO / name).read_text(encoding="utf-8")
        for line in text.splitlines():
            if "does not install this project" in line:
                continue  # the sentence that says so
            assert not bare_name.search(line), f"{name}: {line.strip()} (secreview is not on PyPI)"
            assert not re.search(r"\brev:\s*v\d", line), f"{name}: {line.strip()} (there is no such tag)"


def test_the_workflow_installs_from_the_repository_at_a_commit() -> None:
    text = (REPO / "examples/ci/github-workflow.yml").read_text(encoding="utf-8")
    assert 'pip install "secreview @ git+${SECREVIEW_REPOSITORY}@${SECREVIEW_COMMIT}"' in text
    assert "SECREVIEW_REPOSITORY:" in text and "SECREVIEW_COMMIT:" in text
    assert "--fail-on-incomplete" in text


def test_pip_installs_secreview_from_a_git_url_pinned_to_a_commit(built: dict[str, Path]) -> None:
    """The documented form, ``secreview @ git+<repository>@<commit>``, against this repository."""
    commit = _run("git", "rev-parse", "HEAD", cwd=REPO).stdout.strip()
    out = built["work"] / "from-git"
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--wheel-dir", str(out), f"secreview @ git+file://localhost{REPO.as_posix()}@{commit}",
         cwd=built["work"])  # a direct reference needs a host: file://localhost/..., not file:///...
    [wheel] = out.glob("secreview-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "secreview/cli.py" in names and "secreview/models/stdlib.toml" in names
