"""What the export tests share: the CRM's credential and a reader that follows every page."""

from __future__ import annotations

from typing import Any

import httpx
from sync_support import integration_headers


def export_headers(url: str) -> dict[str, str]:
    """A machine credential with the export scope only, as the CRM would hold."""
    return integration_headers(url, ("export",), name="crm")


def read_all(
    url: str, headers: dict[str, str], cursor: str | None = None, limit: int = 1000, since: str | None = None
) -> tuple[list[dict[str, Any]], str]:
    """Every event after `cursor` (or from `since`), page by page; the events and the last cursor."""
    events: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        elif since:
            params["since"] = since
        answer = httpx.get(f"{url}/v1/export/events", params=params, headers=headers, timeout=30)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert page["layout"] == 1
        events += page["events"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return events, cursor


def of_kind(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e["data"] for e in events if e["kind"] == kind]
