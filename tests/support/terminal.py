"""A program in a real pseudo-terminal, read through a terminal emulator (pyte) as a person sees it."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time
from collections.abc import Callable, Mapping, Sequence

import pyte


def _take_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class TerminalSession:
    def __init__(self, argv: Sequence[str], env: Mapping[str, str], columns: int = 120, lines: int = 40) -> None:
        self.screen = pyte.Screen(columns, lines)
        self.stream = pyte.ByteStream(self.screen)
        self.transcript = bytearray()
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        # Its own session with the pty as controlling terminal, as a login or SSH session gives: when
        # the master side closes (this process ends, even by a crash) the program gets SIGHUP.
        self.process = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**env, "TERM": "xterm-256color"},
            close_fds=True,
            start_new_session=True,
            preexec_fn=_take_terminal,
        )
        os.close(slave)

    def text(self) -> str:
        """What the screen shows now, line by line."""
        return "\n".join(line.rstrip() for line in self.screen.display)

    def pump(self, seconds: float) -> None:
        """Read whatever the program writes for up to `seconds` (a full pty would block it)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not select.select([self.master], [], [], min(0.05, max(0.0, deadline - time.monotonic())))[0]:
                if self.process.poll() is not None:
                    return
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.transcript.extend(chunk)
            self.stream.feed(chunk)

    def wait_for(self, text: str, timeout: float) -> bool:
        """Whether `text` appears on the screen within `timeout` seconds."""
        return self._wait(lambda: text in self.text(), timeout)

    def wait_for_output(self, text: str, timeout: float) -> bool:
        """Whether the program writes `text` within `timeout` seconds, even if the screen moves on."""
        return self._wait(lambda: text in self.transcript.decode(errors="replace"), timeout)

    def _wait(self, seen: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump(0.1)
            if seen():
                return True
            if self.process.poll() is not None:
                self.pump(0.2)
                return seen()
        return False

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def wait_exit(self, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self.pump(0.1)
        return self.process.poll()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)
