"""`docqa bench answer`: docqa against a raw llama-cpp-python call on the identical final prompt,
alternating in one process, and a cold `docqa ask` from a fresh process."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from docqa.answer import MAX_ANSWER_TOKENS, Final, Token
from docqa.interfaces import Services
from docqa.measure.baseline import plain_answer
from docqa.measure.evaluate import Question, answer_matches
from docqa.models import Completion, LlamaCppLLM, raw_stream
from docqa.search import Retriever

Log = Callable[[str], None]
NAIVE_CHUNKS = 5


class _Recorder:
    """The LLM seam, passing calls through and keeping the first prompt of each answer."""

    def __init__(self, llm: LlamaCppLLM) -> None:
        self.llm, self.id, self.calls = llm, llm.id, []  # type: list[tuple[str, str]]

    def complete(self, system: str, user: str, max_tokens: int, watch: str = "",
                 earlier: Sequence[tuple[str, str]] = ()) -> Completion:
        self.calls.append((system, user))
        return self.llm.complete(system, user, max_tokens, watch, earlier)


def _timed(pieces: Iterator[Any], first: Callable[[Any], bool]) -> tuple[float, float, int]:
    """(time to first token, total time, pieces) of a stream; `first` says which item counts."""
    t0, ttft, n = time.perf_counter(), None, 0
    for item in pieces:
        if ttft is None and first(item):
            ttft = time.perf_counter() - t0
        n += 1
    total = time.perf_counter() - t0
    return (ttft if ttft is not None else total), total, n


def answer_rows(services: Services, questions: list[Question], log: Log) -> list[dict[str, Any]]:
    llm = services.llm()
    assert isinstance(llm, LlamaCppLLM), "bench answer measures the llama.cpp model"
    recorder = _Recorder(llm)
    asker = services.asker(llm=recorder)
    system = asker.system
    rows = []
    cache = services.settings.models_dir / "cache"
    for i, q in enumerate(questions):
        recorder.calls.clear()
        events: list[Any] = []
        # Each timed call starts from the cached system prefix alone, so neither reuses the other's prompt.
        llm.warm(system, cache)
        ttft, total, _ = _timed(_collect(asker.stream(q.question), events), lambda e: isinstance(e, Token))
        answer = next(e.answer for e in events if isinstance(e, Final))
        row: dict[str, Any] = {"id": q.id, "docqa_ttft_s": round(ttft, 3), "docqa_total_s": round(total, 3),
                               "retrieve_s": round(answer.timings.get("retrieve_ms", 0) / 1000, 3),
                               "prompt_tokens": answer.timings.get("prompt_tokens", 0), "llm_calls": len(recorder.calls),
                               "right": bool(q.answerable and not answer.abstained and answer_matches(answer.text, q.answers))}
        if recorder.calls:
            drafted_under, user = recorder.calls[0]
            llm.warm(system, cache)
            rt, rtotal, n = _timed(raw_stream(llm, drafted_under, user, MAX_ANSWER_TOKENS), lambda _: True)
            row.update(raw_ttft_s=round(rt, 3), raw_total_s=round(rtotal, 3), raw_tokens_per_s=round(n / max(rtotal - rt, 1e-6), 2))
        llm.warm(system, cache)
        row.update(_naive(services, llm, q))
        log(f"{i + 1}/{len(questions)} {json.dumps(row)}")
        rows.append(row)
    return rows


def _collect(events: Iterator[Any], into: list[Any]) -> Iterator[Any]:
    for e in events:
        into.append(e)
        yield e


def _naive(services: Services, llm: LlamaCppLLM, q: Question) -> dict[str, Any]:
    """The naive "top-5 chunks in a plain prompt" pipeline on the same question: size and accuracy."""
    top = [c for c, _ in Retriever(services.reader(), services.embedder()).rank_chunks(q.question, NAIVE_CHUNKS)]
    passages = services.reader().store.chunk_texts(top)
    t0 = time.perf_counter()
    reply, _ = plain_answer(llm, q.question, passages)
    tokens = len(llm._tokens("\n\n".join(passages) + q.question))
    return {"naive_prompt_tokens": tokens, "naive_total_s": round(time.perf_counter() - t0, 3),
            "naive_right": bool(q.answerable and answer_matches(reply, q.answers))}


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    with_raw = [r for r in rows if "raw_ttft_s" in r]
    mean = lambda key, rs=rows: round(statistics.fmean(r[key] for r in rs), 3) if rs else None
    out = {"n": len(rows), "docqa_ttft_s": mean("docqa_ttft_s"), "docqa_total_s": mean("docqa_total_s"),
           "retrieve_s": mean("retrieve_s"), "prompt_tokens": mean("prompt_tokens"), "naive_prompt_tokens": mean("naive_prompt_tokens"),
           "accuracy": round(sum(r["right"] for r in rows) / len(rows), 3) if rows else None,
           "naive_accuracy": round(sum(r["naive_right"] for r in rows) / len(rows), 3) if rows else None}
    if with_raw:
        out.update(raw_ttft_s=mean("raw_ttft_s", with_raw), raw_total_s=mean("raw_total_s", with_raw),
                   raw_tokens_per_s=mean("raw_tokens_per_s", with_raw),
                   # docqa's model time (its TTFT less retrieval) against the raw call's, per question
                   ttft_ratio=round(statistics.fmean((r["docqa_ttft_s"] - r["retrieve_s"]) / r["raw_ttft_s"] for r in with_raw), 3),
                   total_ratio=round(statistics.fmean(r["docqa_total_s"] / r["raw_total_s"] for r in with_raw), 3))
    return out


def session_rows(services: Services, questions: list[Question], log: Log) -> list[dict[str, Any]]:
    """The questions asked one after another in one warm process, as a user of the app asks them:
    nothing reset between them, so a document read whole stays evaluated for the next question."""
    asker, rows = services.asker(), []
    for i, q in enumerate(questions):
        answer = asker.ask(q.question)
        row = {"id": q.id, "ttft_s": answer.timings.get("ttft_s", 0.0), "total_s": answer.timings.get("total_s", 0.0),
               "document_reused": answer.timings.get("document_reused")}
        log(f"session {i + 1}/{len(questions)} {json.dumps(row)}")
        rows.append(row)
    return rows


def session_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Time to the first token over the questions that reached the model (one stopped before it
    answers at once), and apart for those whose document was already evaluated (the second question
    on it and later) and those that read it first."""
    rows = [r for r in rows if r["ttft_s"] > 0]
    def stats(rs: list[dict[str, Any]]) -> dict[str, Any]:
        times = sorted(r["ttft_s"] for r in rs)
        if not times:
            return {"n": 0}
        return {"n": len(times), "median": round(statistics.median(times), 3),
                "p95": round(times[min(len(times) - 1, int(0.95 * len(times)))], 3)}
    return {"all": stats(rows), "document_reused": stats([r for r in rows if r["document_reused"] == 1.0]),
            "document_first": stats([r for r in rows if r["document_reused"] == 0.0])}


def cold_ask(question: str, runs: int, log: Log) -> dict[str, Any]:
    """`docqa ask` in fresh processes: the first run may save the prefix state, the rest load it."""
    times = []
    for i in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "docqa", "ask", question], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdout is not None
        first = None
        while proc.stdout.read(1):
            first = first if first is not None else time.perf_counter() - t0
        proc.wait()
        times.append({"run": i + 1, "first_output_s": round(first or 0.0, 2), "total_s": round(time.perf_counter() - t0, 2)})
        log(json.dumps(times[-1]))
    return {"question": question, "runs": times}
