"""The command palette (ctrl+p): find an account by name, account number or phone, and every
action of the screen in front."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import Hit, Hits, Provider
from textual.content import Content

from cobro_tui.domain.text import shown_line
from cobro_tui.i18n import t
from cobro_tui.ui.messages import OpenAccount

if TYPE_CHECKING:
    from cobro_tui.ui.app import CobroApp


class AccountSearch(Provider):
    """Accounts of this workstation matching what is typed (searched in the cache, off the UI thread)."""

    async def search(self, query: str) -> Hits:
        app = cast("CobroApp", self.app)
        if len(query.strip()) < 2:
            return
        hits = await asyncio.to_thread(app.workstation.queue.search, query)
        matcher = self.matcher(query)
        for rank, hit in enumerate(hits):
            label = f"{shown_line(hit.customer_name)} · •{hit.account_last4}"
            yield Hit(
                1.0 - rank / 100,
                matcher.highlight(label) if hit.matched == "name" else Content(label),
                partial(app.post_message, OpenAccount(hit.account_id)),
                help=t(f"search.by_{hit.matched}"),
            )
