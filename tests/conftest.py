import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


import pytest


@pytest.fixture(autouse=True)
def _every_sarif_rendered_in_a_test_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a test does, SARIF rendered in this process is checked against the official schema."""
    from e2e import sarif_errors

    from secreview.report import FORMATS, sarif

    original = sarif.render

    def checked(result):
        text = original(result)
        errors = sarif_errors(text)
        assert not errors, "SARIF output breaks the SARIF 2.1.0 schema:\n" + "\n".join(errors)
        return text

    monkeypatch.setattr(sarif, "render", checked)
    monkeypatch.setitem(FORMATS, "sarif", checked)
