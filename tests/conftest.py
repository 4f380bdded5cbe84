import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


import pytest


@pytest.fixture(autouse=True)
def _every_sarif_and_json_rendered_in_a_test_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a test does, SARIF rendered in this process is checked against the official
    schema, and JSON against the published review schema."""
    from e2e import review_json_errors, sarif_errors

    from secreview.report import FORMATS, json_report, sarif

    for module, name, errors_of, schema in ((sarif, "sarif", sarif_errors, "the SARIF 2.1.0 schema"),
                                            (json_report, "json", review_json_errors, "review.schema.json")):
        def checked(result, _original=module.render, _errors_of=errors_of, _schema=schema):
            text = _original(result)
            errors = _errors_of(text)
            assert not errors, f"output breaks {_schema}:\n" + "\n".join(errors)
            return text

        monkeypatch.setattr(module, "render", checked)
        monkeypatch.setitem(FORMATS, name, checked)


@pytest.fixture(autouse=True)
def _each_test_has_its_own_review_cache(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The CLI caches analyses under $XDG_CACHE_HOME: a test must neither read what another test
    (or the developer's own runs) left there nor fill the developer's cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))


@pytest.fixture(autouse=True)
def _no_colour_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A CI runner that sets FORCE_COLOR must not paint the texts the tests compare."""
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
