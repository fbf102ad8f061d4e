"""Every text goes through one translation layer with complete Spanish and English catalogs."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

from cobro_tui.domain.money import Money
from cobro_tui.i18n import catalog, day, instant, money, set_language, t

SRC = Path(__file__).resolve().parent.parent / "src" / "cobro_tui"


def test_spanish_and_english_catalogs_have_the_same_messages() -> None:
    assert set(catalog("es")) == set(catalog("en"))
    for key, text in catalog("es").items():
        assert set(re.findall(r"{(\w+)", text)) == set(re.findall(r"{(\w+)", catalog("en")[key])), key


def test_every_message_the_code_asks_for_exists() -> None:
    used: set[str] = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_.]+)["']""", text))
        # Key descriptions: Binding("key", "action", "message.id", ...)
        used |= set(re.findall(r'Binding\(\s*"[^"]*",\s*"[^"]*",\s*"([a-z_]+\.[a-z_.]+)"', text))
    assert used, "the scan found no messages"
    missing = sorted(key for key in used if key not in catalog("es"))
    assert missing == []
    assert {"keys.next", "keys.promise", "app.quit"} <= used, "the scan must see key descriptions"


def test_every_value_shown_by_name_has_a_message() -> None:
    from cobro_tui.domain.account_file import Alert
    from cobro_tui.domain.models import (
        Channel,
        ContactKind,
        Product,
        PromiseStatus,
        ReferenceRole,
        SyncState,
    )
    from cobro_tui.services.promises import PAYMENT_CHANNELS

    wanted = [f"alert.{a.value}" for a in Alert] + [f"channel.{c.value}" for c in Channel]
    wanted += [f"contact_kind.{k.value}" for k in ContactKind] + [f"product.{p.value}" for p in Product]
    wanted += [f"promise.status_{s.value}" for s in PromiseStatus] + [f"role.{r.value}" for r in ReferenceRole]
    wanted += [f"sync_state.{s.value}" for s in SyncState] + [f"pay_channel.{c}" for c in PAYMENT_CHANNELS]
    assert sorted(key for key in wanted if key not in catalog("es")) == []


def test_spanish_is_the_default_and_english_is_one_switch_away() -> None:
    assert t("queue.title") == "Cola de trabajo"
    set_language("en")
    assert t("queue.title") == "Work queue"
    assert t("queue.heading", agent="a", shown=1, total=2) == "Queue of a · 1 of 2 accounts"


def test_money_and_dates_read_the_mexican_way() -> None:
    assert money(Money(123456)) == "$1,234.56"
    assert money(Money(-5)) == "-$0.05"
    assert money(Money(100_000_000)) == "$1,000,000.00"
    assert day(date(2026, 3, 9)) == "09/03/2026"
    assert instant(datetime(2026, 11, 22, 16, 30, tzinfo=UTC)) == "22/11/2026 16:30"
