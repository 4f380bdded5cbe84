"""Pattern rules that read a definition from another module of the reviewed project."""

from __future__ import annotations

from pathlib import Path

from secreview.config import Config
from secreview.discover import SourceFile
from secreview.review import review_files


def _review(tmp_path: Path, modules: dict[str, str]) -> dict[str, set[tuple[str, int]]]:
    """Review ``modules`` (dotted name -> code) as one package; (rule, line) per module."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    files = []
    for name, code in modules.items():
        path = package / f"{name}.py"
        path.write_text(code)
        files.append(SourceFile(f"pkg/{name}.py", path, False, f"pkg.{name}"))
    result = review_files(files, Config())
    return {r.path[4:-3]: {(f.rule, f.location.line) for f in r.findings} for r in result.files}


LOADERS = """\
import yaml
from yaml.constructor import SafeConstructor


class _Constructor(SafeConstructor):
    pass


class DocLoader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer,
                _Constructor, yaml.resolver.Resolver):
    pass


class ObjectLoader(yaml.FullLoader):
    pass
"""

COMPAT = """\
from pkg import loaders


def DocLoader(stream):
    return loaders.DocLoader(stream)
"""

READERS = """\
import yaml
from pkg.compat import DocLoader
from pkg.loaders import ObjectLoader


def read_doc(stream):
    return yaml.load(stream, Loader=DocLoader)


def read_objects(stream):
    return yaml.load(stream, Loader=ObjectLoader)
"""


def test_yaml_loader_of_the_project_is_judged_by_its_bases(tmp_path: Path) -> None:
    found = _review(tmp_path, {"loaders": LOADERS, "compat": COMPAT, "readers": READERS})
    assert {line for rule, line in found["readers"] if rule == "yaml-unsafe-load"} == {11}


MODES = """\
ANY_READ = 0o444
ANY_WRITE = 0o222
SHARED_RW = ANY_READ | ANY_WRITE
OWNER_RW = 0o600
"""

WRITER = """\
import os
from pkg.modes import OWNER_RW, SHARED_RW


def publish(path):
    os.chmod(path, SHARED_RW)


def keep(path):
    os.chmod(path, OWNER_RW)
"""


def test_mode_constant_imported_from_the_project_is_read_where_it_is_defined(tmp_path: Path) -> None:
    found = _review(tmp_path, {"modes": MODES, "writer": WRITER})
    assert {line for rule, line in found["writer"] if rule == "permissive-file-permissions"} == {6}
