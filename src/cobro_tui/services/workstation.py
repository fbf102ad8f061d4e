"""The bundle of services one workstation runs on; the UI receives it whole."""

from __future__ import annotations

from dataclasses import dataclass

from cobro_tui.clock import Clock
from cobro_tui.policy import Policy
from cobro_tui.services.contacts import ContactService
from cobro_tui.services.queue import QueueService
from cobro_tui.services.status import StatusService
from cobro_tui.services.sync import LocalItem, SyncService, recent_items


@dataclass(frozen=True, slots=True)
class Workstation:
    agent: str
    clock: Clock
    policy: Policy
    queue: QueueService
    contacts: ContactService
    status: StatusService
    sync: SyncService | None = None

    def recent_items(self) -> list[LocalItem]:
        return recent_items(self.status.engine)
