"""/: which accounts the queue shows (bucket, product, risk segment, promise state, callable now)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Label, Select, Static

from cobro_tui.domain.models import Product
from cobro_tui.domain.queue import PromiseFilter, QueueFilter
from cobro_tui.i18n import language, t
from cobro_tui.policy import Policy
from cobro_tui.ui.screens.base import CobroModal

SEGMENTS = ("A", "B", "C", "D", "E")


class FilterForm(CobroModal[QueueFilter | None]):
    """Dismissed with the filter chosen (an empty one shows everything), None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "keys.cancel", id="form.cancel"),
        Binding("ctrl+s", "apply", "keys.apply", id="form.apply", priority=True),
    ]

    def __init__(self, policy: Policy, current: QueueFilter | None) -> None:
        super().__init__()
        self.policy = policy
        self.current = current or QueueFilter()

    def compose(self) -> ComposeResult:
        lang, current = language(), self.current
        anything = t("filter.any")

        def choice(options: list[tuple[str, str]], value: object, widget_id: str) -> Select[str]:
            return Select(
                options,
                prompt=anything,
                compact=True,
                id=widget_id,
                value=str(value) if value is not None else Select.NULL,
            )

        with Vertical(id="filter-form", classes="form"):
            yield Static(t("filter.title"), classes="form-title")
            yield Label(t("queue.col_bucket"))
            yield choice(
                [(b.label(lang), b.code) for b in self.policy.buckets.buckets], current.bucket, "filter-bucket"
            )
            yield Label(t("queue.col_product"))
            yield choice([(t(f"product.{p.value}"), p.value) for p in Product], current.product, "filter-product")
            yield Label(t("filter.segment"))
            yield choice([(s, s) for s in SEGMENTS], current.segment, "filter-segment")
            yield Label(t("filter.promise"))
            yield choice(
                [(t(f"filter.promise_{p.value}"), p.value) for p in PromiseFilter], current.promise, "filter-promise"
            )
            yield Checkbox(t("filter.callable_now"), bool(current.callable_now), compact=True, id="filter-callable")
            with Horizontal(classes="form-buttons"):
                yield Button(t("filter.apply"), variant="primary", compact=True, id="filter-apply")
                yield Button(t("filter.clear"), compact=True, id="filter-clear")

    def _value(self, selector: str) -> str | None:
        value = self.query_one(selector, Select).value
        return None if value is Select.NULL else str(value)

    @on(Button.Pressed, "#filter-apply")
    def action_apply(self) -> None:
        product, promise = self._value("#filter-product"), self._value("#filter-promise")
        self.dismiss(
            QueueFilter(
                bucket=self._value("#filter-bucket"),
                product=Product(product) if product else None,
                segment=self._value("#filter-segment"),
                promise=PromiseFilter(promise) if promise else None,
                callable_now=True if self.query_one("#filter-callable", Checkbox).value else None,
            )
        )

    @on(Button.Pressed, "#filter-clear")
    def clear(self) -> None:
        self.dismiss(QueueFilter())

    def action_cancel(self) -> None:
        self.dismiss(None)
