"""docs/openapi.json is the contract integrators implement; it must match what the server serves."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import NOW

from cobro_tui.clock import FixedClock
from cobro_tui.server.app import create_app
from cobro_tui.server.db import migrate, server_engine

DOC = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def current_document(tmp_path: Path) -> str:
    engine = server_engine(f"sqlite:///{tmp_path / 'openapi.db'}")
    migrate(engine)
    document = create_app(engine, FixedClock(NOW)).openapi()
    engine.dispose()
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_the_committed_openapi_document_is_current(tmp_path: Path) -> None:
    expected = current_document(tmp_path)
    assert DOC.exists(), "docs/openapi.json is missing; run: python -m tests.test_openapi"
    assert DOC.read_text() == expected, (
        "docs/openapi.json is out of date; regenerate it with: .venv/bin/python tests/test_openapi.py"
    )


def test_every_endpoint_of_the_protocol_is_documented(tmp_path: Path) -> None:
    paths = json.loads(current_document(tmp_path))["paths"]
    for path in (
        "/v1/auth/login",
        "/v1/devices/register",
        "/v1/mutations",
        "/v1/changes",
        "/v1/snapshot",
        "/v1/mutations/{mutation_id}",
    ):
        assert path in paths


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        DOC.write_text(current_document(Path(folder)))
    print(f"wrote {DOC}")
