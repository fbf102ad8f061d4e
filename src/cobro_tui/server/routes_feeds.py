"""What the institution's systems send in, each with an integration credential of its scope: payments.

No `from __future__ import annotations` here: FastAPI reads the dependency annotations at runtime.
"""

from typing import Annotated

from fastapi import APIRouter, Depends

from cobro_tui.api.models import PaymentIn, PaymentResult, PromiseJudged
from cobro_tui.domain.models import Payment
from cobro_tui.domain.money import Money
from cobro_tui.server import account_keys, auth, keeping
from cobro_tui.server.deps import ApiProblem, GateDep, payments_feed, problems

router = APIRouter()


@router.post("/v1/payments", response_model=PaymentResult, responses=problems(404, 409))
def payment(body: PaymentIn, user: Annotated[auth.User, Depends(payments_feed)], gate: GateDep) -> PaymentResult:
    """A payment from the institution's feed (an integration credential with the payments scope):
    stored once per id, and the account's promises judged again. The account is named by its id or
    by the institution's account number."""
    if body.account_id is not None:
        account_id = body.account_id
    else:
        assert body.account_number is not None  # PaymentIn names exactly one
        with gate.engine.connect() as conn:
            account_id = account_keys.resolve(conn, body.account_number)
    paid = Payment(
        body.id,
        account_id,
        Money(body.amount_centavos, body.currency),
        body.paid_on,
        body.channel,
        body.reference,
    )
    try:
        new, changed = keeping.record_payment(gate.engine, paid, gate.clock.now())
    except LookupError:
        named = f"numbered {body.account_number}" if body.account_id is None else body.account_id
        raise ApiProblem(404, "UNKNOWN_ACCOUNT", f"no account {named}") from None
    except keeping.PaymentRefused as refused:
        raise ApiProblem(refused.status, refused.code, refused.message) from None
    return PaymentResult(
        new=new,
        promises=[
            PromiseJudged(id=p.id, status=p.status.value, paid_centavos=p.paid.centavos if p.paid else None)
            for p in changed
        ],
    )
