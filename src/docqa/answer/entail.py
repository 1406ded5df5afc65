"""Does a cited sentence state the claim? The model answers Yes or No about one claim at a time, and
its probability of "No" withdraws claims that word overlap and embeddings let through: "Biden sent
the delegation" read as "Biden led it" shares every content word with the sentence it cites."""

from __future__ import annotations

from collections.abc import Sequence

from docqa.answer.prompt import SYSTEM
from docqa.models import LLM

# P("No") at or past which a claim is withdrawn: the best utility on XQuAD es dev (docs/experiments.md,
# "Entailment check"), where the guard as a whole did not pay enough to be on by default.
ENTAIL_BAR = 0.35
NO = "No"
OPENING = "Source: "  # how a check's prompt opens (a draft's opens "Sources:")


def entail_request(claim: str, sentences: Sequence[str]) -> str:
    source = " ".join(sentences)
    return f"{OPENING}{source}\nClaim: {claim}\nDoes the source state the claim? Reply with one word: Yes or No."


class Entailment:
    """One answer's checks, each a short reply from the model under the answer's own system message,
    so the KV cache keeps its prefix (~1–4 s a claim on 2 cores). `scores` holds each P("No")."""

    def __init__(self, llm: LLM, system: str = SYSTEM) -> None:
        self._llm, self._system = llm, system
        self.scores: list[float] = []

    def __call__(self, claim: str, sentences: Sequence[str]) -> float:
        with self._llm.complete(self._system, entail_request(claim, sentences), 2, watch=NO) as reply:
            reply.text()
            no = float(reply.watch_prob)
        self.scores.append(round(no, 5))
        return no
