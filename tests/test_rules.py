"""The contact-rule engine by preset: tables of cases at their edges, and properties over any zone
and instant (no allowed decision outside a window; no cap exceeded whatever the attempts)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cobro_tui.policy import load_policy, preset_rules
from cobro_tui.rules.engine import (
    Counts,
    Outcome,
    Party,
    Past,
    Period,
    Point,
    Question,
    Result,
    RuleSet,
    Scope,
    Suppression,
    decide,
)

MX = preset_rules("mx_condusef")
US = preset_rules("us_regf")
CO = preset_rules("co_ley2300")
IN_FORCE = load_policy().rules  # MX plus the institution's own caps


def local(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An instant given on a zone's wall clock."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def ask(
    rules: RuleSet,
    at: datetime,
    zones: tuple[str, ...] | str = "America/Mexico_City",
    channel: str = "voice",
    **changes: object,
) -> Question:
    zones = (zones,) if isinstance(zones, str) else zones
    point = changes.pop("point", Point("p1", zones, consent=frozenset({"sms", "whatsapp", "email"})))
    return Question(at=at, channel=channel, point=point, account_id=str(changes.pop("account_id", "a1")), **changes)  # type: ignore[arg-type]


def blocked_by(decision) -> set[str]:
    return {c.rule.id for c in decision.checks if c.result is Result.BLOCK}


# --- Mexico: hours in the debtor's zone, the call that cannot finish, zones and borders ---------

CDMX, TIJUANA, MATAMOROS, MONTERREY = "America/Mexico_City", "America/Tijuana", "America/Matamoros", "America/Monterrey"


@pytest.mark.parametrize(
    ("clock", "channel", "allowed"),
    [
        ((2026, 11, 23, 6, 59), "voice", False),
        ((2026, 11, 23, 7, 0), "voice", True),
        ((2026, 11, 23, 21, 54), "voice", True),
        ((2026, 11, 23, 21, 55), "voice", True),  # ends at 22:00 exactly
        ((2026, 11, 23, 21, 56), "voice", False),  # a 5-minute call would end after 22:00
        ((2026, 11, 23, 21, 59), "voice", False),
        ((2026, 11, 23, 21, 59), "sms", True),  # a message takes no time
        ((2026, 11, 23, 22, 0), "sms", False),  # the window is half-open
    ],
)
def test_mexico_hours_in_the_debtors_zone(clock: tuple[int, ...], channel: str, allowed: bool) -> None:
    decision = decide(MX, ask(MX, local(CDMX, *clock), channel=channel))
    assert decision.allowed is allowed, decision.reasons
    if not allowed:
        assert blocked_by(decision) == {"MX-1"}
        assert decision.next_allowed is not None
        opens = decision.next_allowed.astimezone(ZoneInfo(CDMX))
        assert (opens.hour, opens.minute) == (7, 0)


def test_the_call_at_21_59_says_why_and_when() -> None:
    decision = decide(MX, ask(MX, local(CDMX, 2026, 11, 23, 21, 59)))
    [reason] = decision.reasons
    assert reason.key == "rules.too_late_to_finish" and reason.values["minutes"] == "5"
    assert decision.next_allowed == local(CDMX, 2026, 11, 24, 7, 0)


def test_agent_and_debtor_in_different_zones() -> None:
    # 08:30 for an agent in Mexico City is 06:30 in Tijuana: too early there.
    at = local(CDMX, 2026, 11, 23, 8, 30)
    assert decide(MX, ask(MX, at, CDMX)).allowed
    tijuana = decide(MX, ask(MX, at, TIJUANA))
    assert not tijuana.allowed and tijuana.next_allowed == local(TIJUANA, 2026, 11, 23, 7, 0)
    # 21:00 in Mexico City is 22:00 in Cancún.
    assert not decide(MX, ask(MX, local(CDMX, 2026, 11, 23, 21, 0), "America/Cancun")).allowed


def test_daylight_saving_changes_at_the_border() -> None:
    # Tijuana moves to UTC-7 on 2026-03-08: 14:30 UTC is 06:30 the day before and 07:30 that day.
    assert not decide(MX, ask(MX, datetime(2026, 3, 7, 14, 30, tzinfo=UTC), TIJUANA)).allowed
    assert decide(MX, ask(MX, datetime(2026, 3, 8, 14, 30, tzinfo=UTC), TIJUANA)).allowed
    # And back on 2026-11-01.
    assert decide(MX, ask(MX, datetime(2026, 10, 31, 14, 30, tzinfo=UTC), TIJUANA)).allowed
    assert not decide(MX, ask(MX, datetime(2026, 11, 1, 14, 30, tzinfo=UTC), TIJUANA)).allowed
    # Matamoros keeps US daylight time, Monterrey does not: in July 03:00 UTC is 22:00 and 21:00.
    july = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)
    assert not decide(MX, ask(MX, july, MATAMOROS)).allowed
    assert decide(MX, ask(MX, july, MONTERREY)).allowed


def test_an_uncertain_place_allows_only_the_intersection_of_its_zones() -> None:
    zones = load_policy().zones
    chihuahua = zones.candidates("MX", "08", "")  # the state is known, the municipality is not
    assert set(chihuahua) == {"America/Chihuahua", "America/Ciudad_Juarez", "America/Ojinaga"}
    at = datetime(2026, 1, 15, 13, 30, tzinfo=UTC)  # 07:30 in Chihuahua, 06:30 in Ciudad Juárez
    assert decide(MX, ask(MX, at, "America/Chihuahua")).allowed
    both = decide(MX, ask(MX, at, chihuahua))
    assert not both.allowed and both.next_allowed == datetime(2026, 1, 15, 14, 0, tzinfo=UTC)
    assert decide(MX, ask(MX, both.next_allowed, chihuahua)).allowed
    assert zones.candidates("MX", "08", "08037") == ("America/Ciudad_Juarez",)
    assert zones.candidates("MX", "09", "09005") == (CDMX,)


def test_who_may_be_contacted_in_mexico() -> None:
    at = local(CDMX, 2026, 11, 23, 10, 0)
    assert blocked_by(decide(MX, ask(MX, at, party=Party("referencia")))) == {"MX-5"}
    assert decide(MX, ask(MX, at, party=Party("aval"))).allowed
    assert decide(MX, ask(MX, at, party=Party("deudor_solidario"))).allowed
    minor = decide(MX, ask(MX, at, party=Party("debtor", date(2010, 1, 1))))
    assert blocked_by(minor) == {"MX-6"}
    elder = decide(MX, ask(MX, at, party=Party("debtor", date(1950, 1, 1))))
    assert elder.outcome is Outcome.WARN and elder.reasons[0].key == "rules.older_adult_obligor"
    skip = Point("p1", (CDMX,), provenance="skip_trace")
    assert blocked_by(decide(MX, ask(MX, at, point=skip))) == {"MX-7"}
    assert decide(MX, ask(MX, at, point=Point("p1", (CDMX,), provenance="debtor"))).allowed


def test_consent_opt_out_and_holds() -> None:
    at = local(CDMX, 2026, 11, 23, 10, 0)
    bare = Point("p1", (CDMX,))
    assert blocked_by(decide(MX, ask(MX, at, channel="whatsapp", point=bare))) == {"MXP-2"}
    assert decide(MX, ask(MX, at, channel="voice", point=bare)).allowed  # calls need no recorded consent
    # An opt-out counts from the instant it was recorded (also offline): not before.
    opt_out = Suppression("opt_out", at - timedelta(minutes=1), point_id="p1")
    blocked = decide(MX, ask(MX, at, suppressions=(opt_out,)))
    assert blocked_by(blocked) == {"MX-OPT"} and blocked.next_allowed is None
    assert decide(MX, ask(MX, at - timedelta(minutes=2), suppressions=(opt_out,))).allowed
    other_point = Point("p2", (CDMX,))
    assert decide(MX, ask(MX, at, point=other_point, suppressions=(opt_out,))).allowed
    by_channel = Suppression("opt_out", at - timedelta(hours=1), channel="sms")
    assert not decide(MX, ask(MX, at, channel="sms", suppressions=(by_channel,))).allowed
    assert decide(MX, ask(MX, at, channel="voice", suppressions=(by_channel,))).allowed
    for kind, rule in (
        ("cease", "MX-CEASE"),
        ("deceased", "MX-DEC"),
        ("dispute", "MX-DISP"),
        ("legal_hold", "MX-LEGAL"),
    ):
        held = decide(MX, ask(MX, at, channel="email", suppressions=(Suppression(kind, at - timedelta(days=3)),)))
        assert blocked_by(held) == {rule}
    wrong = decide(MX, ask(MX, at, point=Point("p1", (CDMX,), wrong_number=True)))
    assert blocked_by(wrong) == {"MXP-6"}


def test_the_institutions_daily_cap_sits_on_top_of_the_law() -> None:
    day = [local(CDMX, 2026, 11, 23, h, 0) for h in (8, 9, 10)]
    history = tuple(Past(at, "voice", "a1") for at in day)
    at = local(CDMX, 2026, 11, 23, 11, 0)
    assert decide(MX, ask(MX, at, history=history)).allowed  # the law has no cap
    capped = decide(IN_FORCE, ask(IN_FORCE, at, history=history))
    assert blocked_by(capped) == {"INST-1"}
    assert capped.next_allowed == local(CDMX, 2026, 11, 24, 7, 0)  # tomorrow, when the window opens
    # Messages have their own cap; a call does not count against it.
    assert decide(IN_FORCE, ask(IN_FORCE, at, channel="sms", history=history)).allowed
    # Another agent's workstation, another account of the same person: still the same person.
    other = tuple(Past(at, "voice", "a2") for at in day)
    assert not decide(IN_FORCE, ask(IN_FORCE, at, history=other)).allowed


# --- United States: Regulation F and the overlays -----------------------------------------------

CHICAGO, DENVER, NEW_YORK = "America/Chicago", "America/Denver", "America/New_York"


def test_reg_f_hours_and_7_in_7() -> None:
    assert not decide(US, ask(US, local(NEW_YORK, 2026, 11, 23, 7, 59), NEW_YORK)).allowed
    assert decide(US, ask(US, local(NEW_YORK, 2026, 11, 23, 8, 0), NEW_YORK)).allowed
    calls = tuple(Past(local(NEW_YORK, 2026, 11, 17 + i, 10, 0), "voice", "a1") for i in range(7))
    at = local(NEW_YORK, 2026, 11, 23, 15, 0)
    eighth = decide(US, ask(US, at, NEW_YORK, history=calls))
    assert blocked_by(eighth) == {"US-4"}
    # The first call leaves the 7 days at 2026-11-24 10:00.
    assert eighth.next_allowed == local(NEW_YORK, 2026, 11, 24, 10, 0) + timedelta(microseconds=1)
    # Another debt of the same person does not count; texts never count.
    assert decide(US, ask(US, at, NEW_YORK, account_id="a2", history=calls)).allowed
    assert decide(US, ask(US, at, NEW_YORK, channel="sms", history=calls)).allowed


def test_reg_f_pause_after_a_conversation_and_the_asked_for_callback() -> None:
    talk = (
        Past(local(NEW_YORK, 2026, 11, 23, 11, 0), "voice", "a1", outbound=False, attempt=False, conversation=True),
    )
    at = local(NEW_YORK, 2026, 11, 25, 11, 0)
    paused = decide(US, ask(US, at, NEW_YORK, history=talk))
    assert blocked_by(paused) == {"US-4b"}
    # The conversation day is day 1: calls may resume on day 8 when the window opens.
    assert paused.next_allowed == local(NEW_YORK, 2026, 11, 30, 8, 0)
    # The person asked to be called at this time: outside the caps and the pause.
    assert decide(US, ask(US, at, NEW_YORK, history=talk, callback_at=at + timedelta(minutes=5))).allowed
    assert not decide(US, ask(US, at, NEW_YORK, history=talk, callback_at=at + timedelta(hours=2))).allowed


def test_a_state_that_spans_zones_without_a_zip_intersects() -> None:
    zones = load_policy().zones
    texas = zones.candidates("US", "TX", "", "")
    assert set(texas) == {CHICAGO, DENVER}
    assert zones.candidates("US", "TX", "", "79901") == (DENVER,)  # El Paso
    assert zones.candidates("US", "TX", "", "75001") == (CHICAGO,)
    late = datetime(2026, 11, 24, 2, 56, tzinfo=UTC)  # 20:56 in Chicago: a call would end after 21:00
    assert not decide(US, ask(US, late, texas)).allowed
    assert decide(US, ask(US, late, DENVER)).allowed
    early = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)  # 08:30 Chicago, 07:30 Denver
    blocked = decide(US, ask(US, early, texas))
    assert not blocked.allowed and blocked.next_allowed == local(DENVER, 2026, 11, 23, 8, 0)


@pytest.mark.parametrize(
    ("overlay", "channel", "limit", "rule"),
    [
        ("us_ma", "voice", 2, "ST-1"),
        ("us_nyc", "email", 3, "ST-3"),
        ("us_wa", "sms", 3, "ST-2b"),
    ],
)
def test_state_and_city_overlays_are_stricter(overlay: str, channel: str, limit: int, rule: str) -> None:
    rules = preset_rules("us_regf", (overlay,))
    monday = local(NEW_YORK, 2026, 11, 23, 9, 0)
    history = tuple(Past(monday + timedelta(hours=i), channel, "a1") for i in range(limit))
    at = monday + timedelta(hours=limit + 1)
    assert decide(US, ask(US, at, NEW_YORK, channel=channel, history=history)).allowed
    assert rule in blocked_by(decide(rules, ask(rules, at, NEW_YORK, channel=channel, history=history)))


# --- Colombia: Ley 2300 ------------------------------------------------------------------------

BOGOTA = "America/Bogota"


@pytest.mark.parametrize(
    ("clock", "allowed"),
    [
        ((2026, 11, 23, 7, 0), True),  # Monday
        ((2026, 11, 23, 18, 55), True),
        ((2026, 11, 23, 18, 56), False),  # a call would end after 19:00
        ((2026, 11, 28, 8, 0), True),  # Saturday 08:00 to 15:00
        ((2026, 11, 28, 14, 56), False),
        ((2026, 11, 29, 10, 0), False),  # Sunday
        ((2026, 12, 8, 10, 0), False),  # Inmaculada Concepción, a festivo
    ],
)
def test_colombia_days_and_hours(clock: tuple[int, ...], allowed: bool) -> None:
    assert decide(CO, ask(CO, local(BOGOTA, *clock), BOGOTA)).allowed is allowed


def test_colombia_holiday_comes_from_the_calendar_and_lifts_the_next_day() -> None:
    decision = decide(CO, ask(CO, local(BOGOTA, 2026, 12, 8, 10, 0), BOGOTA))
    assert "CO-4" in blocked_by(decision)
    assert decision.next_allowed == local(BOGOTA, 2026, 12, 9, 7, 0)


def test_colombia_once_a_day_and_one_channel_a_week() -> None:
    sms_monday = (Past(local(BOGOTA, 2026, 11, 23, 9, 0), "sms", "a1"),)
    again = decide(CO, ask(CO, local(BOGOTA, 2026, 11, 23, 15, 0), BOGOTA, channel="sms", history=sms_monday))
    assert blocked_by(again) == {"CO-5"} and again.next_allowed == local(BOGOTA, 2026, 11, 24, 7, 0)
    tuesday = local(BOGOTA, 2026, 11, 24, 10, 0)
    assert decide(CO, ask(CO, tuesday, BOGOTA, channel="sms", history=sms_monday)).allowed
    call = decide(CO, ask(CO, tuesday, BOGOTA, channel="voice", history=sms_monday))
    assert blocked_by(call) == {"CO-6"} and call.next_allowed == local(BOGOTA, 2026, 11, 30, 7, 0)
    assert blocked_by(decide(CO, ask(CO, tuesday, BOGOTA, party=Party("referencia")))) == {"CO-8"}
    assert decide(CO, ask(CO, tuesday, BOGOTA, party=Party("aval"))).allowed


# --- properties --------------------------------------------------------------------------------

ZONES = sorted(
    {
        *load_policy().zones.states.values(),
        *load_policy().zones.municipalities.values(),
        CHICAGO,
        DENVER,
        NEW_YORK,
        "America/Los_Angeles",
        BOGOTA,
        "Pacific/Honolulu",
    }
)
PRESETS = {"mx": MX, "in_force": IN_FORCE, "us": US, "co": CO, "us_wa": preset_rules("us_regf", ("us_wa",))}
instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))


def _inside_every_window(rules: RuleSet, zones: tuple[str, ...], at: datetime, channel: str) -> bool:
    handle = timedelta(minutes=rules.handle_minutes.get(channel, 0))
    for zone in zones:
        wall = at.astimezone(ZoneInfo(zone))
        for window_rule in rules.window_rules:
            fits = False
            for window in window_rule.windows:
                if window.covers(channel, wall.weekday()):
                    start = datetime.combine(wall.date(), window.start, tzinfo=ZoneInfo(zone))
                    end = datetime.combine(wall.date(), window.end, tzinfo=ZoneInfo(zone))
                    fits = fits or (
                        start.astimezone(UTC) <= at < end.astimezone(UTC) and at + handle <= end.astimezone(UTC)
                    )
            if not fits:
                return False
        if rules.holiday_rule is not None and wall.date() in rules.holidays:
            return False
    return True


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    preset=st.sampled_from(sorted(PRESETS)),
    zones=st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True),
    at=instants,
    channel=st.sampled_from(["voice", "sms", "email"]),
)
def test_no_allowed_decision_falls_outside_a_window(preset: str, zones: list[str], at: datetime, channel: str) -> None:
    rules = PRESETS[preset]
    decision = decide(rules, ask(rules, at, tuple(zones), channel=channel))
    if decision.allowed:
        assert _inside_every_window(rules, tuple(zones), at, channel)
    else:
        # Blocked only by the clock here: the next allowed instant is later, and allowed.
        assert decision.next_allowed is not None and decision.next_allowed > at
        assert _inside_every_window(rules, tuple(zones), decision.next_allowed, channel)
        assert decide(rules, ask(rules, decision.next_allowed, tuple(zones), channel=channel)).allowed
    # The short decision (the queue's) agrees with the explained one.
    brief = decide(rules, ask(rules, at, tuple(zones), channel=channel), explain=False)
    assert (brief.outcome, brief.next_allowed) == (decision.outcome, decision.next_allowed)


def _period_start(cap, at: datetime, zone: str) -> datetime:
    if cap.period is Period.ROLLING:
        return at - timedelta(days=cap.days)
    wall = at.astimezone(ZoneInfo(zone)).date()
    first = wall - timedelta(days=wall.weekday()) if cap.period is Period.WEEK else wall
    return datetime.combine(first, datetime.min.time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    preset=st.sampled_from(["in_force", "us", "co", "us_wa"]),
    tries=st.lists(
        st.tuples(st.integers(1, 600), st.sampled_from(["voice", "sms", "email"]), st.sampled_from(["a1", "a2"])),
        min_size=1,
        max_size=60,
    ),
)
def test_a_cap_is_never_exceeded_whatever_the_attempts(preset: str, tries: list[tuple[int, str, str]]) -> None:
    rules = PRESETS[preset]
    zone = {"in_force": CDMX, "co": BOGOTA}.get(preset, NEW_YORK)
    at = local(zone, 2026, 11, 23, 6, 0)
    made: list[Past] = []
    for gap, channel, account in tries:
        at += timedelta(minutes=gap)
        question = ask(rules, at, zone, channel=channel, account_id=account, history=tuple(made))
        if decide(rules, question, explain=False).allowed:
            made.append(Past(at, channel, account))
    for cap in rules.caps:
        for last in made:
            since = _period_start(cap, last.at, zone)
            counted = [
                p
                for p in made
                if since < p.at <= last.at
                and (not cap.channels or p.channel in cap.channels)
                and (cap.scope is not Scope.DEBT or p.account_id == last.account_id)
            ]
            if cap.counts is Counts.CHANNELS:
                assert len({p.channel for p in counted}) <= cap.limit, (cap.rule.id, counted)
            elif not cap.channels or last.channel in cap.channels:
                assert len(counted) <= cap.limit, (cap.rule.id, [p.at for p in counted])


# --- presets in config: checked by file and key ------------------------------------------------


def test_config_check_names_every_preset_error_by_file_and_key(tmp_path) -> None:
    import shutil

    from cobro_tui.i18n import set_language
    from cobro_tui.policy import check_policy, default_policy_dir

    set_language("en")
    folder = tmp_path / "policy"
    shutil.copytree(default_policy_dir(), folder)
    mx = folder / "rules" / "mx_condusef.toml"
    mx.write_text(mx.read_text().replace('end = "22:00"', 'end = "06:00"').replace("voice = 5", 'voice = "five"'))
    ma = folder / "rules" / "us_ma.toml"
    ma.write_text(
        ma.read_text()
        .replace('counts = "attempts"', 'counts = "calls"', 1)
        .replace('channels = ["voice"]', 'channels = ["fax"]', 1)
    )
    nyc = folder / "rules" / "us_nyc.toml"
    nyc.write_text(nyc.read_text().replace('extends = "us_regf"', 'extends = "us_federal"'))
    in_force = folder / "contact_rules.toml"
    in_force.write_text(
        in_force.read_text().replace("limit = 3", "limit = 0") + '\n[callback]\nid = "X"\nsource = "y"\n'
    )
    problems = check_policy(folder)
    text = "\n".join(problems)
    assert f"{mx}: windows.window[0].end: '06:00' must come after start '07:00'" in problems, text
    assert f"{mx}: handle_minutes.voice: must be a whole number, not 'five'" in problems, text
    assert f"{ma}: cap[0].counts: must be one of attempts, conversations, channels; not 'calls'" in problems, text
    assert f"{ma}: cap[0].channels[0]: must be one of voice, sms, whatsapp, email, visit, letter; not 'fax'" in text
    assert f"{nyc}: extends: 'us_federal' is not a preset in rules/; known: co_ley2300," in text, text
    assert f"{in_force}: cap[0].limit: must be from 1 to 1000, not 0" in problems, text
    assert f"{in_force}: callback: only a jurisdiction preset may exempt callbacks from its caps" in problems, text
    assert ": missing;" not in text, text  # a wrong window is that error alone, not also a missing [windows]
    in_force.write_text('version = "1"\npreset = "mx_profeco"\n')
    assert any("'mx_profeco' is not a preset" in p and "known: co_ley2300" in p for p in check_policy(folder))


def test_the_cli_config_check_reports_preset_errors(tmp_path) -> None:
    import shutil
    import subprocess
    import sys

    from cobro_tui.policy import default_policy_dir

    folder = tmp_path / "policy"
    shutil.copytree(default_policy_dir(), folder)
    co = folder / "rules" / "co_ley2300.toml"
    co.write_text(co.read_text().replace('days = ["sat"]', 'days = ["sáb"]'))
    result = subprocess.run(
        [sys.executable, "-m", "cobro_tui", "config", "check", str(folder)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert f"{co}: windows.window[1].days[0]: debe ser uno de mon, tue, wed" in result.stderr
    assert "no 'sáb'" in result.stderr
