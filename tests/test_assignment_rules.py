"""New accounts of an import to agents by assignment.toml, on a real SQLite server database: rules by
bucket, segment and product to a team, spread by count or balance over the team's enabled agents,
from the server's own users and holdings; and `config check` naming file and key of every error."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import cli_env
from sqlalchemy import Engine, select, update

from cobro_tui.domain.assignment import AssignmentRule, AssignmentRules, Load, spread
from cobro_tui.errors import PolicyError
from cobro_tui.i18n import set_language
from cobro_tui.policy import check_policy, default_policy_dir, load_policy
from cobro_tui.server.assign import move
from cobro_tui.server.assignment_rules import (
    NewAccount,
    assign,
    explain_unassigned,
    load_assignment,
    plan,
    team_loads,
)
from cobro_tui.server.auth import add_user
from cobro_tui.server.db import migrate, server_engine, write_tx
from cobro_tui.server.feed import Doc, Tx, server_epoch
from cobro_tui.server.holdings import hand_over
from cobro_tui.server.schema import account_facts, entities, users

NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Engine]:
    """A migrated server database, empty but for its epoch."""
    engine = server_engine(f"sqlite:///{tmp_path / 'server.db'}")
    migrate(engine)
    with write_tx(engine) as conn:
        server_epoch(conn)
    try:
        yield engine
    finally:
        engine.dispose()


def people(engine: Engine, *rows: tuple[str, str, str, bool]) -> None:
    """Users (username, role, team, disabled); a placeholder hash: nobody signs in here."""
    with write_tx(engine) as conn:
        for username, role, team, disabled in rows:
            add_user(conn, username, "", role, team, password_hash="-")
            if disabled:
                conn.execute(update(users).where(users.c.username == username).values(disabled_at=NOW.isoformat()))


def agents(engine: Engine, team: str, *names: str) -> None:
    people(engine, *((name, "agent", team, False) for name in names))


def account_doc(account_id: str, agent: str | None, balance: int, bucket: str = "1-29") -> Doc:
    """An account document as the server keeps it (the parts the projection reads)."""
    zero = {"centavos": 0, "currency": "MXN"}
    data = {
        "id": account_id,
        "principal": {"centavos": balance, "currency": "MXN"},
        "interest": zero,
        "fees": zero,
        "vat": zero,
        "bucket": bucket,
        "opened_on": "2025-01-15",
        "assigned_agent": agent or "",
    }
    return Doc("account", account_id, 0, data, account_id, f"c-{account_id}", agent)


def hold(engine: Engine, given: dict[str, str], balances: dict[str, int]) -> None:
    """Store accounts with their agents as the server does (documents, projection, history): what the
    import does with `assign`'s answer."""
    with write_tx(engine) as conn:
        tx = Tx(conn, NOW)
        for account_id, agent in given.items():
            tx.put(account_doc(account_id, agent, balances[account_id]))
            hand_over(conn, account_id, agent, NOW)


def held(engine: Engine) -> dict[str, tuple[int, int]]:
    """Agent -> (accounts, total balance) from the server's projection."""
    found: dict[str, tuple[int, int]] = {}
    with engine.connect() as conn:
        for agent, balance in conn.execute(select(account_facts.c.agent, account_facts.c.balance)):
            count, total = found.get(agent, (0, 0))
            found[agent] = (count + 1, total + balance)
    return found


def new(
    n: int, prefix: str = "n", bucket: str = "1-29", segment: str = "B", product: str = "nomina"
) -> list[NewAccount]:
    rng = random.Random(n)
    return [
        NewAccount(f"{prefix}{i:05d}", bucket, segment, product, rng.randrange(100_00, 500_000_00)) for i in range(n)
    ]


def rules(*found: AssignmentRule) -> AssignmentRules:
    return AssignmentRules(found)


# --- spreading -----------------------------------------------------------------------------


def test_by_count_the_fewest_held_first_and_the_same_answer_whatever_the_order(server: Engine) -> None:
    agents(server, "norte", "ana", "beto", "caro")
    hold(server, {"old1": "beto", "old2": "beto", "old3": "caro"}, {"old1": 100, "old2": 100, "old3": 100})
    accounts = new(10)
    policy = rules(AssignmentRule("todo", "norte", "count"))
    with server.connect() as conn:
        given = assign(conn, policy, accounts)
        shuffled = list(reversed(accounts))
        random.Random(3).shuffle(shuffled)
        assert assign(conn, policy, shuffled) == given  # nothing depends on the file's order
    assert set(given) == {a.account_id for a in accounts}
    counts = Counter(given.values())
    # ana 0, beto 2, caro 1 before; 13 accounts after: 5, 4, 4 (the tie of 4 to the first username).
    assert (counts["ana"], counts["beto"] + 2, counts["caro"] + 1) == (5, 4, 4)
    # The largest account goes first, to whoever holds fewest then: ana.
    largest = max(accounts, key=lambda a: a.balance_centavos)
    assert given[largest.account_id] == "ana"


def test_by_balance_the_lowest_total_first_and_totals_even_out(server: Engine) -> None:
    agents(server, "cobranza", "a1", "a2", "a3", "a4")
    hold(server, {"rich": "a1"}, {"rich": 2_000_000_00})
    accounts = new(400)
    policy = rules(AssignmentRule("dinero", "cobranza", "balance"))
    with server.connect() as conn:
        given = assign(conn, policy, accounts)
        assert assign(conn, policy, sorted(accounts, key=lambda a: a.balance_centavos)) == given
    balances = {a.account_id: a.balance_centavos for a in accounts}
    hold(server, given, balances)
    totals = {agent: total for agent, (_, total) in held(server).items()}
    largest = max(balances.values())
    assert max(totals.values()) - min(totals.values()) <= largest  # no agent a whole account above another
    assert Counter(given.values())["a1"] < Counter(given.values())["a2"]  # a1 started $2M ahead


def test_a_tie_goes_to_the_first_username(server: Engine) -> None:
    agents(server, "norte", "zeta", "beta", "alfa")
    policy = rules(AssignmentRule("todo", "norte", "balance"))
    equal = [NewAccount(f"e{i}", "1-29", "B", "nomina", 1000) for i in range(4)]
    with server.connect() as conn:
        assert assign(conn, policy, equal) == {"e0": "alfa", "e1": "beta", "e2": "zeta", "e3": "alfa"}


def test_the_next_batch_sees_what_the_last_one_gave(server: Engine) -> None:
    agents(server, "norte", "ana", "beto", "caro")
    policy = rules(AssignmentRule("todo", "norte", "count"))
    first, second = new(7, "x"), new(8, "y")
    with server.connect() as conn:
        given = assign(conn, policy, first)
    hold(server, given, {a.account_id: a.balance_centavos for a in first})
    with server.connect() as conn:
        more = assign(conn, policy, second)
    counts = Counter(given.values()) + Counter(more.values())
    assert sorted(counts.values()) == [5, 5, 5]


def test_loads_come_from_the_server_holdings_and_follow_a_reassignment(server: Engine) -> None:
    agents(server, "norte", "ana", "beto")
    hold(server, {f"h{i}": "ana" for i in range(4)}, {f"h{i}": 1000 for i in range(4)})
    with server.connect() as conn:
        assert team_loads(conn, {"norte"}) == {"norte": {"ana": Load(4, 4000), "beto": Load(0, 0)}}
    with write_tx(server) as conn:
        move(conn, "h0", "beto", NOW)
        move(conn, "h1", "beto", NOW)
        assert team_loads(conn, {"norte"}) == {"norte": {"ana": Load(2, 2000), "beto": Load(2, 2000)}}
        assert Counter(assign(conn, rules(AssignmentRule("t", "norte")), new(2)).values()) == {"ana": 1, "beto": 1}


def test_the_demo_floor_evens_out_from_its_seeded_portfolio(tmp_path: Path) -> None:
    from cobro_tui.clock import FixedClock
    from cobro_tui.server.run import prepare

    engine = prepare(f"sqlite:///{tmp_path / 'demo.db'}", FixedClock(NOW), demo_accounts=120, seed=5)
    try:
        before = held(engine)
        accounts = new(300)
        with engine.connect() as conn:
            given = assign(conn, load_assignment(default_policy_dir()), accounts)  # the shipped rules
        assert len(given) == 300
        after = Counter({agent: count for agent, (count, _) in before.items()}) + Counter(given.values())
        assert set(after) == {f"agente{i:02d}" for i in range(1, 11)}  # supervisor, manager, auditor: none
        assert max(after.values()) - min(after.values()) <= 1
    finally:
        engine.dispose()


def test_ten_thousand_accounts_over_ten_agents(server: Engine) -> None:
    agents(server, "norte", *(f"agente{i:02d}" for i in range(1, 11)))
    accounts = new(10_000)
    with server.connect() as conn:
        by_count = assign(conn, rules(AssignmentRule("t", "norte", "count")), accounts)
        by_balance = assign(conn, rules(AssignmentRule("t", "norte", "balance")), accounts)
    assert sorted(Counter(by_count.values()).values()) == [1000] * 10
    totals = Counter[str]()
    for account in accounts:
        totals[by_balance[account.account_id]] += account.balance_centavos
    assert max(totals.values()) - min(totals.values()) <= max(a.balance_centavos for a in accounts)


# --- which rule, which team ----------------------------------------------------------------


def test_bucket_segment_and_product_match_and_the_first_matching_rule_wins(server: Engine) -> None:
    agents(server, "preventiva", "p1")
    agents(server, "tardia", "t1")
    agents(server, "especial", "s1")
    agents(server, "general", "g1")
    policy = rules(
        AssignmentRule(
            "prev-tc", "preventiva", buckets=frozenset({"preventiva"}), products=frozenset({"tarjeta_credito"})
        ),
        AssignmentRule("riesgo", "especial", segments=frozenset({"D", "E"}), buckets=frozenset({"30-59", "60-89"})),
        AssignmentRule("tarde", "tardia", "balance", buckets=frozenset({"60-89", "90-119", "120+", "castigo"})),
        AssignmentRule("resto", "general"),
    )
    accounts = [
        NewAccount("a1", "preventiva", "A", "tarjeta_credito", 100),  # prev-tc
        NewAccount("a2", "preventiva", "A", "nomina", 100),  # product differs: resto
        NewAccount("a3", "60-89", "E", "automotriz", 100),  # riesgo and tarde match: riesgo, the first
        NewAccount("a4", "60-89", "C", "automotriz", 100),  # segment differs: tarde
        NewAccount("a5", "30-59", "d", "nomina", 100),  # segments are exact: "d" is not "D": resto
        NewAccount("a6", "castigo", "A", "prestamo_personal", 100),  # tarde
    ]
    with server.connect() as conn:
        found = plan(conn, policy, accounts)
    assert found.agents == {"a1": "p1", "a2": "g1", "a3": "s1", "a4": "t1", "a5": "g1", "a6": "t1"}
    assert found.rules == {"a1": "prev-tc", "a2": "resto", "a3": "riesgo", "a4": "tarde", "a5": "resto", "a6": "tarde"}
    assert found.unassigned == {}


def test_rules_of_one_team_share_its_agents_loads(server: Engine) -> None:
    agents(server, "norte", "ana", "beto")
    policy = rules(
        AssignmentRule("tarde", "norte", "balance", buckets=frozenset({"castigo"})),
        AssignmentRule("resto", "norte", "count"),
    )
    accounts = [NewAccount("c1", "castigo", "A", "nomina", 9_000_00), *new(3)]
    with server.connect() as conn:
        counts = Counter(assign(conn, policy, accounts).values())
    assert counts == {"ana": 2, "beto": 2}  # ana took the charged-off account; the count rule saw it


def test_disabled_agents_and_other_roles_never_receive_accounts(server: Engine) -> None:
    people(
        server,
        ("aaa_supervisor", "supervisor", "norte", False),
        ("aab_manager", "manager", "norte", False),
        ("aac_auditor", "auditor", "norte", False),
        ("aad_integration", "integration", "norte", False),
        ("aae_disabled", "agent", "norte", True),
        ("zz_agent", "agent", "norte", False),
        ("elsewhere", "agent", "sur", False),
    )
    with server.connect() as conn:
        given = assign(conn, rules(AssignmentRule("t", "norte", "count")), new(50))
        by_balance = assign(conn, rules(AssignmentRule("t", "norte", "balance")), new(50))
    assert set(given.values()) == set(by_balance.values()) == {"zz_agent"}


def test_a_team_without_enabled_agents_and_an_account_no_rule_takes_are_left_unassigned(server: Engine) -> None:
    people(server, ("jefa", "supervisor", "vacia", False), ("ido", "agent", "vacia", True))
    agents(server, "norte", "ana")
    policy = rules(
        AssignmentRule("vacia", "vacia", buckets=frozenset({"castigo"})),
        AssignmentRule("fantasma", "no-existe", buckets=frozenset({"120+"})),
        AssignmentRule("temprana", "norte", buckets=frozenset({"1-29"})),
    )
    accounts = [
        NewAccount("x1", "castigo", "A", "nomina", 100),
        NewAccount("x2", "120+", "A", "nomina", 100),
        NewAccount("x3", "60-89", "A", "nomina", 100),
        NewAccount("x4", "1-29", "A", "nomina", 100),
    ]
    with server.connect() as conn:
        assert assign(conn, policy, accounts) == {"x4": "ana"}
        why = explain_unassigned(conn, policy, accounts)
    assert {k: (v.reason, v.rule, v.team) for k, v in why.items()} == {
        "x1": ("no_agents", "vacia", "vacia"),
        "x2": ("no_agents", "fantasma", "no-existe"),
        "x3": ("no_rule", None, None),
    }
    set_language("en")
    assert why["x1"].text() == (
        "Account x1 left unassigned: rule vacia gives it to team vacia, which has no enabled agents."
    )
    assert "bucket 60-89, segment A and product nomina" in why["x3"].text()
    set_language("es")
    assert why["x3"].text().startswith("Cuenta x3 sin asignar: ninguna regla")


def test_no_rules_nothing_empty_input_nothing_and_a_repeated_id_counts_once(server: Engine) -> None:
    agents(server, "norte", "ana", "beto")
    with server.connect() as conn:
        assert assign(conn, AssignmentRules(), new(5)) == {}
        assert assign(conn, rules(AssignmentRule("t", "norte")), []) == {}
        twice = [NewAccount("dup", "1-29", "A", "nomina", 5), NewAccount("dup", "castigo", "A", "nomina", 7), *new(1)]
        assert Counter(assign(conn, rules(AssignmentRule("t", "norte")), twice).values()) == {"ana": 1, "beto": 1}


def test_hostile_and_boundary_values_do_not_break_it(server: Engine) -> None:
    agents(server, "norte", "ana", "beto")
    hostile_team = "x'; DROP TABLE users; --"
    agents(server, hostile_team, "carl")
    policy = rules(
        AssignmentRule("rara", hostile_team, buckets=frozenset({"\x1b[31m"})),
        AssignmentRule("t", "norte", "balance"),
    )
    accounts = [
        NewAccount("\x1b]0;pwn\x07", "\x1b[31m", "A", "nomina", 1),
        NewAccount("huge", "1-29", "A", "nomina", 10**17),
        NewAccount("negative", "1-29", "A", "nomina", -5_00),
        NewAccount("zero", "1-29", "", "", 0),
    ]
    with server.connect() as conn:
        given = assign(conn, policy, accounts)
        assert conn.execute(select(users.c.username)).all()  # the table is still there
    assert given == {"\x1b]0;pwn\x07": "carl", "huge": "ana", "zero": "beto", "negative": "beto"}


def test_assign_only_reads(server: Engine) -> None:
    agents(server, "norte", "ana")
    with server.connect() as conn:
        assign(conn, rules(AssignmentRule("t", "norte")), new(20))
        assert conn.execute(select(entities.c.id)).all() == []
        assert conn.execute(select(account_facts.c.id)).all() == []


def test_spread_refuses_an_unknown_way() -> None:
    with pytest.raises(ValueError, match="by must be one of count, balance"):
        spread([("a", 1)], {"ana": Load()}, "random")
    assert spread([("a", 1)], {}, "count") == {}


# --- the file and its check ----------------------------------------------------------------


def _policy_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "policy"
    shutil.copytree(default_policy_dir(), folder)
    return folder


def test_the_shipped_assignment_loads_and_is_in_the_policy() -> None:
    shipped = load_assignment(default_policy_dir())
    assert [rule.name for rule in shipped.rules] == ["tardia", "general"]
    assert shipped.rules[0].buckets == frozenset({"90-119", "120+", "castigo"}) and shipped.rules[0].by == "balance"
    assert shipped.rules[-1].buckets is None and shipped.rules[-1].by == "count"  # the fallback
    assert load_policy().assignment == shipped


def test_one_value_or_a_list_and_a_folder_without_the_file(tmp_path: Path) -> None:
    folder = _policy_copy(tmp_path)
    (folder / "assignment.toml").write_text(
        '[[rule]]\nbucket = "30-59"\nsegment = ["A", "B"]\nproduct = "nomina"\nteam = "t"\n'
    )
    (rule,) = load_assignment(folder).rules
    assert (rule.name, rule.buckets, rule.segments, rule.products, rule.by) == (
        "rule[0]",
        frozenset({"30-59"}),
        frozenset({"A", "B"}),
        frozenset({"nomina"}),
        "count",
    )
    (folder / "assignment.toml").unlink()
    assert load_assignment(folder) == AssignmentRules()
    assert check_policy(folder) == [] and load_policy(folder).assignment == AssignmentRules()


BROKEN = """\
version = "2026.12.1"
colour = "verde"

[[rule]]
name = "uno"
bucket = ["30-59", "31-60"]
segment = []
product = "hipoteca"
team = "   "
by = "random"
weight = 2

[[rule]]
name = "dos"
bucket = "60-89"
team = "norte"

[[rule]]
name = "uno"
bucket = 5
team = "norte"
by = "count"

[[rule]]
team = "norte-equipo-con-un-nombre-demasiado-largo"
"""


def test_config_check_names_the_file_and_the_key_of_every_error(tmp_path: Path) -> None:
    set_language("en")
    folder = _policy_copy(tmp_path)
    path = folder / "assignment.toml"
    path.write_text(BROKEN)
    problems = check_policy(folder)
    expected = [
        f"{path}: rule[0].bucket[1]: '31-60' is not a bucket of buckets.toml; the buckets are: preventiva, 1-29, 30-59, 60-89, 90-119, 120+, castigo",
        f"{path}: rule[0].segment: needs at least 1 item(s)",
        f"{path}: rule[0].product[0]: must be one of tarjeta_credito, prestamo_personal, nomina, automotriz; not 'hipoteca'",
        f"{path}: rule[0].team: must be non-empty text, not '   '",
        f"{path}: rule[0].by: must be one of count, balance; not 'random'",
        f"{path}: rule[0].weight: is not a key of this table; its keys are: name, bucket, segment, product, team, by",
        f"{path}: rule[2].name: 'uno' appears more than once",
        f"{path}: rule[2].bucket: must be text in quotes or a list of them [...], not 5",
        f"{path}: rule[3].team: must be a team name of at most 32 characters, not 'norte-equipo-con-un-nombre-demasiado-largo'",
        f"{path}: colour: is not a key of this table; its keys are: version, rule",
    ]
    assert sorted(problems) == sorted(expected)
    with pytest.raises(PolicyError) as refused:
        load_assignment(folder)
    assert sorted(refused.value.problems) == sorted(expected)
    set_language("es")
    assert f"{path}: rule[0].by: debe ser uno de count, balance; no 'random'" in check_policy(folder)


def test_a_rule_that_can_never_be_used_is_an_error(tmp_path: Path) -> None:
    set_language("en")
    folder = _policy_copy(tmp_path)
    path = folder / "assignment.toml"
    path.write_text(
        '[[rule]]\nname = "tarde"\nbucket = ["60-89", "90-119"]\nteam = "a"\n'
        '\n[[rule]]\nbucket = ["90-119", "60-89"]\nteam = "b"\nby = "balance"\n'  # the same accounts: duplicate
        '\n[[rule]]\nbucket = "60-89"\nsegment = "E"\nteam = "c"\n'  # fewer accounts than rule 0: shadowed
        '\n[[rule]]\nteam = "general"\n'  # the fallback
        '\n[[rule]]\nproduct = "nomina"\nteam = "d"\n'  # after the fallback: shadowed
        '\n[[rule]]\nteam = "otra"\n'  # a second fallback: duplicate
    )
    assert check_policy(folder) == [
        f'{path}: rule[1]: takes the same accounts as rule[0] ("tarde") (bucket = ["90-119", "60-89"]); it would never be used: remove it or change its criteria',
        f'{path}: rule[2]: would never be used: rule[0] ("tarde"), before it, already takes all its accounts (bucket = ["60-89"], segment = ["E"]); put it before rule[0] ("tarde")',
        f'{path}: rule[4]: would never be used: rule[3], before it, already takes all its accounts (product = ["nomina"]); put it before rule[3]',
        f"{path}: rule[5]: takes the same accounts as rule[3] (any account); it would never be used: remove it or change its criteria",
    ]
    set_language("es")
    assert check_policy(folder)[3] == (
        f"{path}: rule[5]: toma las mismas cuentas que rule[3] (cualquier cuenta); nunca se usaría: quítela o cambie sus criterios"
    )
    # Narrower first is how it should read: no error.
    path.write_text(
        '[[rule]]\nbucket = "60-89"\nsegment = "E"\nteam = "c"\n'
        '\n[[rule]]\nbucket = ["60-89", "90-119"]\nteam = "a"\n\n[[rule]]\nteam = "general"\n'
    )
    assert check_policy(folder) == []


def test_bucket_names_follow_the_folder_buckets_and_bad_toml_is_named(tmp_path: Path) -> None:
    set_language("en")
    folder = _policy_copy(tmp_path)
    buckets = folder / "buckets.toml"
    buckets.write_text(buckets.read_text().replace('code = "castigo"', 'code = "quebranto"'))
    problems = check_policy(folder)
    assert any(
        p.startswith(f"{folder / 'assignment.toml'}: rule[0].bucket[2]: 'castigo' is not a bucket of buckets.toml")
        for p in problems
    )
    (folder / "assignment.toml").write_text("[[rule]\nteam = 1\n")
    problems = check_policy(folder)
    assert any(p.startswith(f"{folder / 'assignment.toml'}: not valid TOML") for p in problems)
    (folder / "assignment.toml").write_text("rule = []\n")
    assert f"{folder / 'assignment.toml'}: rule: needs at least 1 item(s)" in check_policy(folder)
    with pytest.raises(PolicyError):
        load_assignment(tmp_path / "nowhere")


def test_config_check_on_the_command_line_names_file_and_key(tmp_path: Path) -> None:
    folder = _policy_copy(tmp_path)
    (folder / "assignment.toml").write_text('[[rule]]\nteam = "norte"\nby = "saldo"\n')
    done = subprocess.run(
        [sys.executable, "-m", "cobro_tui", "config", "check", str(folder)],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path, COBRO_LANG="en"),
    )
    assert done.returncode == 1
    assert f"{folder / 'assignment.toml'}: rule[0].by: must be one of count, balance; not 'saldo'" in done.stderr


# --- the same on PostgreSQL ----------------------------------------------------------------


def _floor(engine: Engine) -> dict[str, str]:
    """Teams with agents of every kind, holdings, and the shipped-like rules; what assign answers."""
    with write_tx(engine) as conn:
        server_epoch(conn)
    agents(engine, "norte", *(f"agente{i:02d}" for i in range(1, 7)))
    agents(engine, "Sur", "Zoe", "alba", "Beto")  # mixed case: ties by Python's order, not a collation
    people(engine, ("jefe", "supervisor", "norte", False), ("baja", "agent", "Sur", True))
    hold(engine, {f"h{i}": f"agente0{1 + i % 3}" for i in range(9)}, {f"h{i}": (i + 1) * 10_000 for i in range(9)})
    policy = rules(
        AssignmentRule("sur", "Sur", "balance", segments=frozenset({"E"})),
        AssignmentRule("todo", "norte", "count"),
    )
    accounts = [*new(300), *new(60, "s", segment="E")]
    with engine.connect() as conn:
        return assign(conn, policy, accounts)


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("initdb") is None and not os.environ.get("CI"),
    reason="needs PostgreSQL's server tools (initdb, pg_ctl); .ci/run installs them",
)
def test_postgresql_gives_the_same_answer_as_sqlite(tmp_path: Path) -> None:
    from support.postgres import postgres_cluster

    from cobro_tui.server.run import free_port

    lite = server_engine(f"sqlite:///{tmp_path / 'lite.db'}")
    migrate(lite)
    try:
        expected = _floor(lite)
    finally:
        lite.dispose()
    assert set(expected.values()) == {*(f"agente{i:02d}" for i in range(1, 7)), "Zoe", "alba", "Beto"}
    with postgres_cluster(free_port()) as url:
        engine = server_engine(url)
        migrate(engine)
        try:
            assert engine.dialect.name == "postgresql"
            assert _floor(engine) == expected
        finally:
            engine.dispose()


def test_rules_built_in_code_with_one_name_stay_apart(server: Engine) -> None:
    agents(server, "a", "ana")
    agents(server, "b", "beto")
    policy = rules(AssignmentRule("x", "a", buckets=frozenset({"castigo"})), AssignmentRule("x", "b"))
    accounts = [NewAccount("c", "castigo", "A", "nomina", 1), NewAccount("d", "1-29", "A", "nomina", 1)]
    with server.connect() as conn:
        assert assign(conn, policy, accounts) == {"c": "ana", "d": "beto"}
