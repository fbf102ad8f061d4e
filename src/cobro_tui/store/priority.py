"""Keeping the queue score of each account (domain.priority) in its indexed column."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine

from cobro_tui.domain.buckets import BucketSet
from cobro_tui.domain.priority import AccountFacts, PriorityPoints, score
from cobro_tui.store.device import meta
from cobro_tui.store.engine import write_connection
from cobro_tui.store.types import instant_text

# "+p.status" keeps SQLite off ix_promise_due (status, due_on), which would scan every open promise for
# each account; by account it is a couple of index lookups.
_FACTS = (
    "SELECT a.id, a.bucket, a.past_due, a.risk_segment, a.last_contact_at, "
    "EXISTS (SELECT 1 FROM promise p WHERE p.account_id = a.id AND +p.status = 'open' "
    "        AND p.sync_state <> 'rejected' AND p.due_on = :today), "
    # Broken: still open (or part paid) past its due day, or judged broken in the last week.
    "EXISTS (SELECT 1 FROM promise p WHERE p.account_id = a.id AND p.sync_state <> 'rejected' "
    "        AND ((+p.status IN ('open', 'partial') AND p.due_on < :today) "
    "             OR (+p.status = 'broken' AND p.due_on >= :broken_since))), "
    "EXISTS (SELECT 1 FROM contact_attempt c WHERE c.customer_id = a.customer_id AND c.started_at >= :day_start), "
    # A callback is due when its time has come and nobody has contacted the customer since it was set.
    "EXISTS (SELECT 1 FROM contact_attempt c WHERE c.account_id = a.id AND c.callback_at <= :now "
    "        AND NOT EXISTS (SELECT 1 FROM contact_attempt d WHERE d.customer_id = a.customer_id "
    "                        AND d.started_at > c.started_at)), "
    # The contact rules allow a call now (store.rules keeps these instants).
    "coalesce(a.contact_from <= :now AND a.contact_until > :now, 0) "
    "FROM account a WHERE a.assigned_agent = :agent"
)
# A promise judged broken keeps raising its account for this many days after its due day.
BROKEN_DAYS = 7
# Accounts per statement when only some are refreshed (SQLite's parameter limit is far above).
_CHUNK = 500


def _facts(conn: Connection, sql: str, params: dict[str, object], buckets: BucketSet) -> list[AccountFacts]:
    ranks = {b.code: i for i, b in enumerate(buckets.buckets)}
    # Unpacked in _FACTS' order (a mapping by name costs the whole-queue score a tenth of a second).
    return [
        AccountFacts(
            account_id=account_id,
            bucket_rank=ranks.get(bucket, 0),
            past_due_centavos=past_due,
            risk_segment=risk_segment,
            last_contact_at=datetime.fromisoformat(last_contact_at) if last_contact_at else None,
            promise_due_today=bool(due_today),
            promise_broken=bool(broken),
            contacted_today=bool(contacted_today),
            callback_due=bool(callback_due),
            contact_allowed_now=bool(allowed_now),
        )
        for (
            account_id,
            bucket,
            past_due,
            risk_segment,
            last_contact_at,
            due_today,
            broken,
            contacted_today,
            callback_due,
            allowed_now,
        ) in conn.exec_driver_sql(sql, params)
    ]


def read_facts(
    conn: Connection,
    agent: str,
    today: date,
    day_start: datetime,
    now: datetime,
    buckets: BucketSet,
    account_ids: Sequence[str] | None = None,
) -> list[AccountFacts]:
    """The facts of the agent's accounts (all, or those in `account_ids`) at `now` on the day `today`."""
    params: dict[str, object] = {
        "agent": agent,
        "today": today.isoformat(),
        "broken_since": (today - timedelta(days=BROKEN_DAYS)).isoformat(),
        "day_start": instant_text(day_start),
        "now": instant_text(now),
    }
    if account_ids is None:
        return _facts(conn, _FACTS, params, buckets)
    facts: list[AccountFacts] = []
    for start in range(0, len(account_ids), _CHUNK):
        chunk = list(account_ids[start : start + _CHUNK])
        names = {f"id{i}": value for i, value in enumerate(chunk)}
        sql = f"{_FACTS} AND a.id IN ({', '.join(':' + n for n in names)})"
        facts += _facts(conn, sql, {**params, **names}, buckets)
    return facts


def refresh_scores(
    engine: Engine,
    agent: str,
    today: date,
    day_start: datetime,
    now: datetime,
    buckets: BucketSet,
    points: PriorityPoints,
    account_ids: Sequence[str] | None = None,
) -> int:
    """Score the agent's accounts (all, or those given) and store the scores; with all of them, the
    day is remembered so the next start knows the scores are current. Returns how many changed."""
    with engine.connect() as conn:
        facts = read_facts(conn, agent, today, day_start, now, buckets, account_ids)
        current: dict[str, int] = (
            dict(conn.exec_driver_sql("SELECT id, priority FROM account WHERE assigned_agent = ?", (agent,)).all())
            if account_ids is None
            else {}
        )
    scores = [(score(f, points, now), f.account_id) for f in facts]
    changed = [(s, i) for s, i in scores if current.get(i) != s]
    with write_connection(engine) as conn:
        if changed:
            conn.exec_driver_sql("UPDATE account SET priority = ? WHERE id = ?", changed)
        if account_ids is None:
            conn.exec_driver_sql(
                "UPDATE sync_meta SET priority_day = ?, priority_cursor = cursor WHERE id = 1", (today.isoformat(),)
            )
    return len(changed)


def mark_current(engine: Engine) -> None:
    """The scores of everything the last sync pages touched were made again: they are current as of
    the cursor now stored (so the next start need not score everything)."""
    with write_connection(engine) as conn:
        conn.exec_driver_sql("UPDATE sync_meta SET priority_cursor = cursor WHERE id = 1 AND priority_day IS NOT NULL")


def scored_day(engine: Engine) -> date | None:
    """The day the stored scores were computed for (None: never)."""
    with engine.connect() as conn:
        row = meta(conn, "priority_day")
    return date.fromisoformat(row["priority_day"]) if row and row["priority_day"] else None


def scores_current(engine: Engine, today: date) -> bool:
    """Whether the stored scores are for `today` and for the data the cache holds now (no sync page
    arrived since; local writes score their account at once)."""
    with engine.connect() as conn:
        row = (
            conn.exec_driver_sql(
                "SELECT priority_day, priority_cursor IS cursor AS current FROM sync_meta WHERE id = 1"
            )
            .mappings()
            .first()
        )
    return row is not None and row["priority_day"] == today.isoformat() and bool(row["current"])


def facts_of(
    engine: Engine, agent: str, account_id: str, today: date, day_start: datetime, now: datetime, buckets: BucketSet
) -> AccountFacts | None:
    with engine.connect() as conn:
        found = read_facts(conn, agent, today, day_start, now, buckets, [account_id])
    return found[0] if found else None


def callbacks_due_between(engine: Engine, agent: str, after: datetime, until: datetime) -> list[str]:
    """Accounts whose callback time falls in (after, until]: their scores must change now."""
    with engine.connect() as conn:
        return list(
            conn.exec_driver_sql(
                "SELECT DISTINCT c.account_id FROM contact_attempt c JOIN account a ON a.id = c.account_id "
                "WHERE a.assigned_agent = ? AND c.callback_at > ? AND c.callback_at <= ?",
                (agent, instant_text(after), instant_text(until)),
            ).scalars()
        )
