"""A GGUF served on 127.0.0.1 by llama-cpp-python's OpenAI-compatible server (its `[server]` extra),
or by llama.cpp's own `llama-server` when one is given: started, waited for, and stopped, for the
tests and `docqa bench serve`."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Self

from docqa.config import UserError

ALIAS = "docqa-local"  # the model's name on the server


class LocalServer:
    """`with LocalServer(path) as server:` serves the model at `server.url` until the block ends.
    `binary` is a llama.cpp `llama-server` (which answers `slots` requests at once by batching);
    without one, llama-cpp-python's server answers one request at a time."""

    def __init__(self, model: Path, threads: int, n_ctx: int = 4096, slots: int = 1, binary: str = "") -> None:
        self.model, self.threads, self.n_ctx, self.slots, self.binary = model, threads, n_ctx, slots, binary
        self.alias = ALIAS
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = Path(os.environ.get("TMPDIR", "/tmp")) / f"docqa-llm-server-{self.port}.log"

    def command(self) -> list[str]:
        if self.binary:
            # Each slot gets n_ctx of its own: llama-server divides the context it is given among them.
            return [self.binary, "-m", str(self.model), "--host", "127.0.0.1", "--port", str(self.port),
                    "-c", str(self.n_ctx * self.slots), "-np", str(self.slots), "-t", str(self.threads),
                    "--alias", ALIAS, "--cont-batching"]
        # A new request would otherwise end the reply streaming before it (the server's default).
        return [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model), "--host", "127.0.0.1",
                "--port", str(self.port), "--n_ctx", str(self.n_ctx), "--n_threads", str(self.threads),
                "--n_threads_batch", str(self.threads), "--model_alias", ALIAS, "--interrupt_requests", "False"]

    def __enter__(self) -> Self:
        if self.binary and shutil.which(self.binary) is None and not Path(self.binary).is_file():
            raise UserError(f"llama-server binary '{self.binary}' not found; give its path, or leave it out for llama-cpp-python's server")
        with self._log.open("wb") as log:
            self._proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)
        self._wait()
        return self

    def _wait(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                tail = self._log.read_text("utf-8", "replace")[-400:]
                raise UserError(f"the model server exited at start ({' '.join(tail.split())}); see {self._log}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        self.__exit__()
        raise UserError(f"the model server did not start within {timeout:g} s; see {self._log}")

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
