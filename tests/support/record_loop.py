"""Child process for the kill test: logs contacts forever, printing each id after its commit."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cobro_tui.clock import SystemClock
from cobro_tui.domain.models import Channel
from cobro_tui.policy import load_policy
from cobro_tui.services.contacts import ContactService
from cobro_tui.store.device import ensure_device
from cobro_tui.store.engine import CacheFile


def main() -> None:
    cache = CacheFile(Path(os.environ["CACHE_PATH"]), bytes.fromhex(os.environ["CACHE_KEY"]))
    engine = cache.open()
    contacts = ContactService(engine, SystemClock(), load_policy(), ensure_device(engine, "agente01"))
    with engine.connect() as conn:
        account_id, customer_id = conn.exec_driver_sql("SELECT id, customer_id FROM account LIMIT 1").one()
    print("ready", flush=True)
    while True:
        logged = contacts.log(account_id=account_id, customer_id=customer_id, channel=Channel.VOICE, result_code="NC")
        sys.stdout.write(logged.attempt.id + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
