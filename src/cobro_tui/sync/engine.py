"""One sync round: push the outbox, then pull to the end. Nothing recorded is lost or sent twice:
the same mutation ids are resent after any unknown outcome, and each page lands with its cursor."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Generator
from contextlib import closing
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from cobro_tui import logs
from cobro_tui.clock import Clock
from cobro_tui.i18n import t
from cobro_tui.store import audit_log, sync_store
from cobro_tui.store.integrity import CacheDamaged, DiskFull, is_disk_full
from cobro_tui.store.types import instant_text
from cobro_tui.sync.client import (
    ApiClient,
    AuthFailed,
    Refused,
    ResetRequired,
    RetryLater,
    SyncError,
    Unreachable,
)
from cobro_tui.sync.report import SyncReport

PUSH_BATCH = 200  # the protocol's most per push (api.models.PushRequest): half the round trips and commits of 100
PULL_LIMIT = 1000
SNAPSHOT_LIMIT = 10000
PAGES_AHEAD = 3
VERDICTS_PER_REQUEST = 500  # held items whose verdicts one request reads again
AUDIT_EVENTS_PER_REQUEST = 500
SCHEMA_VERSION = 1


CUSTOMER_KINDS = ("customer", "contact_point", "restriction")
log = logs.get("sync")


def _disk_full(exc: BaseException) -> bool:
    """The cache could not grow: the disk (or the database's size limit) is full."""
    return is_disk_full(exc)


def _note_touched(changes: list[dict[str, Any]], report: SyncReport) -> None:
    for change in changes:
        data = change.get("data") or {}
        if change["entity"] == "account":
            report.touched_accounts.add(change["id"])
        elif change["entity"] in CUSTOMER_KINDS:
            report.touched_customers.add(data.get("customer_id") or change["id"])
        elif data.get("account_id"):
            report.touched_accounts.add(data["account_id"])


class SyncEngine:
    def __init__(
        self, cache: Engine, api: ApiClient, clock: Clock, progress: Callable[[int], None] | None = None
    ) -> None:
        self.cache = cache
        self.api = api
        self.clock = clock
        self.registered = False
        # Hears the number of records written so far after each page (for a progress line).
        self.progress = progress

    def run_round(self) -> SyncReport:
        """Register (once), push everything pending, then pull until the server has nothing more."""
        report = SyncReport()
        started = time.perf_counter()
        try:
            meta = sync_store.read_meta(self.cache)
            if meta is None:
                raise SyncError("this cache has no device yet; sign in first")
            if not self.registered:
                sync_store.reset_inflight(self.cache)
                sync_store.ensure_indexes(self.cache)
                self.api.register(meta.device_id, meta.device_epoch, SCHEMA_VERSION)
                self.registered = True
            try:
                self._push(meta, report)
            except Refused as refused:
                self._push(self._recover(refused, meta, report), report)
            self._decisions(report)
            self._anchor_audit(meta, report)
            self._pull(report)
        except RetryLater as exc:
            report.error, report.retry_after, report.reason = exc.message, exc.retry_after, exc.reason
        except AuthFailed as exc:
            report.error, report.auth_failed, report.reason = exc.message, True, exc.reason
        except SyncError as exc:
            report.error, report.reason = exc.message, exc.reason
        except CacheDamaged as exc:  # its unsent items were saved to a file first
            report.error, report.reason = exc.message, "damaged"
        except (DiskFull, DBAPIError, OSError) as exc:
            if not _disk_full(exc):
                raise
            report.error, report.reason = t("sync.disk_full"), "disk_full"
        self._finish(report)
        ms = round((time.perf_counter() - started) * 1000)
        if report.ok:
            log.info(
                "round: pushed %d (applied %d, warned %d, rejected %d, held %d), pulled %d, snapshot %d in %d ms",
                *(report.pushed, report.applied, report.warned, report.rejected, report.held),
                *(report.pulled, report.snapshot_entities, ms),
            )
        else:
            # The reason only: the server's or a proxy's words may quote anything.
            log.warning("round failed (%s) after %d ms", report.reason, ms)
        return report

    def _recover(self, refused: Refused, meta: sync_store.SyncMeta, report: SyncReport) -> sync_store.SyncMeta:
        """Answer the two refusals a healthy device can meet, then push again; anything else stands."""
        if refused.code == "DEVICE_NOT_REGISTERED":
            # The server lost track of this device (rebuilt, or restored): register again, continuing
            # after the items it has already answered.
            resume_after = sync_store.lowest_pending_seq(self.cache) - 1
            self.api.register(meta.device_id, meta.device_epoch, SCHEMA_VERSION, resume_after)
            report.notes.append("the server did not know this device; registered again")
            return meta
        if refused.code == "SEQ_REGRESSION":
            # This cache was restored from an older copy: its numbers repeat. A new epoch lets the
            # pending items through; items the server already has are known by their ids.
            epoch, resume_after = sync_store.new_epoch(self.cache)
            self.api.register(meta.device_id, epoch, SCHEMA_VERSION, resume_after)
            report.notes.append(f"restored cache detected; continuing as device epoch {epoch}")
            fresh = sync_store.read_meta(self.cache)
            assert fresh is not None
            return fresh
        raise refused

    def _finish(self, report: SyncReport) -> None:
        report.finished_at = self.clock.now()
        try:
            sync_store.note_sync(self.cache, report.finished_at, report.error)
        except CacheDamaged as exc:
            report.error, report.reason = exc.message, "damaged"
        except (DiskFull, DBAPIError, OSError) as exc:
            if not _disk_full(exc):
                raise
            report.error, report.reason = t("sync.disk_full"), "disk_full"  # the report still says it

    def _push(self, meta: sync_store.SyncMeta, report: SyncReport) -> None:
        while True:
            batch = sync_store.take_batch(self.cache, PUSH_BATCH)
            if not batch:
                return
            body = {
                "device_id": meta.device_id,
                "device_epoch": meta.device_epoch,
                "client_time": instant_text(self.clock.now()),
                "mutations": [
                    {
                        "mutation_id": p.mutation_id,
                        "client_seq": p.client_seq,
                        "name": p.name,
                        "args": p.args,
                        "occurred_at_client": p.occurred_at,
                        "observed_cursor": p.observed_cursor,
                        "base_version": p.base_version,
                    }
                    for p in batch
                ],
                "audit_head": self._audit_head(),
            }
            try:
                answer = self.api.push(body)
            except SyncError as exc:
                # Unknown outcome or refusal of the whole batch: same ids go again next time.
                sync_store.release(self.cache, [p.mutation_id for p in batch], exc.message)
                raise
            results = answer["results"]
            sync_store.record_verdicts(self.cache, results)
            answered = {r["mutation_id"] for r in results}
            sync_store.release(
                self.cache,
                [p.mutation_id for p in batch if p.mutation_id not in answered],
                "not processed yet (server halted the batch)",
            )
            for result in results:
                report.pushed += 1
                status = result["status"]
                report.applied += status == "applied"
                report.warned += status == "applied_with_warnings"
                report.rejected += status == "rejected"
                report.held += status == "deferred"
            if answer.get("halted"):
                raise_after = float(answer["halted"].get("retry_after_s", 2))
                raise RetryLater(f"the server paused at item {answer['halted']['at_client_seq']}", raise_after)

    def _audit_head(self) -> dict[str, Any]:
        with self.cache.connect() as conn:
            seq, head = audit_log.chain_head(conn)
        return {"seq": seq, "hash": head}

    def _anchor_audit(self, meta: sync_store.SyncMeta, report: SyncReport) -> None:
        """The audit events the server has not acknowledged yet, sent to it (ids and codes only), with
        this chain's head: the institution keeps the evidence when a workstation is wiped. A chain the
        server refuses is an alarm kept here for `audit verify`; it never stops the sync of the work."""
        anchor = sync_store.audit_anchor(self.cache)
        head = self._audit_head()
        if head["seq"] == anchor.seq and head["hash"] == anchor.hash:
            return
        after = min(anchor.seq, head["seq"])
        while True:
            events = audit_log.events_after(self.cache, after, AUDIT_EVENTS_PER_REQUEST)
            try:
                ack = self.api.audit_events(
                    meta.device_id, [{"seq": e.seq, "hash": e.hash, "body": e.body} for e in events], head
                )
            except Refused as refused:
                if (
                    refused.code == "AUDIT_CHAIN_GAP"
                    and isinstance(refused.details.get("head_seq"), int)
                    and refused.details["head_seq"] < after
                ):
                    after = refused.details["head_seq"]  # the server keeps less than it had said: send from there
                    continue
                sync_store.note_audit_alarm(self.cache, f"{refused.code}: {refused.message}")
                report.notes.append(f"the server refused this workstation's audit chain ({refused.code})")
                return
            sync_store.note_audit_ack(self.cache, ack["head_seq"], ack["head_hash"], self.clock.now(), ack.get("alarm"))
            if ack.get("alarm"):
                report.notes.append(f"the server found this workstation's audit chain {ack['alarm']}")
            if len(events) < AUDIT_EVENTS_PER_REQUEST:
                return
            after = ack["head_seq"]

    def _decisions(self, report: SyncReport) -> None:
        """Items held for a supervisor: their verdicts, read again; a decided one is recorded like any
        verdict (approved: the server's copy comes with this pull; denied: rejected, with the reason)."""
        held = sync_store.held_mutations(self.cache)
        decided = []
        for start in range(0, len(held), VERDICTS_PER_REQUEST):  # one request per 500 held items
            decided += [
                v for v in self.api.verdicts(held[start : start + VERDICTS_PER_REQUEST]) if v["status"] != "deferred"
            ]
        sync_store.record_verdicts(self.cache, decided)
        report.decided += len(decided)
        report.touched_accounts.update(sync_store.accounts_of(self.cache, [v["mutation_id"] for v in decided]))

    def _pull(self, report: SyncReport) -> None:
        meta = sync_store.read_meta(self.cache)
        assert meta is not None
        cursor = meta.cursor or self._snapshot(report)
        pending = sync_store.pending_summary(self.cache)
        while True:
            try:
                page = self.api.changes(cursor, PULL_LIMIT, pending=pending)
            except ResetRequired:
                report.notes.append("the server ordered a new snapshot; pending items were kept")
                cursor = self._snapshot(report)
                continue
            self._apply(page["changes"], page["next_cursor"])
            _note_touched(page["changes"], report)
            report.pulled += len(page["changes"])
            if self.progress and page["changes"]:
                self.progress(report.pulled)
            report.revoked += sum(1 for c in page["changes"] if c["op"] == "revoke")
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return

    def _apply(self, changes: list[dict[str, Any]], cursor: str | None) -> None:
        self._write(self._plan(changes), cursor)

    @staticmethod
    def _plan(changes: list[dict[str, Any]]) -> list[sync_store.Step]:
        try:
            return sync_store.plan_page(changes)
        except (KeyError, TypeError, ValueError) as exc:
            raise SyncError(f"the server sent a record this version cannot read ({exc}); update cobro-tui") from None

    def _write(self, steps: list[sync_store.Step], cursor: str | None) -> None:
        sync_store.write_page(self.cache, steps, cursor)

    def _fetch_snapshot_page(self, token: str | None) -> sync_store.SnapshotPage:
        # Runs in the fetch thread; SQLite parses the page and lets the writing thread run meanwhile.
        text = self.api.snapshot_text(token, SNAPSHOT_LIMIT)
        try:
            return sync_store.decode_snapshot_page(self.cache, text)
        except sync_store.PageUnreadable as exc:
            raise Unreachable(str(exc)) from None

    def _write_snapshot_page(self, page: sync_store.SnapshotPage) -> sync_store.SnapshotWritten:
        try:
            return sync_store.write_snapshot_page(self.cache, page)
        except sync_store.PageUnreadable as exc:
            raise SyncError(f"{exc}; update cobro-tui or tell support") from None

    def _snapshot(self, report: SyncReport) -> str:
        """Take the whole visible portfolio; returns the cursor the feed continues from.

        Pages are fetched and parsed ahead while earlier ones are written, so the server's work and
        the cache's overlap; a snapshot cut short leaves no cursor and starts again next round.
        """
        seen: set[str] = set()
        first = sync_store.drop_indexes_if_empty(self.cache)
        try:
            with closing(self._pages_ahead()) as pages:
                for page in pages:
                    written = self._write_snapshot_page(page)
                    seen.update(written.accounts)
                    report.snapshot_entities += written.entities
                    if self.progress:
                        self.progress(report.snapshot_entities)
        finally:
            if first:
                sync_store.ensure_indexes(self.cache)
        report.revoked += sync_store.finish_snapshot(self.cache, seen, page.cursor)
        return page.cursor

    def _pages_ahead(self) -> Generator[sync_store.SnapshotPage, None, None]:
        """The snapshot's pages in order, fetched by a thread that keeps up to PAGES_AHEAD waiting
        (the server's pages are not all equally quick to make, nor the cache's to write)."""
        waiting: queue.Queue[sync_store.SnapshotPage | BaseException] = queue.Queue(maxsize=PAGES_AHEAD)
        stop = threading.Event()

        def hand_over(item: sync_store.SnapshotPage | BaseException) -> None:
            while not stop.is_set():
                try:
                    waiting.put(item, timeout=0.1)
                    return
                except queue.Full:
                    continue

        def fetch_all() -> None:
            token: str | None = None
            try:
                while not stop.is_set():
                    page = self._fetch_snapshot_page(token)
                    hand_over(page)
                    if page.next_page is None:
                        return
                    token = page.next_page
            except BaseException as exc:  # handed to the writing thread, which raises it
                hand_over(exc)

        fetcher = threading.Thread(target=fetch_all, name="snapshot-fetch", daemon=True)
        fetcher.start()
        try:
            while True:
                item = waiting.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
                if item.next_page is None:
                    return
        finally:
            stop.set()
            fetcher.join()
