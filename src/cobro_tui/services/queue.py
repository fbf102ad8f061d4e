"""The agent's work queue: ordered by score, page by page, and the scores kept current."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from cobro_tui.clock import Clock
from cobro_tui.domain.priority import Reason, reasons
from cobro_tui.domain.queue import QueueFilter, QueueKey, QueuePage, SearchHit
from cobro_tui.policy import Policy
from cobro_tui.services.rules import RulesService
from cobro_tui.store.priority import (
    callbacks_due_between,
    facts_of,
    mark_current,
    refresh_scores,
    scored_day,
    scores_current,
)
from cobro_tui.store.queue import (
    accounts_of_customers,
    queue_count,
    queue_page,
    search_accounts,
)
from cobro_tui.store.rules import contact_times_crossed


@dataclass(frozen=True, slots=True)
class QueueService:
    engine: Engine
    agent: str
    clock: Clock
    policy: Policy
    agent_zone: ZoneInfo
    page_size: int = 200
    # The contact rules: each rescore first works out when each account may be called.
    rules: RulesService | None = None

    def page(
        self,
        after: QueueKey | None = None,
        limit: int | None = None,
        chosen: QueueFilter | None = None,
        count: bool = True,
    ) -> QueuePage:
        """The next page of the queue after `after`, from the top when None, of the accounts that
        pass `chosen` (with their total, -1 without `count`)."""
        today, _, now = self._day()
        return queue_page(self.engine, self.agent, after, limit or self.page_size, chosen, today, now, count)

    def count(self, chosen: QueueFilter | None) -> int:
        """How many accounts pass `chosen` (a filter's total comes after its first page)."""
        today, _, now = self._day()
        return queue_count(self.engine, self.agent, chosen, today, now)

    def search(self, text: str, limit: int = 20) -> list[SearchHit]:
        """Accounts by customer name, account number or phone, best first."""
        return search_accounts(self.engine, self.agent, text, limit)

    def _day(self) -> tuple[date, datetime, datetime]:
        now = self.clock.now()
        today = now.astimezone(self.agent_zone).date()
        return today, datetime.combine(today, time(0), self.agent_zone), now

    def ensure_today(self) -> bool:
        """Score every account when the stored scores are from another day (or never made).
        Returns whether it did."""
        today, _, _ = self._day()
        if scored_day(self.engine) == today:
            return False
        self.rescore(None)
        return True

    def ensure_current(self) -> bool:
        """At start: score everything unless the stored scores are for today and for the data as it
        is (a headless sync may have changed it). Returns whether it scored."""
        today, _, _ = self._day()
        if scores_current(self.engine, today):
            return False
        self.rescore(None)
        return True

    def rescore(self, account_ids: Iterable[str] | None) -> int:
        """Score again the given accounts (None: all of them); returns how many scores changed."""
        today, start, now = self._day()
        ids = None if account_ids is None else sorted(set(account_ids))
        if ids == []:
            return 0
        if self.rules is not None:
            self.rules.store_times(self.rules.contact_times(ids, self.agent, only_changed=True))
        return refresh_scores(
            self.engine, self.agent, today, start, now, self.policy.buckets, self.policy.priority, ids
        )

    def rescore_callbacks_due(self, since: datetime) -> int:
        """Score again the accounts whose callbacks came due, or whose contact window opened or
        closed, after `since` (a minute's timer)."""
        now = self.clock.now()
        due = callbacks_due_between(self.engine, self.agent, since, now)
        crossed = contact_times_crossed(self.engine, self.agent, since, now)
        return self.rescore([*due, *crossed])

    def rescore_after_sync(self, accounts: Iterable[str], customers: Iterable[str], everything: bool) -> int:
        if everything:
            return self.rescore(None)
        changed = self.rescore({*accounts, *accounts_of_customers(self.engine, list(customers))})
        mark_current(self.engine)
        return changed

    def reasons(self, account_id: str) -> list[Reason]:
        """Why an account stands where it does in the queue, factor by factor."""
        today, start, now = self._day()
        facts = facts_of(self.engine, self.agent, account_id, today, start, now, self.policy.buckets)
        return [] if facts is None else reasons(facts, self.policy.priority, now)
