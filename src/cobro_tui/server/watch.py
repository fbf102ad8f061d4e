"""Waking the pulls that wait (long-poll) when their agent's changes arrive, from any process.

A push may be committed by another worker (or another server on the same database), so the
change feed itself is watched: while any pull of this process waits, one task reads the feed's head
every `every` seconds and, when it moved, which agents the new changes are for, and wakes the pulls
of those agents only. One small query per tick per process, whatever the number of pulls waiting.
"""

from __future__ import annotations

import asyncio
import threading

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine, select

from cobro_tui.server.feed import head_seq
from cobro_tui.server.schema import change_log


class FeedWatch:
    def __init__(self, engine: Engine, every: float = 0.1) -> None:
        self.engine = engine
        self.every = every
        self.draining = threading.Event()  # set when the server is shutting down: every pull answers now
        self._waiting: dict[str, set[asyncio.Event]] = {}
        self._task: asyncio.Task[None] | None = None
        self._head: int | None = None

    async def wait(self, agent: str, seen: int, timeout: float) -> bool:
        """Until changes for `agent` after seq `seen` (the head its pull last read) may have arrived
        (True: read again), or `timeout` seconds passed or the server is shutting down (False)."""
        if self.draining.is_set() or timeout <= 0:
            return False
        if self._head is not None and self._head > seen:
            return True  # the watch has already looked past what this pull read
        woken = asyncio.Event()
        self._waiting.setdefault(agent, set()).add(woken)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._watch())
        try:
            await asyncio.wait_for(woken.wait(), timeout)
            return not self.draining.is_set()
        except TimeoutError:
            return False
        finally:
            events = self._waiting.get(agent)
            if events is not None:
                events.discard(woken)
                if not events:
                    del self._waiting[agent]

    def _look(self, after: int | None) -> tuple[int, set[str] | None]:
        """The feed's head, and the agents with changes after `after` up to it (None: every agent)."""
        with self.engine.connect() as conn:
            head = head_seq(conn)
            if after is None:
                return head, None
            if head <= after:
                return head, set()
            query = select(change_log.c.audience).where(change_log.c.seq > after, change_log.c.seq <= head)
            return head, set(conn.execute(query.distinct()).scalars())

    async def _watch(self) -> None:
        try:
            while self._waiting:
                if self.draining.is_set():
                    self._wake(set(self._waiting))
                    return
                # The first look wakes every pull waiting (each reads again from where it was);
                # later looks wake the agents with changes between two looks.
                self._head, moved = await run_in_threadpool(self._look, self._head)
                self._wake(set(self._waiting) if moved is None else moved)
                await asyncio.sleep(self.every)
        finally:
            self._head = None  # the next watch starts with a first look

    def _wake(self, agents: set[str]) -> None:
        for agent in agents:
            for woken in self._waiting.get(agent, ()):
                woken.set()
