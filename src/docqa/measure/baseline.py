"""The plain pipeline every report is measured against: the same retrieval and model, top passages
pasted into a simple prompt, no guards and no citations."""

from __future__ import annotations

from collections.abc import Sequence

from docqa.answer import PLAIN_DECLINES
from docqa.interfaces import Services
from docqa.measure.evalrun import Progress
from docqa.measure.evaluate import Question, answer_matches
from docqa.models import LLM
from docqa.search import Retriever

PLAIN_SYSTEM = (
    "Use the following pieces of context to answer the question at the end. "
    "If you don't know the answer, just say that you don't know, don't try to make up an answer."
)
PASSAGES = 3
MAX_TOKENS = 100


def plain_answer(llm: LLM, question: str, passages: Sequence[str]) -> str:
    context = "\n\n".join(passages)
    with llm.complete(PLAIN_SYSTEM, f"{context}\n\nQuestion: {question}\nHelpful Answer:", MAX_TOKENS) as reply:
        return reply.text().strip()


def declined(reply: str) -> bool:
    text = reply.lower().replace("’", "'")
    return not text or any(p in text for p in PLAIN_DECLINES)


def run_baseline(services: Services, questions: list[Question], progress: Progress, llm: LLM | None = None) -> dict[str, object]:
    """Accuracy, abstention and false abstention of the plain pipeline on `questions` (single turns)."""
    model = llm or services.llm()
    retriever = Retriever(services.reader(), services.embedder())
    right = abstained_ok = false_abstained = answerable = 0
    for i, q in enumerate(questions):
        progress(i, len(questions))
        top = [c for c, _ in retriever.rank_chunks(q.question, PASSAGES)]
        reply = plain_answer(model, q.question, services.reader().store.chunk_texts(top))
        if q.answerable:
            answerable += 1
            false_abstained += declined(reply)
            right += not declined(reply) and answer_matches(reply, q.answers)
        else:
            abstained_ok += declined(reply)
    progress(len(questions), len(questions))
    unanswerable = len(questions) - answerable
    return {
        "n": len(questions), "passages": PASSAGES,
        "answer_accuracy": round(right / answerable, 3) if answerable else None,
        "abstention_rate": round(abstained_ok / unanswerable, 3) if unanswerable else None,
        "false_abstention_rate": round(false_abstained / answerable, 3) if answerable else None,
    }
