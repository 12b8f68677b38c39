"""The encoder's model in a process of its own (``ProcessEncoder``).

Why: the model is the one cost a build cannot avoid, and on a small machine it wants
every core; whatever else runs in its process slows it by more than its own time. The
bundled use-m spends part of each call in Python (its tokenizer, the glue between its
matrix products), so it needs the GIL between BLAS calls, and any other Python thread
of the driver (the writer, the embedding plan, the cache) holds it just then. Measured
on 2 cores, the bundled use-m embedding the 40-pair distinct-text archive's 3,042 texts
in the build's 6 calls: 5.1 s alone; 6.9-7.2 s with a Python thread of the same process
busy 30% of the time (1.8 s of CPU), so it lost more than that thread's time; 5.9 s with
the same load in another process (5.5 s when that process runs 10 nice levels lower, as
the pool's workers do). So the local pool engine keeps the model here, in a fresh
interpreter that does nothing else (``pipeline.runner.pool``).

The protocol is one request at a time over a socket pair: the child sends
``("ready", name, dim, fingerprint)`` once the model is loaded (or ``("error",
reason)``), then answers ``("encode", texts)`` with ``("ok", vectors)`` and ``("parts",
texts)`` with ``("part", rows)`` for each block as it is made and ``("done",)`` (or
``("error", reason)`` in either case). The vectors are the model's own for the same
call, bit for bit: the child runs the same backend (``pipeline.embed.load_encoder``) on
the same texts in the same calls.
The child ends when its connection closes, which is also what happens when the build
dies, however it dies: the driver holds the only other end.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.embed.base import EncoderError, encode_blocks


class ProcessEncoder:
    """An ``Encoder`` whose model runs in a child process (module docstring). The
    constructor starts the child and waits for its model to load; a model that cannot
    load raises ``EncoderError`` here with the child's reason."""

    def __init__(self, spec: str, *, batch_size: int = 64, device: str | None = None) -> None:
        self.spec = spec
        ours, theirs = socket.socketpair()
        # The child imports this package from where the driver did, installed or not.
        root = str(Path(__file__).resolve().parents[2])
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "pipeline.embed.process", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # the driver's stdout is the user's; errors: stderr
                env=env,
            )
        except OSError as error:
            ours.close()
            raise EncoderError(spec, f"cannot start the model's process: {error}") from error
        finally:
            theirs.close()
        self._conn = Connection(ours.detach())
        self._lock = threading.Lock()
        _, self.name, self.dim, fingerprint = self._call((spec, batch_size, device))
        if fingerprint is not None:
            self.fingerprint = fingerprint

    @property
    def pid(self) -> int:
        return self._process.pid

    def _call(self, message: Any) -> tuple[Any, ...]:
        with self._lock:
            self._send(message)
            reply = self._recv()
        if reply[0] == "error":
            raise EncoderError(self.spec, reply[1])
        return reply

    def _send(self, message: Any) -> None:
        try:
            self._conn.send(message)
        except OSError as error:
            raise self._ended(error) from error

    def _recv(self) -> tuple[Any, ...]:
        try:
            return self._conn.recv()
        except (EOFError, OSError) as error:
            raise self._ended(error) from error

    def _ended(self, error: BaseException) -> EncoderError:
        code = self._process.poll()
        if code is None:
            self._process.kill()
            code = self._process.wait()
        return EncoderError(self.spec, f"the model's process ended (exit code {code}): {error!r}")

    def encode(self, texts: list[str]) -> np.ndarray:
        return self._call(("encode", texts))[1]

    def encode_parts(self, texts: list[str]) -> Iterator[np.ndarray]:
        """The child's ``encode_parts`` (the rows of ``encode(texts)`` in blocks, each as
        soon as the child has it; one block for a model without it)."""
        with self._lock:
            self._send(("parts", texts))
            done = False
            try:
                while True:
                    reply = self._recv()
                    if reply[0] == "done":
                        done = True
                        return
                    if reply[0] == "error":
                        done = True
                        raise EncoderError(self.spec, reply[1])
                    yield reply[1]
            finally:
                while not done:  # a caller that stopped early: the rest is read and dropped
                    done = self._recv()[0] in ("done", "error")

    def close(self) -> None:
        """Close the connection; the child ends when it sees that. Idempotent."""
        if self._conn.closed:
            return
        self._conn.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def _serve(conn: Connection) -> None:
    """The child: load the model the first message names, then encode until EOF."""
    from pipeline.embed import load_encoder

    try:
        spec, batch_size, device = conn.recv()
    except EOFError:
        return
    try:
        encoder = load_encoder(spec, batch_size=batch_size, device=device)
    except EncoderError as error:
        conn.send(("error", error.reason))
        return
    except Exception as error:  # noqa: BLE001 - any load failure goes back, named
        conn.send(("error", f"{type(error).__name__}: {error}"))
        return
    conn.send(("ready", encoder.name, encoder.dim, getattr(encoder, "fingerprint", None)))
    while True:
        try:
            kind, texts = conn.recv()
        except EOFError:
            return
        try:
            if kind == "parts":
                for block in encode_blocks(encoder, texts):
                    conn.send(("part", block))
                conn.send(("done",))
            else:
                conn.send(("ok", encoder.encode(texts)))
        except OSError:  # the build is gone
            return
        except Exception as error:  # noqa: BLE001 - the caller raises it as EncoderError
            reason = error.reason if isinstance(error, EncoderError) else f"{error!r}"
            conn.send(("error", reason))


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])))
    os._exit(0)
