"""`docqa bench serve`: several sessions asking at once, the model in process against the same model
behind a server, in one run: time to the first token (queueing included) and answers a minute."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from docqa.answer import Final, Token
from docqa.config import Settings
from docqa.interfaces import Services
from docqa.models import LocalServer, chosen_path

Log = Callable[[str], None]


@dataclass
class Level:
    """What one number of sessions measured."""

    sessions: int
    ttft: list[float] = field(default_factory=list)
    alone: list[float] = field(default_factory=list)  # first token to the end: the model's own time, no queue
    failures: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    def report(self) -> dict[str, object]:
        done = len(self.ttft)
        return {"sessions": self.sessions, "answers": done, "failed": len(self.failures),
                "ttft_p50_s": _pct(self.ttft, 50), "ttft_p95_s": _pct(self.ttft, 95),
                "after_first_token_p50_s": _pct(self.alone, 50),
                "answers_per_min": round(done / self.wall_s * 60, 2) if self.wall_s else None,
                "errors": sorted(set(self.failures))[:3]}


def run_serve_bench(settings: Settings, questions: Sequence[str], sessions: Sequence[int], per_session: int,
                    slots: int, log: Log, binary: str = "", url: str = "") -> dict[str, object]:
    """Each level: `n` sessions, each asking `per_session` questions one after another (distinct
    questions across the run, so no level replays another's prompts from a cache); first the model
    in process (sessions take turns), then the server (up to `slots` at once)."""
    local = Services(settings)
    log("loading the embedder and the in-process model ...")
    local.warm()
    result: dict[str, object] = {"questions": len(questions), "per_session": per_session, "slots": slots}
    result["in_process"] = _levels(local, questions, sessions, per_session, log, "in process")
    del local  # the in-process model's memory back before the server loads its own copy
    if url:
        served = Services(settings.with_overrides(llm_url=url, llm_slots=slots))
        result["server"] = {"url": url, "levels": _levels(served, questions, sessions, per_session, log, "server")}
    else:
        log(f"starting {'llama-server' if binary else 'llama-cpp-python'}'s server with {slots} slot(s) ...")
        with LocalServer(chosen_path(settings), settings.threads, slots=slots if binary else 1, binary=binary) as server:
            served = Services(settings.with_overrides(llm_url=server.url, llm_model=server.alias, llm_slots=slots))
            served.warm()
            result["server"] = {"engine": binary or "llama-cpp-python server (one request at a time)",
                                "levels": _levels(served, questions, sessions, per_session, log, "server")}
    inproc = {lv["sessions"]: lv for lv in result["in_process"]}  # type: ignore[attr-defined]
    result["speedup_answers_per_min"] = {
        lv["sessions"]: round(lv["answers_per_min"] / inproc[lv["sessions"]]["answers_per_min"], 2)
        for lv in result["server"]["levels"]  # type: ignore[index]
        if lv["answers_per_min"] and inproc[lv["sessions"]]["answers_per_min"]
    }
    return result


def _levels(services: Services, questions: Sequence[str], sessions: Sequence[int], per_session: int, log: Log,
            label: str) -> list[dict[str, object]]:
    out = []
    start = 0
    for n in sessions:
        need = n * per_session
        asked = [questions[(start + i) % len(questions)] for i in range(need)]
        start += need
        level = _level(services, n, [asked[i::n] for i in range(n)])
        log(f"{label}, {n} session(s): {level.report()}")
        out.append(level.report())
    return out


def _level(services: Services, n: int, plans: list[list[str]]) -> Level:
    level = Level(n)
    lock = threading.Lock()

    def session(plan: list[str]) -> None:
        for question in plan:
            t0 = time.perf_counter()
            first = None
            try:
                for event in services.stream(question):
                    if first is None and isinstance(event, (Token, Final)):
                        first = time.perf_counter() - t0
            except Exception as err:  # noqa: BLE001 - a failed answer is counted, and the run goes on
                with lock:
                    level.failures.append(str(err)[:200])
                continue
            total = time.perf_counter() - t0
            with lock:
                level.ttft.append(first if first is not None else total)
                level.alone.append(total - (first if first is not None else total))

    threads = [threading.Thread(target=session, args=(plan,)) for plan in plans]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    level.wall_s = time.perf_counter() - t0
    return level


def _pct(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 2)


def bench_questions(files: Sequence[Path]) -> list[str]:
    """The questions of question files (../shared/eval schema), each once, in order."""
    import json

    seen: dict[str, None] = {}
    for path in files:
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                seen.setdefault(json.loads(line)["question"], None)
    return list(seen)
