"""KPI formulas on a small portfolio worked out by hand (docs/kpi.md)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from cobro_tui.domain.kpi import (
    AttemptFact,
    PromiseFact,
    aging,
    contact_figures,
    kept_figures,
    period_target,
    recovery_figures,
    roll_rates,
    vintage,
)
from cobro_tui.domain.models import BucketHistoryEntry
from cobro_tui.policy import Policy


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 20, hour, minute, tzinfo=UTC)


def test_contacts_per_hour_rpc_and_promise_rates(policy: Policy) -> None:
    # agente01: 9:05 NC, 9:40 PP (right party), 10:10 BZ; agente02: 9:15 TERC (third party), 9:50 PP.
    # NC, BZ, TERC, PP are attempts; PP is a right-party contact; TERC is not.
    attempts = [
        AttemptFact("agente01", "voice", at(9, 5), "NC"),
        AttemptFact("agente01", "voice", at(9, 40), "PP"),
        AttemptFact("agente01", "voice", at(10, 10), "BZ"),
        AttemptFact("agente02", "voice", at(9, 15), "TERC"),
        AttemptFact("agente02", "whatsapp", at(9, 50), "PP"),
    ]
    codes = policy.result_codes
    assert all(codes.get(c).attempt for c in ("NC", "PP", "BZ", "TERC"))
    assert codes.get("PP").right_party_contact and not codes.get("TERC").right_party_contact
    assert codes.get("PP").promise and not codes.get("NC").promise  # PP records a promise
    figures = contact_figures(attempts, codes)
    assert (figures.attempts, figures.contacts, figures.agent_hours, figures.promises) == (5, 2, 3, 2)
    assert figures.attempts_per_hour == 5 / 3 and figures.contacts_per_hour == 2 / 3
    assert figures.rpc_rate == 2 / 5 and figures.promise_rate == 1.0
    voice, whatsapp = figures.by_channel["voice"], figures.by_channel["whatsapp"]
    assert (voice.attempts, voice.contacts, voice.rpc_rate, voice.promise_rate) == (4, 1, 0.25, 1.0)
    assert (whatsapp.attempts, whatsapp.contacts, whatsapp.rpc_rate, whatsapp.promises) == (1, 1, 1.0, 1)
    empty = contact_figures([], codes)
    assert empty.rpc_rate is None and empty.attempts_per_hour is None  # a rate of nothing is not 0 %


def test_promise_kept_rate_by_count_and_by_amount() -> None:
    made = at(9)
    promises = [
        PromiseFact("a", made, 100_000, date(2026, 11, 10), "kept", 100_000),
        PromiseFact("a", made, 50_000, date(2026, 11, 12), "broken", 20_000),  # part paid, then broken
        PromiseFact("a", made, 30_000, date(2026, 11, 14), "broken", 0),
        PromiseFact("a", made, 80_000, date(2026, 11, 30), "open", 0),  # deadline still ahead: left out
        PromiseFact("a", made, 10_000, date(2026, 11, 5), "cancelled", 0),  # cancelled: left out
    ]
    figures = kept_figures(promises, date(2026, 11, 20))
    assert (figures.judged, figures.kept) == (3, 1)
    assert figures.kept_rate == 1 / 3
    assert (figures.promised_amount, figures.kept_amount) == (180_000, 120_000)
    assert figures.kept_amount_rate == 120_000 / 180_000


def entry(account: str, bucket: str, entered: date, left: date | None = None) -> BucketHistoryEntry:
    return BucketHistoryEntry(f"{account}-{bucket}-{entered}", account, bucket, entered, left)


HISTORY = [
    # a: 1-29 all month (stays); b: 1-29 → 30-59 on the 15th (rolls); c: 30-59 → 60-89 on the 10th;
    # d: 30-59 → cured to preventiva on the 20th; e: 1-29, paid off (leaves the books) on the 25th.
    entry("a", "1-29", date(2026, 10, 25)),
    entry("b", "1-29", date(2026, 10, 20), date(2026, 11, 15)),
    entry("b", "30-59", date(2026, 11, 15)),
    entry("c", "30-59", date(2026, 10, 5), date(2026, 11, 10)),
    entry("c", "60-89", date(2026, 11, 10)),
    entry("d", "30-59", date(2026, 10, 15), date(2026, 11, 20)),
    entry("d", "preventiva", date(2026, 11, 20)),
    entry("e", "1-29", date(2026, 10, 28), date(2026, 11, 25)),
]


def test_roll_rates_from_the_bucket_history() -> None:
    rates = roll_rates(HISTORY, date(2026, 11, 1), date(2026, 11, 30))
    assert rates["1-29"] == {"1-29": 1 / 3, "30-59": 1 / 3, "closed": 1 / 3}  # a stays, b rolls, e left
    assert rates["30-59"] == {"60-89": 0.5, "preventiva": 0.5}  # c rolls, d cured
    assert all(abs(sum(row.values()) - 1) < 1e-9 for row in rates.values())


def test_aging_distribution_in_bucket_order(policy: Policy) -> None:
    order = [b.code for b in policy.buckets.buckets]
    found = aging([("1-29", 10_000), ("30-59", 20_000), ("1-29", 5_000), ("castigo", 70_000)], order)
    assert found[:3] == [("preventiva", 0, 0), ("1-29", 2, 15_000), ("30-59", 1, 20_000)]
    assert found[-1] == ("castigo", 1, 70_000) and len(found) == len(order)


def test_vintage_curves_by_origination_month() -> None:
    opened = {"a": date(2026, 8, 3), "b": date(2026, 8, 20), "c": date(2026, 9, 1), "d": date(2026, 9, 9)}
    history = [
        entry("a", "30-59", date(2026, 9, 10)),  # August cohort, bad in its 2nd month on book
        entry("b", "60-89", date(2026, 11, 2)),  # bad in its 4th month
        entry("c", "30-59", date(2026, 9, 25)),
    ]  # September cohort, bad in its 1st month
    curves = vintage(opened, history, {"30-59", "60-89"}, as_of=date(2026, 11, 20), months=4)
    assert curves["2026-08"] == [0.0, 0.5, 0.5, 1.0]
    assert curves["2026-09"] == [0.5, 0.5, 0.5, None]  # its 4th month is still to come


# Through the real server: the projections follow the documents, and the endpoint counts them.

from datetime import timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

import httpx  # noqa: E402
import pytest  # noqa: E402
from conftest import NOW  # noqa: E402
from sync_support import auth_headers, integration_headers, make_station, running_server  # noqa: E402


@pytest.fixture
def server(tmp_path: Path):
    with running_server(tmp_path, accounts=60, seed=13) as running:
        yield running


def test_the_kpi_endpoint_counts_what_the_agents_logged_in_the_period(tmp_path: Path, server, clock, policy) -> None:
    _engine, thread = server
    station = make_station(tmp_path, "kpi", thread.url, "agente01", clock, policy)
    assert station.round().ok
    accounts = station.accounts()
    for account, code in zip(accounts, ("NC", "PP", "BZ", "TERC")):
        station.log_contact(account, code)
    promised = [a for a, _ in accounts][4]
    station.promise(promised)
    assert station.round().ok
    since, until = NOW - timedelta(minutes=10), NOW + timedelta(minutes=1)
    params = {"since": since.isoformat(), "until": until.isoformat()}
    assert (
        httpx.get(f"{thread.url}/v1/kpi", params=params, headers=auth_headers(thread.url, "agente01")).status_code
        == 403
    )
    supervisor = auth_headers(thread.url, "supervisor01")
    report = httpx.get(f"{thread.url}/v1/kpi", params=params, headers=supervisor).json()
    # Four attempts in one agent-hour (16:27 UTC), one right-party contact (PP), one promise made.
    assert (report["attempts"], report["contacts"], report["agent_hours"], report["promises"]) == (4, 1, 1, 1)
    assert report["rpc_rate"] == 0.25 and report["attempts_per_hour"] == 4.0 and report["promise_rate"] == 1.0
    assert report["channels"] == [
        {"channel": "voice", "attempts": 4, "contacts": 1, "contact_rate": 0.25, "promises": 1, "promise_rate": 1.0}
    ]  # the PP contact records a promise
    assert report["hours"] == [
        {
            "hour": 10,
            "attempts": 4,
            "contacts": 1,
            "agent_hours": 1,  # 16:27 UTC is 10:27 local
            "contacts_per_hour": 1.0,
        }
    ]
    mine = next(a for a in report["agents_figures"] if a["agent"] == "agente01")
    assert (mine["attempts"], mine["contacts"], mine["agent_hours"], mine["promises"]) == (4, 1, 1, 1)
    assert mine["rpc_rate"] == 0.25 and mine["promise_rate"] == 1.0 and mine["kept_rate"] is None
    assert [a["agent"] for a in report["agents_figures"]] == report["agents"]  # every agent, idle ones at zero
    assert all(a["attempts"] == 0 for a in report["agents_figures"] if a["agent"] != "agente01")
    other_team = httpx.get(f"{thread.url}/v1/kpi", params={**params, "team": "sur"}, headers=supervisor)
    assert other_team.status_code == 403 and other_team.json()["code"] == "OTHER_TEAM"  # supervisor01 is of team norte
    bad = httpx.get(
        f"{thread.url}/v1/kpi", params={"since": until.isoformat(), "until": since.isoformat()}, headers=supervisor
    )
    assert bad.status_code == 422


def test_the_kept_rate_from_the_server_equals_the_formula_on_its_documents(server) -> None:
    from sqlalchemy import select

    from cobro_tui.domain.keeping import deadline
    from cobro_tui.domain.records import from_record
    from cobro_tui.server.kpi import figures
    from cobro_tui.server.schema import entities

    engine, _ = server
    since, until = NOW - timedelta(days=365), NOW
    with engine.connect() as conn:
        found = figures(conn, since, until, None)
        kept = found.kept
        docs = [
            from_record("promise", json.loads(d))
            for d in conn.execute(select(entities.c.data).where(entities.c.kind == "promise")).scalars()
        ]
    expected = kept_figures(
        [
            PromiseFact(
                p.created_by,
                p.created_at,
                p.amount.centavos,
                deadline(p),
                p.status.value,
                p.paid.centavos if p.paid else 0,
            )
            for p in docs
            if since.date() <= deadline(p) < until.date()
        ],
        until.date(),
    )
    assert kept == expected and kept.judged > 0  # the seed has judged promises
    assert sum(a.judged for a in found.by_agent) == kept.judged and sum(a.kept for a in found.by_agent) == kept.kept
    assert sum(a.recovered for a in found.by_agent) == found.recovered.amount > 0


def test_whole_hours_from_the_hourly_counts_and_cut_hours_from_the_attempts_agree(server, policy) -> None:
    from collections import Counter
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from cobro_tui.server.kpi import _attempts, by_hour_of_day
    from cobro_tui.server.schema import contact_facts

    engine, _ = server
    since, until = NOW - timedelta(days=40, minutes=17), NOW - timedelta(days=3, minutes=41)  # both cut an hour
    attempt_codes = {c.code for c in policy.result_codes.codes if c.attempt}
    contact_codes = {c.code for c in policy.result_codes.codes if c.right_party_contact}
    with engine.connect() as conn:
        sums, hours, by_agent = _attempts(conn, since, until, None, sorted(attempt_codes), sorted(contact_codes))
        direct = conn.execute(
            select(contact_facts).where(
                contact_facts.c.started_at >= since.isoformat(timespec="microseconds"),
                contact_facts.c.started_at < until.isoformat(timespec="microseconds"),
            )
        ).all()
    assert sums == Counter((r.channel, r.result_code) for r in direct) and sum(sums.values()) > 50
    tried = [r for r in direct if r.result_code in attempt_codes]
    assert by_agent == {
        agent: [
            sum(1 for r in tried if r.agent == agent),
            sum(1 for r in direct if r.agent == agent and r.result_code in contact_codes),
            len({r.started_at[:13] for r in tried if r.agent == agent}),
        ]
        for agent in {r.agent for r in direct}
    }
    assert sum(h[2] for h in hours.values()) == len({(r.agent, r.started_at[:13]) for r in tried})
    assert hours == {
        key: [
            sum(1 for r in tried if r.started_at[:13] == key),
            sum(1 for r in direct if r.started_at[:13] == key and r.result_code in contact_codes),
            len({r.agent for r in tried if r.started_at[:13] == key}),
        ]
        for key in {r.started_at[:13] for r in direct}
    }
    # Folded onto the hours of the day in Mexico City (UTC-6 all year): 15 UTC is 9 local.
    folded = {row["hour"]: row for row in by_hour_of_day(hours, ZoneInfo("America/Mexico_City"))}
    assert sum(int(row["attempts"] or 0) for row in folded.values()) == len(tried)
    assert folded[9]["attempts"] == sum(1 for r in tried if r.started_at[11:13] == "15")


def test_supervisors_see_each_workstations_sync_health(tmp_path: Path, server, clock, policy) -> None:
    from cobro_tui import __version__

    _, thread = server
    station = make_station(tmp_path, "health", thread.url, "agente01", clock, policy)
    assert station.round().ok
    assert httpx.get(f"{thread.url}/v1/workstations", headers=auth_headers(thread.url, "agente01")).status_code == 403
    [seen] = httpx.get(f"{thread.url}/v1/workstations", headers=auth_headers(thread.url, "supervisor01")).json()
    assert (seen["agent"], seen["device_id"], seen["app_version"]) == (
        "agente01",
        station.device.device_id,
        __version__,
    )
    assert seen["pending_items"] == 0 and seen["oldest_pending_at"] is None
    # An item that cannot go yet (the push is answered, then another is recorded before the pull): the
    # next page read says so.
    station.log_contact(station.accounts()[0])
    station.sync.api.changes(None, 1, pending=(1, NOW.isoformat()))
    [seen] = httpx.get(f"{thread.url}/v1/workstations", headers=auth_headers(thread.url, "supervisor01")).json()
    assert seen["pending_items"] == 1 and seen["oldest_pending_at"].startswith("2026-11-22T16:30")


async def test_the_supervisor_app_shows_the_workstations(tmp_path: Path, server, clock, policy) -> None:
    from textual.widgets import DataTable
    from ui_support import supervisor_app, wait_for

    from cobro_tui.ui.screens.health import HealthScreen

    _, thread = server
    station = make_station(tmp_path, "seen", thread.url, "agente01", clock, policy)
    assert station.round().ok
    app = supervisor_app(thread.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        await pilot.press("w")
        await wait_for(
            pilot, lambda: isinstance(app.screen, HealthScreen) and app.screen.query_one(DataTable).row_count == 1
        )
        row = app.screen.query_one(DataTable).get_row_at(0)
        assert row[0] == "agente01" and row[1] == station.device.device_id[:8] and row[4] == "0" and row[6] == "al día"
        await pilot.press("c")  # the table as CSV, as on every supervisor screen
        written = app.settings.resolved_data_dir() / "kpi" / "workstations.csv"
        await wait_for(pilot, written.exists)
    lines = written.read_text().splitlines()
    assert lines[0] == "agent,device_id,app_version,last_seen_at,pending_items,oldest_pending_at,attention"
    assert lines[1].startswith(f"agente01,{station.device.device_id},") and len(lines) == 2


def test_a_supervisor_sees_the_teams_queues(tmp_path: Path, server, clock, policy) -> None:
    _engine, thread = server
    station = make_station(tmp_path, "team", thread.url, "agente01", clock, policy)
    assert station.round().ok
    mine = station.accounts()
    station.log_contact(mine[0])
    station.log_contact(mine[1])
    station.log_contact(mine[1], "BZ")  # the same account twice: worked once
    assert station.round().ok
    assert httpx.get(f"{thread.url}/v1/team", headers=auth_headers(thread.url, "agente01")).status_code == 403
    view = httpx.get(f"{thread.url}/v1/team", headers=auth_headers(thread.url, "supervisor01")).json()
    assert view["buckets"] == [b.code for b in policy.buckets.buckets]
    first = next(a for a in view["agents"] if a["agent"] == "agente01")
    assert first["accounts"] == len(mine) == sum(first["by_bucket"].values())
    assert first["worked_today"] >= 2  # the two accounts just called (the seed may have worked others today)
    with station.cache.connect() as conn:
        due = conn.exec_driver_sql(
            "SELECT count(*) FROM promise WHERE due_on = '2026-11-22' AND status IN ('open', 'partial')"
        ).scalar_one()
    assert first["promises_due_today"] == due


async def test_the_supervisor_app_shows_the_teams_queues(tmp_path: Path, server, clock, policy) -> None:
    from textual.widgets import DataTable
    from ui_support import supervisor_app, wait_for

    from cobro_tui.ui.screens.team import TeamScreen

    _, thread = server
    app = supervisor_app(thread.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        await pilot.press("t")
        await wait_for(
            pilot, lambda: isinstance(app.screen, TeamScreen) and app.screen.query_one(DataTable).row_count == 10
        )
        table = app.screen.query_one(DataTable)
        first = table.get_row_at(0)
        # Agent, state, seen, accounts, then the buckets.
        assert (
            first[0] == "agente01"
            and first[1] == "activo"
            and int(first[3]) == sum(int(c) for c in first[4 : 4 + len(policy.buckets.buckets)])
        )


def test_aging_roll_rates_and_vintage_from_the_server_equal_the_formulas_on_its_documents(server, policy) -> None:
    from sqlalchemy import select

    from cobro_tui.domain.records import from_record
    from cobro_tui.server.kpi import portfolio
    from cobro_tui.server.schema import entities

    engine, thread = server
    since, until = NOW - timedelta(days=30), NOW
    with engine.connect() as conn:
        found = portfolio(conn, since, until, None)
        accounts = [
            from_record("account", json.loads(d))
            for d in conn.execute(select(entities.c.data).where(entities.c.kind == "account")).scalars()
        ]
        history = [
            from_record("bucket_history", json.loads(d))
            for d in conn.execute(select(entities.c.data).where(entities.c.kind == "bucket_history")).scalars()
        ]
    order = [b.code for b in policy.buckets.buckets]
    assert [(r["bucket"], r["accounts"], r["balance"]) for r in found["aging"]] == aging(
        [(a.bucket, a.balance.centavos) for a in accounts], order
    )
    assert sum(r["accounts"] for r in found["aging"]) == len(accounts) == 60
    assert found["roll_rates"] == roll_rates(history, since.date(), until.date()) and found["roll_rates"]
    bad = {b.code for b in policy.buckets.buckets if b.min_dpd >= 30}
    assert found["vintage"] == vintage({a.id: a.opened_on for a in accounts}, history, bad, until.date())
    # One team's: agente01 alone in team sur; the same formulas over their accounts only.
    from collections import Counter

    from cobro_tui.server.db import write_tx
    from cobro_tui.server.schema import users

    with write_tx(engine) as conn:
        conn.execute(users.update().where(users.c.username == "agente01").values(team="sur"))
    with engine.connect() as conn:
        theirs = portfolio(conn, since, until, "sur")
        ids = set(
            conn.execute(
                select(entities.c.id).where(entities.c.kind == "account", entities.c.agent == "agente01")
            ).scalars()
        )
    own = [a for a in accounts if a.id in ids]
    assert 0 < sum(r["accounts"] for r in theirs["aging"]) == len(own) < len(accounts)
    own_history = [h for h in history if h.account_id in ids]
    assert theirs["roll_rates"] == roll_rates(own_history, since.date(), until.date())
    assert theirs["vintage"] == vintage({a.id: a.opened_on for a in own}, own_history, bad, until.date())
    assert theirs["cohorts"] == Counter(a.opened_on.strftime("%Y-%m") for a in own)
    report = httpx.get(
        f"{thread.url}/v1/kpi/portfolio",
        params={"since": since.isoformat()},
        headers=auth_headers(thread.url, "supervisor01"),
    ).json()
    assert report["bad_buckets"][0] == "30-59" and len(report["aging"]) == len(order)
    assert (
        httpx.get(
            f"{thread.url}/v1/kpi/portfolio",
            params={"since": since.isoformat()},
            headers=auth_headers(thread.url, "agente01"),
        ).status_code
        == 403
    )


async def test_the_dashboard_shows_the_weeks_kpis_aging_bars_and_roll_rates_and_exports_them(
    tmp_path: Path, server, clock, policy
) -> None:
    from textual.widgets import DataTable, Static
    from ui_support import supervisor_app, wait_for

    from cobro_tui.ui.screens.dashboard import DashboardScreen

    _, thread = server
    app = supervisor_app(thread.url, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        await pilot.press("k")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.portfolio is not None)
        screen = app.screen
        summary = str(screen.query_one("#dashboard-kpi", Static).render())
        assert "Últimos 7 días" in summary and "Intentos" in summary and "cumplimiento" in summary
        assert "Recuperado del 15/11/2026 al 22/11/2026" in summary and "meta $240,000.00" in summary
        bars = str(screen.query_one("#dashboard-aging", Static).render())
        assert "█" in bars and "castigo" in bars
        hours = str(screen.query_one("#dashboard-hours", Static).render()).splitlines()
        kpi = screen.kpi
        assert [line[:5] for line in hours] == [f"{row['hour']:02d}:00" for row in kpi["hours"]] and kpi["hours"]
        assert sum(row["attempts"] for row in kpi["hours"]) == kpi["attempts"]
        curves = str(screen.query_one("#dashboard-vintage", Static).render()).splitlines()
        assert [line[:7] for line in curves] == list(screen.portfolio["vintage"])[-12:]
        assert screen.query_one("#dashboard-roll", DataTable).row_count > 0
        agents = screen.query_one("#dashboard-agents", DataTable)
        assert agents.row_count == len(kpi["agents"]) == 10
        assert sum(int(agents.get_row(a)[1]) for a in kpi["agents"]) == kpi["attempts"]
        week = kpi["attempts"]
        await pilot.press("p")  # the next period: 30 days
        await wait_for(pilot, lambda: "Últimos 30 días" in str(screen.query_one("#dashboard-kpi", Static).render()))
        assert screen.kpi["attempts"] >= week and screen.kpi["recovered"]["first_day"] == "2026-10-23"
        await pilot.press("c")
        await wait_for(pilot, lambda: (tmp_path / "kpi" / "channels.csv").exists())
    folder = tmp_path / "kpi"
    assert sorted(p.name for p in folder.iterdir()) == [
        "agents.csv",
        "aging.csv",
        "channels.csv",
        "hours.csv",
        "roll_rates.csv",
        "vintage.csv",
    ]
    aging = (folder / "aging.csv").read_text().splitlines()
    assert aging[0] == "bucket,accounts,balance" and len(aging) == 1 + len(policy.buckets.buckets)
    assert sum(int(line.split(",")[1]) for line in aging[1:]) == 60
    hours = (folder / "hours.csv").read_text().splitlines()
    assert (
        hours[0] == "hour,attempts,contacts,agent_hours"
        and sum(int(h.split(",")[1]) for h in hours[1:]) == screen.kpi["attempts"]
    )
    assert (folder / "vintage.csv").read_text().splitlines()[0].endswith(",month_12")


def test_the_migrations_fill_the_projections_from_the_documents_already_stored(server) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import func, select

    from cobro_tui.server.db import MIGRATIONS
    from cobro_tui.server.schema import (
        account_facts,
        bucket_facts,
        contact_facts,
        contact_hours,
        entities,
        promise_facts,
    )

    engine, _ = server

    def counts() -> dict[str, int]:
        with engine.connect() as conn:
            docs = dict(conn.execute(select(entities.c.kind, func.count()).group_by(entities.c.kind)).all())
            return {
                "contact_attempt": docs["contact_attempt"],
                "promise": docs["promise"],
                "account": docs["account"],
                "bucket_history": docs["bucket_history"],
                "contact_facts": conn.execute(select(func.count()).select_from(contact_facts)).scalar_one(),
                "promise_facts": conn.execute(select(func.count()).select_from(promise_facts)).scalar_one(),
                "account_facts": conn.execute(select(func.count()).select_from(account_facts)).scalar_one(),
                "bucket_facts": conn.execute(select(func.count()).select_from(bucket_facts)).scalar_one(),
                "hours": conn.execute(select(func.sum(contact_hours.c.n))).scalar_one(),
            }

    seeded = counts()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "s0005")  # the projections dropped: the documents stay
        command.upgrade(config, "head")  # and filled again from them
        conn.commit()
    again = counts()
    assert again == seeded
    assert again["contact_facts"] == again["contact_attempt"] == again["hours"] and again["account_facts"] == 60
    assert again["promise_facts"] == again["promise"] and again["bucket_facts"] == again["bucket_history"]


def test_a_recovery_target_is_prorated_by_the_periods_days() -> None:
    # $900,000.00 a month: November has 30 days, so a day is $30,000.00; December 31 days.
    assert period_target(90_000_000, date(2026, 11, 1), date(2026, 11, 30)) == 90_000_000
    assert period_target(90_000_000, date(2026, 11, 16), date(2026, 11, 22)) == 7 * 3_000_000
    # 28 Nov to 3 Dec: 3 days of November (3/30) and 3 of December (3/31), rounded once.
    assert period_target(90_000_000, date(2026, 11, 28), date(2026, 12, 3)) == round(90_000_000 * (3 / 30 + 3 / 31))
    payments = [(date(2026, 11, 15), 50_000), (date(2026, 11, 16), 120_000), (date(2026, 11, 22), 30_000)]
    week = recovery_figures(payments, date(2026, 11, 16), date(2026, 11, 22), 900_000)
    assert (week.amount, week.payments, week.target) == (150_000, 2, 210_000) and week.share == 150_000 / 210_000
    assert recovery_figures(payments, date(2026, 11, 16), date(2026, 11, 22), None).share is None  # no target set


def test_the_amount_recovered_follows_the_payments_the_server_receives(server) -> None:
    engine, thread = server
    supervisor = auth_headers(thread.url, "supervisor01")
    params = {"since": (NOW - timedelta(days=7)).isoformat(), "until": NOW.isoformat()}
    before = httpx.get(f"{thread.url}/v1/kpi", params=params, headers=supervisor).json()["recovered"]
    # 7 days to 10:27 local on 22 Nov touch the days 15 to 22 Nov: 8 of November's 30, of $900,000.00.
    assert (before["first_day"], before["last_day"]) == ("2026-11-15", "2026-11-22")
    assert before["target"] == 24_000_000
    with engine.connect() as conn:
        account_id = conn.execute(select_accounts_of("agente01")).scalars().first()
    paid = httpx.post(
        f"{thread.url}/v1/payments",
        headers=integration_headers(thread.url),
        json={
            "id": "pay-kpi-1",
            "account_id": account_id,
            "amount_centavos": 123_456,
            "paid_on": "2026-11-21",
            "channel": "spei",
            "reference": "REF-1",
        },
    )
    assert paid.status_code == 200
    after = httpx.get(f"{thread.url}/v1/kpi", params=params, headers=supervisor).json()["recovered"]
    assert after["amount"] == before["amount"] + 123_456 and after["payments"] == before["payments"] + 1
    assert after["share"] == after["amount"] / 24_000_000
    manager = httpx.get(
        f"{thread.url}/v1/kpi", params={**params, "team": "sur"}, headers=auth_headers(thread.url, "gerente01")
    ).json()["recovered"]
    assert manager["target"] is None and manager["share"] is None and manager["amount"] == 0  # no team sur, no target


def select_accounts_of(agent: str):
    from sqlalchemy import select

    from cobro_tui.server.schema import entities

    return select(entities.c.id).where(entities.c.kind == "account", entities.c.agent == agent).order_by(entities.c.id)


def test_text_charts_draw_bars_to_the_eighth_and_curves_with_gaps() -> None:
    from cobro_tui.ui.widgets.charts import bar, bars, curve

    assert bar(50, 100, 4) == "██  " and bar(100, 100, 4) == "████" and bar(0, 100, 4) == "    "
    assert bar(1, 2, 1) == "▌" and bar(5, 0, 2) == "  "  # half a cell; nothing to scale against
    assert bars([("a", 2, "dos"), ("bb", 4, "cuatro")], 4).splitlines() == ["a  ██   dos", "bb ████ cuatro"]
    assert curve([0.0, 0.25, 0.5, None], 0.5) == "▁▅█ "


def test_a_workstation_needs_a_look_when_it_goes_quiet_or_its_items_wait() -> None:
    from cobro_tui.clock import FixedClock
    from cobro_tui.services.approvals import Seen, SupervisorService

    service = SupervisorService(None, "supervisor01", FixedClock(NOW))  # type: ignore[arg-type]

    def seen(minutes_ago: int, pending: int | None = None, oldest_minutes: int | None = None) -> Seen:
        oldest = NOW - timedelta(minutes=oldest_minutes) if oldest_minutes is not None else None
        return Seen("agente01", "dev", "0.1", NOW - timedelta(minutes=minutes_ago), pending, oldest)

    assert service.attention(seen(2, 0)) is None and service.attention(seen(15)) is None  # 15 minutes: still fine
    assert service.attention(seen(20)) == "sin sincronizar hace 20 min"
    assert service.attention(seen(1, 3, 12)) == "3 por enviar desde hace 12 min"
    assert service.attention(seen(1, 3, 5)) is None
