"""The KPI report in sentences: the same lines for `cobro-tui kpi` and the supervisor's dashboard."""

from __future__ import annotations

from datetime import date
from typing import Any

from cobro_tui.domain.money import Money
from cobro_tui.i18n import day, money, t


def rate(value: float | None) -> str:
    """A share as a percentage; a rate of nothing as a dash, not 0 %."""
    return "—" if value is None else f"{value:.1%}"


def per_hour(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def team_words(team: str | None) -> str:
    """The team a report is of, in words (none: every team)."""
    return t("kpi.team_named", team=team) if team is not None else t("kpi.all_teams")


def recovered_line(recovered: dict[str, Any]) -> str:
    amount = money(Money(recovered["amount"]))
    span = {
        "first": day(date.fromisoformat(str(recovered["first_day"]))),
        "last": day(date.fromisoformat(str(recovered["last_day"]))),
        "amount": amount,
        "payments": recovered["payments"],
    }
    if recovered["target"] is None:
        return t("kpi.recovered_no_target", **span)
    return t("kpi.recovered", **span, target=money(Money(recovered["target"])), share=rate(recovered["share"]))


def summary_lines(report: dict[str, Any]) -> list[str]:
    """Contacts, promises, kept promises and the amount recovered, then one line per channel."""
    kept = report["kept"]
    return [
        t(
            "kpi.contacts",
            attempts=report["attempts"],
            contacts=report["contacts"],
            hours=report["agent_hours"],
            per_hour=per_hour(report["attempts_per_hour"]),
            contacts_per_hour=per_hour(report["contacts_per_hour"]),
            rpc=rate(report["rpc_rate"]),
        ),
        t("kpi.promises", promises=report["promises"], rate=rate(report["promise_rate"])),
        t(
            "kpi.kept",
            judged=kept["judged"],
            kept=kept["kept"],
            rate=rate(kept["rate"]),
            amount_rate=rate(kept["amount_rate"]),
        ),
        recovered_line(report["recovered"]),
        *(
            t(
                "kpi.channel",
                channel=t(f"channel.{c['channel']}"),
                attempts=c["attempts"],
                contacts=c["contacts"],
                rate=rate(c["contact_rate"]),
                promises=c["promises"],
                promise_rate=rate(c["promise_rate"]),
            )
            for c in report["channels"]
        ),
    ]


def agent_lines(report: dict[str, Any]) -> list[str]:
    """One line per agent of the report."""
    return [
        t(
            "kpi.agent",
            agent=a["agent"],
            attempts=a["attempts"],
            contacts=a["contacts"],
            rpc=rate(a["rpc_rate"]),
            promises=a["promises"],
            kept=rate(a["kept_rate"]),
            recovered=money(Money(a["recovered"])),
        )
        for a in report["agents_figures"]
    ]
