"""A small OpenAI-compatible server on 127.0.0.1 for the fast suite: scripted replies streamed as
server-sent events with the first token's logprobs, and each failure a real server can have."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

OK, STATUS, HTML, SLOW, EMPTY, CUT = "ok", "status", "html", "slow", "empty", "cut"


class FakeServer:
    """`script(user message) -> reply`; `mode` picks a failure (STATUS with `status`, HTML, SLOW
    by `delay`, EMPTY: 200 with no completion, CUT: a reply ended before its finish); `strict` refuses fields OpenAI's API lacks (top_k)."""

    def __init__(self, script: Callable[[str], str], models: tuple[str, ...] = ("fake",), port: int = 0) -> None:
        self.script, self.models = script, list(models)
        self.mode, self.status, self.delay, self.strict = OK, 500, 0.0, False
        self.requests: list[dict[str, Any]] = []
        self.active = self.most_active = 0  # completions being answered at once
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def reply(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        self.requests.append(body)
        if self.mode == SLOW:
            time.sleep(self.delay)
        if self.mode == STATUS:
            return _send(handler, self.status, "application/json", json.dumps({"error": {"message": "the model crashed"}}))
        if self.mode == HTML:
            return _send(handler, 200, "text/html", "<html><body>Welcome to nginx!</body></html>")
        if self.strict and "top_k" in body:
            return _send(handler, 400, "application/json", json.dumps({"error": {"message": "Unrecognized request argument: top_k"}}))
        user = body["messages"][-1]["content"]
        with self._lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            self._stream(handler, "" if self.mode == EMPTY else self.script(user), body)
        finally:
            with self._lock:
                self.active -= 1

    def _stream(self, handler: BaseHTTPRequestHandler, text: str, body: dict[str, Any]) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()

        def event(data: str) -> None:
            handler.wfile.write(f"data: {data}\n\n".encode())
            handler.wfile.flush()

        if self.mode == EMPTY:
            event("[DONE]")
            return
        event(json.dumps(_chunk({"role": "assistant"})))
        for i in range(0, len(text), 4):
            piece = _chunk({"content": text[i : i + 4]})
            if i == 0 and body.get("logprobs"):
                # The model's first token: "NOT" of "NOT_FOUND", else the reply's first four letters.
                p_not = 0.99 if text.startswith("NOT") else 0.001
                first = "NOT" if text.startswith("NOT") else text[:4]
                top = [{"token": "NOT", "logprob": math.log(p_not)}, {"token": "N", "logprob": math.log(0.005)}]
                if first != "NOT":
                    top.append({"token": first, "logprob": math.log(1 - p_not - 0.005)})
                piece["choices"][0]["logprobs"] = {"content": [{"token": first, "logprob": 0.0, "top_logprobs": top}]}
            event(json.dumps(piece))
            time.sleep(self.delay if self.mode == OK else 0.0)
        if self.mode != CUT:
            event(json.dumps(_chunk({}, "stop")))
        event("[DONE]")


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "fake",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def _send(handler: BaseHTTPRequestHandler, status: int, kind: str, text: str) -> None:
    data = text.encode()
    handler.send_response(status)
    handler.send_header("Content-Type", kind)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def _handler(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet test output
            pass

        def do_GET(self) -> None:
            if self.path.rstrip("/") != "/v1/models":
                return _send(self, 404, "application/json", json.dumps({"error": {"message": "not found"}}))
            data = [{"id": m, "object": "model", "owned_by": "me"} for m in server.models]
            _send(self, 200, "application/json", json.dumps({"object": "list", "data": data}))

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            if self.path.rstrip("/") != "/v1/chat/completions":
                return _send(self, 404, "application/json", json.dumps({"error": {"message": "not found"}}))
            server.reply(self, body)

    return Handler
