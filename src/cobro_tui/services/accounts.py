"""Opening an account for a call: its file, its alerts, the debtor's local time; showing personal
data in full (audited); and the next account worth calling."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from cobro_tui.clock import Clock
from cobro_tui.domain.account_file import AccountFile, Alert, alerts_for
from cobro_tui.domain.buckets import Bucket
from cobro_tui.domain.masking import REVEAL_REASONS
from cobro_tui.domain.models import ContactPoint
from cobro_tui.domain.offers import Offer, broken_recently, offers_for
from cobro_tui.errors import Refusal, UserFacingError
from cobro_tui.i18n import t
from cobro_tui.policy import Policy
from cobro_tui.services.rules import PointDecision, RulesService
from cobro_tui.store.account_file import contacted_since, read_account_file
from cobro_tui.store.actions import record_reveal
from cobro_tui.store.device import Device
from cobro_tui.store.queue import next_unworked


@dataclass(frozen=True, slots=True)
class AccountView:
    """An account file as of now, with what the screen derives from it."""

    file: AccountFile
    alerts: tuple[Alert, ...]
    bucket: Bucket
    days_to_next_bucket: int | None
    debtor_zone: ZoneInfo
    debtor_now: datetime
    point_zones: dict[str, ZoneInfo]  # contact point id -> its zone (a customer may live across a border)
    rules: dict[str, PointDecision] = field(default_factory=dict)  # point id (or "ref:" + reference id) -> decision
    offers: tuple[Offer, ...] = ()  # what the offer policy lets the agent offer today, best first


@dataclass(frozen=True, slots=True)
class AccountService:
    engine: Engine
    clock: Clock
    policy: Policy
    device: Device
    agent_zone: ZoneInfo
    rules: RulesService | None = None

    def debtor_zone(self, file: AccountFile) -> ZoneInfo:
        """The zone of the primary contact point with a place (else the first one, else the fallback)."""
        placed = [p for p in file.contact_points if p.state_code or p.municipality_code]
        placed.sort(key=lambda p: not p.is_primary)
        zones = self.policy.zones
        return zones.zone(placed[0].state_code, placed[0].municipality_code) if placed else ZoneInfo(zones.fallback)

    def point_zone(self, point: ContactPoint) -> ZoneInfo:
        return self.policy.zones.zone(point.state_code, point.municipality_code)

    def open(self, account_id: str) -> AccountView:
        """The account as the agent needs it for a call; Refusal when it left this workstation."""
        file = read_account_file(self.engine, account_id)
        if file is None:
            raise Refusal("account.gone")
        now = self.clock.now()
        zone = self.debtor_zone(file)
        debtor_now = now.astimezone(zone)
        file = file.judged(debtor_now.date())
        start_of_day = datetime.combine(debtor_now.date(), time(0), zone)
        worked = contacted_since(self.engine, file.customer.id, start_of_day)
        buckets = self.policy.buckets
        return AccountView(
            file=file,
            alerts=alerts_for(file, now, debtor_now.date(), worked),
            bucket=buckets.bucket_for(file.account.dpd),
            days_to_next_bucket=buckets.days_to_next(file.account.dpd),
            debtor_zone=zone,
            debtor_now=debtor_now,
            point_zones={p.id: self.point_zone(p) for p in file.contact_points},
            rules={d.point_id: d for d in self.rules.by_point(account_id, now) if d.point_id} if self.rules else {},
            offers=tuple(
                offers_for(
                    file.account,
                    file.open_promises(),
                    broken_recently([p.item for p in file.promises], debtor_now.date()),
                    debtor_now.date(),
                    "agent",
                    self.policy.offers,
                )
            ),
        )

    def reveal(self, account_id: str, what: str, reason: str) -> None:
        """Record that the agent chose to see personal data of this account in full, and why (a code
        of masking.REVEAL_REASONS; anything else is refused and nothing is recorded)."""
        if reason not in REVEAL_REASONS:
            raise UserFacingError(t("reveal.unknown_reason", reason=reason, known=", ".join(REVEAL_REASONS)))
        record_reveal(
            self.engine,
            account_id=account_id,
            what=what,
            reason=reason,
            actor=self.device.agent_id,
            device=self.device,
            at=self.clock.now(),
            config_hash=self.policy.config_hash,
        )

    def next_best(self, skip: Sequence[str] = ()) -> str | None:
        """The next account worth calling: first in queue order among those not worked today
        (the agent's day), leaving out `skip`; None when every account was worked."""
        now = self.clock.now().astimezone(self.agent_zone)
        start_of_day = datetime.combine(now.date(), time(0), self.agent_zone)
        # Someone who may be called now first; when nobody may, the first account not worked today.
        return next_unworked(
            self.engine, self.device.agent_id, start_of_day, tuple(skip), callable_at=now
        ) or next_unworked(self.engine, self.device.agent_id, start_of_day, tuple(skip))
