"""The bundle of services one workstation runs on; the UI receives it whole."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from cobro_tui.clock import Clock
from cobro_tui.policy import Policy
from cobro_tui.services.accounts import AccountService
from cobro_tui.services.contacts import ContactService
from cobro_tui.services.plans import PlanService
from cobro_tui.services.promises import PromiseService
from cobro_tui.services.queue import QueueService
from cobro_tui.services.restrictions import RestrictionService
from cobro_tui.services.rules import RulesService
from cobro_tui.services.status import StatusService
from cobro_tui.services.sync import LocalItem, SyncReport, SyncService, recent_items
from cobro_tui.store.outbox import acknowledge
from cobro_tui.store.rows import prepare_writes

if TYPE_CHECKING:
    from cobro_tui.sync.engine import SyncEngine


@dataclass(frozen=True, slots=True)
class Workstation:
    agent: str
    clock: Clock
    policy: Policy
    queue: QueueService
    accounts: AccountService
    contacts: ContactService
    promises: PromiseService
    plans: PlanService
    status: StatusService
    rules: RulesService
    restrictions: RestrictionService
    sync: SyncService | None = None

    def syncing(self, engine: SyncEngine, interval_seconds: float) -> Workstation:
        """This workstation with a server to sync with; the status bar hears how its rounds go."""
        return replace(self, sync=SyncService(engine, interval_seconds, health=self.status.health))

    def sync_round(self) -> SyncReport:
        """One sync round, then the queue scores of whatever it touched (all after a snapshot)."""
        assert self.sync is not None, "this workstation has no server"
        report = self.sync.round()
        if report.snapshot_entities or report.touched_accounts or report.touched_customers:
            self.queue.rescore_after_sync(
                report.touched_accounts, report.touched_customers, everything=bool(report.snapshot_entities)
            )
        return report

    def after_write(self, listener: Callable[[], None]) -> None:
        """Call `listener` after every local write that has something to send (the app syncs then)."""
        self.contacts.after_write.append(listener)
        self.promises.after_write.append(listener)
        self.plans.after_write.append(listener)
        self.restrictions.after_write.append(listener)

    def prepare_writes(self) -> None:
        """Make ready what the first write needs (the table definitions and their row makers), so that
        it costs what every later one does; for a background thread while the agent reads the queue."""
        prepare_writes()

    def recent_items(self) -> list[LocalItem]:
        return recent_items(self.status.engine)

    def acknowledge(self, mutation_id: str) -> bool:
        """The agent has read a refusal or warning; it leaves the list."""
        return acknowledge(
            self.status.engine,
            mutation_id,
            actor=self.agent,
            device=self.contacts.device.device_id,
            at=self.clock.now(),
        )
