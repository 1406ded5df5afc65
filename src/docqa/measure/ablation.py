"""What each guard is worth to the verified grade: replays with one guard off, the drafts' ceiling, the filter's quality, and calibration."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from docqa.answer import NAMES, Policy
from docqa.interfaces import Services
from docqa.measure.evalrun import Progress, run_eval
from docqa.measure.evaluate import Question
from docqa.models import LLM, Completion, Embedder
from docqa.types import VERIFIED

Row = dict[str, object]
_Key = tuple[str, str, int, str, tuple[tuple[str, str], ...]]


SAVE_EVERY = 10


class MemoLLM:
    """Runs each distinct call once and replays it after: a replay with a guard off costs only the
    calls that guard's absence adds (the model is greedy, so a replayed reply is the same reply)."""

    def __init__(self, llm: LLM, path: Path | None = None) -> None:
        """With `path`, replies recorded by earlier runs (of the same model) are replayed too."""
        self._llm = llm
        self.id = llm.id
        self._path = path
        self._memo: dict[_Key, tuple[list[str], int, float]] = {}
        self.calls = 0  # calls that reached the model
        if path is not None and path.is_file():
            for line in path.read_text("utf-8").splitlines():
                key, value = json.loads(line)
                self._memo[(key[0], key[1], key[2], key[3], tuple(tuple(t) for t in key[4]))] = (value[0], value[1], value[2])

    def save(self) -> None:
        if self._path is None:
            return
        lines = [json.dumps([list(k[:4]) + [list(k[4])], list(v)], ensure_ascii=False) for k, v in self._memo.items()]
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text("".join(line + "\n" for line in lines), "utf-8")
        tmp.replace(self._path)

    def complete(
        self, system: str, user: str, max_tokens: int, watch: str = "", earlier: Sequence[tuple[str, str]] = ()
    ) -> Completion:
        key = (system, user, max_tokens, watch, tuple(earlier))
        if key in self._memo:
            return Completion(lambda c: self._replay(c, key))
        return Completion(lambda c: self._record(c, key, system, user, max_tokens, watch, earlier))

    def _replay(self, c: Completion, key: _Key) -> Iterator[str]:
        pieces, c.prompt_tokens, c.watch_prob = self._memo[key]
        yield from pieces

    def _record(
        self, c: Completion, key: _Key, system: str, user: str, max_tokens: int, watch: str, earlier: Sequence[tuple[str, str]]
    ) -> Iterator[str]:
        self.calls += 1
        pieces: list[str] = []
        with self._llm.complete(system, user, max_tokens, watch, earlier) as inner:
            for piece in inner:
                c.prompt_tokens, c.watch_prob = inner.prompt_tokens, inner.watch_prob
                pieces.append(piece)
                yield piece
            c.prompt_tokens, c.watch_prob = inner.prompt_tokens, inner.watch_prob
        self._memo[key] = (pieces, c.prompt_tokens, c.watch_prob)  # only a reply that ran to its end
        if self.calls % SAVE_EVERY == 0:
            self.save()  # a long run that is stopped keeps most of what it paid for


class MemoEmbedder:
    """Embeds each distinct query text once: replays retrieve and verify the same texts again."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self.id, self.dim = embedder.id, embedder.dim
        self._queries: dict[str, np.ndarray] = {}

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embedder.embed_passages(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._queries]
        if missing:
            self._queries.update(zip(missing, self._embedder.embed_queries(missing)))
        if not texts:
            return self._embedder.embed_queries([])
        return np.stack([self._queries[t] for t in texts])


@dataclass(frozen=True)
class Outcome:
    """A question as the grade badge serves it: what is not graded verified counts as withheld."""

    right: bool  # answerable, answered with a gold answer and graded verified
    abstained: bool  # not graded verified: not found, or shown as unverified
    answerable: bool

    @property
    def wrong(self) -> bool:
        """A wrong answer, or an answer to an unanswerable question."""
        return not self.abstained and not self.right


def outcomes(rows: Sequence[Row]) -> dict[str, Outcome]:
    return {str(r["id"]): _outcome(r) for r in rows}


def _outcome(r: Row) -> Outcome:
    verified = r.get("grade", "" if r["abstained"] else VERIFIED) == VERIFIED
    return Outcome(bool(r.get("correct")) and verified, not verified, bool(r["answerable"]))


def utility(rows: dict[str, Outcome]) -> int:
    """Right answers and right abstentions count +1, wrong answers −1, a withheld answer 0."""
    right = sum(o.right or (o.abstained and not o.answerable) for o in rows.values())
    return right - sum(o.wrong for o in rows.values())


def guard_effect(on: dict[str, Outcome], off: dict[str, Outcome]) -> dict[str, object]:
    """What the guard does: `on` has it acting, `off` has it switched off; otherwise equal."""
    ids = on.keys() & off.keys()
    ans = [i for i in ids if on[i].answerable]
    una = [i for i in ids if not on[i].answerable]
    n_ans, n_una = max(1, len(ans)), max(1, len(una))
    return {
        "right_gained": sum(on[i].right and not off[i].right for i in ans),
        "right_lost": sum(off[i].right and not on[i].right for i in ans),
        "wrong_withdrawn": sum(not off[i].right and not off[i].abstained and on[i].abstained for i in ans),
        "unanswerables_caught": sum(not off[i].abstained and on[i].abstained for i in una),
        "unanswerables_let_through": sum(off[i].abstained and not on[i].abstained for i in una),
        "accuracy_change": round((sum(on[i].right for i in ans) - sum(off[i].right for i in ans)) / n_ans, 3),
        "false_abstention_change": round((sum(on[i].abstained for i in ans) - sum(off[i].abstained for i in ans)) / n_ans, 3),
        "abstention_change": round((sum(on[i].abstained for i in una) - sum(off[i].abstained for i in una)) / n_una, 3),
        "utility_change": utility({i: on[i] for i in ids}) - utility({i: off[i] for i in ids}),
    }


def filter_quality(full: Sequence[Row], bare: Sequence[Row]) -> dict[str, object]:
    """The drafts' ceiling and how well the guards sort them. `bare` is the run with every guard
    off, where every question reaches the model; `full` the run with all of them on."""
    final = outcomes(full)
    ans = [r for r in bare if r["answerable"]]
    right = [r for r in ans if r.get("draft_correct")]
    # A wrong draft: a draft without a gold answer, or an answer to an unanswerable question.
    wrong = [r for r in bare if not r.get("draft_correct") and not (not r["answerable"] and r["abstained"])]
    kept = sum(final[str(r["id"])].right for r in right)
    withdrawn = sum(final[str(r["id"])].abstained for r in wrong)
    return {
        "draft_ceiling": round(len(right) / len(ans), 3) if ans else None,
        "right_drafts_kept": round(kept / len(right), 3) if right else None,
        "wrong_drafts_withdrawn": round(withdrawn / len(wrong), 3) if wrong else None,
    }


def ablate(
    services: Services, questions: list[Question], progress: Callable[[str], Progress],
    details: list[Row] | None = None, guards: Sequence[str] = NAMES, memo_path: Path | None = None,
    policy: Policy | None = None,
) -> dict[str, object]:
    """The whole run, then one replay per guard toggled (switched off, or on if it is off by default),
    then one with all of them off. `details` receives the whole run's rows, each with what the run
    with each guard toggled did."""
    memo = MemoLLM(services.llm(), memo_path)
    policy = policy or services.policy()
    services = services.with_embedder(MemoEmbedder(services.embedder()))

    def run(off: frozenset[str], label: str) -> tuple[dict[str, object], list[Row]]:
        rows: list[Row] = []
        asker = services.asker(Policy(off, policy.not_found_prob), llm=memo)
        return run_eval(services, questions, False, progress(label), rows, asker), rows

    report, full = run(policy.off, "all guards")
    table = {}
    for name in guards:
        if name == "not_found" and policy.not_found_prob is None:
            continue  # an uncalibrated model has no bar to switch on
        if policy.on(name):
            _, rows = run(policy.off | {name}, f"without {name}")
            table[name] = {"default": "on", **guard_effect(outcomes(full), outcomes(rows))}
        else:  # off by default: what switching it on would do
            _, rows = run(policy.off - {name}, f"with {name}")
            table[name] = {"default": "off", **guard_effect(outcomes(rows), outcomes(full))}
        for row, other in zip(full, rows):
            row.setdefault("toggled", {})[name] = {"abstained": other["abstained"], "correct": other.get("correct", False),  # type: ignore[union-attr]
                                                   "reason": other["reason"]}
    bare_report, bare = run(frozenset(NAMES), "no guards")
    memo.save()
    if details is not None:
        details.extend(full)
    return {"report": report, "guards": table, "no_guards": bare_report, "filter": filter_quality(full, bare),
            "model_calls": memo.calls}


def fit_not_found_bar(rows: Sequence[Row], bars: Sequence[float]) -> tuple[float, list[dict[str, object]]]:
    """The NOT_FOUND bar that maximises `utility` over rows answered with that guard off: a row whose
    model probability reaches the bar would have abstained. Ties go to the higher bar."""
    base = outcomes(rows)
    table = []
    for bar in bars:
        moved = {
            str(r["id"]): Outcome(False, True, bool(r["answerable"]))
            if float(dict(r.get("signals") or {}).get("not_found", 0.0)) >= bar else base[str(r["id"])]
            for r in rows
        }
        table.append({"bar": bar, "utility": utility(moved), **_rates(moved)})
    best = max(table, key=lambda row: (row["utility"], row["bar"]))
    return float(best["bar"]), table  # type: ignore[arg-type]


def _rates(rows: dict[str, Outcome]) -> dict[str, float]:
    ans = [o for o in rows.values() if o.answerable]
    una = [o for o in rows.values() if not o.answerable]
    return {
        "accuracy": round(sum(o.right for o in ans) / max(1, len(ans)), 3),
        "abstention": round(sum(o.abstained for o in una) / max(1, len(una)), 3),
        "false_abstention": round(sum(o.abstained for o in ans) / max(1, len(ans)), 3),
    }
