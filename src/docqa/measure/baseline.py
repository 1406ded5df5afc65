"""The plain RAG every report is measured against: the same model, the top 3 paragraphs by the
embedder pasted into a tutorial prompt ("if you don't know, say so"), up to 100 tokens, no guards and
no citations; its accuracy, abstention and time to the first token."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence

from docqa.answer import PLAIN_DECLINES
from docqa.index import Store, estimate_tokens
from docqa.interfaces import Services
from docqa.measure.evalrun import Progress, count_shape, shape_report
from docqa.measure.evaluate import Question, right
from docqa.models import LLM
from docqa.search import Retriever

PLAIN_SYSTEM = (
    "Use the following pieces of context to answer the question at the end. "
    "If you don't know the answer, just say that you don't know, don't try to make up an answer."
)
PASSAGES = 3
MAX_TOKENS = 100
# A corpus this small is pasted whole, as AnythingLLM and Open WebUI do with a document that fits
# (the same budget docqa reads a document whole within): the plain whole-document prompt of issue 26.
WHOLE_CORPUS_TOKENS = 1600


def plain_answer(llm: LLM, question: str, passages: Sequence[str]) -> tuple[str, float]:
    """The reply and the seconds to its first piece."""
    context = "\n\n".join(passages)
    t0, first, pieces = time.perf_counter(), None, []
    with llm.complete(PLAIN_SYSTEM, f"{context}\n\nQuestion: {question}\nHelpful Answer:", MAX_TOKENS) as reply:
        for piece in reply:
            first = first if first is not None else time.perf_counter() - t0
            pieces.append(piece)
    return "".join(pieces).strip(), first if first is not None else time.perf_counter() - t0


def declined(reply: str) -> bool:
    text = reply.lower().replace("’", "'")
    return not text or any(p in text for p in PLAIN_DECLINES)


def run_baseline(services: Services, questions: list[Question], progress: Progress, llm: LLM | None = None) -> dict[str, object]:
    """Accuracy, abstention and false abstention of the plain pipeline on `questions` (single turns)."""
    model = llm or services.llm()
    retriever = Retriever(services.reader(), services.embedder())
    whole = _whole_corpus(services.reader().store)
    correct = abstained_ok = false_abstained = answerable = 0
    ttft: list[float] = []
    shapes: dict[str, list[int]] = {}
    for i, q in enumerate(questions):
        progress(i, len(questions))
        reply, first = plain_answer(model, q.question, whole or _paragraphs(retriever, services.reader().store, q.question))
        ttft.append(first)
        good = not declined(reply) and right(q, reply) if q.answerable else declined(reply)
        if q.shape:
            count_shape(shapes, q, good)
        if q.answerable:
            answerable += 1
            false_abstained += declined(reply)
            correct += good
        else:
            abstained_ok += good
    progress(len(questions), len(questions))
    unanswerable = len(questions) - answerable
    return {
        "n": len(questions), "passages": "the whole corpus" if whole else PASSAGES,
        "answer_accuracy": round(correct / answerable, 3) if answerable else None,
        "abstention_rate": round(abstained_ok / unanswerable, 3) if unanswerable else None,
        "false_abstention_rate": round(false_abstained / answerable, 3) if answerable else None,
        "ttft_s_median": round(statistics.median(ttft), 3) if ttft else None,
        "ttft_s_mean": round(statistics.fmean(ttft), 3) if ttft else None,
        **({"shapes": shape_report(shapes)} if shapes else {}),
    }


def _whole_corpus(store: Store) -> list[str]:
    """Every document's text when together they fit WHOLE_CORPUS_TOKENS, else []."""
    texts = [doc.text for path in sorted(store.documents()) if (doc := store.document(path)) is not None]
    return texts if texts and sum(estimate_tokens(t) for t in texts) <= WHOLE_CORPUS_TOKENS else []


def _paragraphs(retriever: Retriever, store: Store, question: str) -> list[str]:
    """The top PASSAGES paragraphs (a paragraph once, however many of its chunks rank), ranked by the
    embedder alone, as a tutorial RAG does."""
    out: list[str] = []
    for chunk_id, _ in retriever.rank_chunks(question, PASSAGES * 4, mode="dense"):
        text = store.passage(chunk_id)
        if text and text not in out:
            out.append(text)
        if len(out) == PASSAGES:
            break
    return out
