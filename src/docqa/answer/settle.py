"""Yes/no questions: the sentence that settles one, and the verdict from the question's details checked against it."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from docqa.answer.prompt import abstention
from docqa.answer.shapes import meta_terms
from docqa.answer.verify import named, negates, topic_terms
from docqa.answer.words import NEGATIONS, SOURCE_NEGATIONS
from docqa.index import IndexReader, fold, folded_words, terms
from docqa.types import UNVERIFIED, VERIFIED, Answer, AnswerSentence, Citation, Hit

# The verdict is a check, not the model's: its own verdicts were "yes" to 14 of 15 questions, 9 of
# them wrongly (docs/experiments.md, "Question shapes").
# The settling sentence must hold at least this share of the question's weight (each word by its
# inverse sentence frequency): below it the documents are silent on the question, not against it.
SETTLE_MIN = 0.5
_PREFIX = 4  # "estudió" and "estudiante" stem apart ("estud", "estudi"): a shared stem of 4+ letters matches
_VERDICT = {"yes": {"es": "Sí", "en": "Yes"}, "no": {"es": "No", "en": "No"}}
# The verdicts docqa says: only those right often enough to be worth a person's trust (≥ 0.85,
# issue 34). Measured per polarity: on `shapes/` (its dev) "No" (the settling sentence lacks or negates
# a detail of the question) was right 7 of 7 times and "Sí" (it holds every one) 4 of 7; chosen
# there, "No" alone was confirmed once on `shapes-confirm/` and held 9 of 11 (0.82), "Sí" 3 of 4.
# Neither reaches the bar, so no verdict is said: the sentence that settles the question is quoted
# and the reader decides (docs/experiments.md, "Yes/no verdicts").
VERDICTS: frozenset[str] = frozenset()
_SAY = {"es": "Los documentos dicen: «{s}»", "en": "The documents say: “{s}”"}
_TOKEN = re.compile(r"\w+")
SILENT = "the documents do not say whether it is so: no sentence holds most of what the question states"


@dataclass(frozen=True)
class Verdict:
    polarity: str  # "yes", "no", or "" when the documents are silent
    hit: Hit | None  # the sentence that settles it
    missing: tuple[str, ...]  # the question's details that sentence lacks
    coverage: float


def settle(question: str, lang: str, evidence: Sequence[Hit], reader: IndexReader, titles: Mapping[str, str]) -> Verdict:
    """The evidence sentence holding most of the question's details (the better-ranked on ties), read
    with its document's title, and "yes" when it holds every one with the same negation, "no" when
    it differs in any."""
    weights = _weights(question, lang, reader)
    whole = sum(weights.values())
    if not evidence or whole <= 0:
        return Verdict("", evidence[0] if evidence else None, (), 0.0)
    said = [_Said(f"{titles.get(h.doc_path, '')} {h.text}", lang) for h in evidence]
    scored = [(sum(w for d, w in weights.items() if said[i].holds(d)) / whole, -i) for i in range(len(evidence))]
    coverage, first = max(scored)
    best = evidence[-first]
    if coverage < SETTLE_MIN:
        return Verdict("", best, (), round(coverage, 3))
    missing = tuple(d for d, w in weights.items() if w > 0 and not said[-first].holds(d))
    differs = negates(question, NEGATIONS) != negates(best.text, SOURCE_NEGATIONS)
    return Verdict("no" if missing or differs else "yes", best, missing, round(coverage, 3))


def settled(verdict: Verdict, lang: str) -> Answer:
    """The verdict where it is one docqa gives (VERDICTS), then the settling sentence quoted and
    cited; an abstention when silent."""
    if not verdict.polarity or verdict.hit is None:
        return Answer(abstention(lang), True, lang, reason=SILENT)
    hit = verdict.hit
    said = AnswerSentence(_SAY.get(lang, _SAY["en"]).format(s=hit.text.strip()), (1,), True)
    citation = Citation(1, hit.doc_path, hit.text, hit.start, hit.end, hit.page, verdict.coverage)
    if verdict.polarity not in VERDICTS:
        # Verified only when the sentence holds every detail of the question as it asks it.
        grade, why = (VERIFIED, "") if verdict.polarity == "yes" else (UNVERIFIED, _differs(verdict))
        return Answer(f"{said.text} [1]", False, lang, (citation,), (said,), shape="yes_no", grade=grade, reason=why)
    head = AnswerSentence(_VERDICT[verdict.polarity].get(lang, _VERDICT[verdict.polarity]["en"]) + ".", (), True)
    return Answer(f"{head.text} {said.text} [1]", False, lang, (citation,), (head, said), shape="yes_no")


def _differs(verdict: Verdict) -> str:
    if not verdict.missing:
        return "the sentence that settles it differs from the question in its negation"
    details = ", ".join(f"“{d.removeprefix(_NAME)}”" for d in verdict.missing[:3])
    return f"the sentence that settles it does not hold {details} of the question"


_NAME = "name:"  # a detail that is a name or a number, matched as a whole folded word


def _weights(question: str, lang: str, reader: IndexReader) -> dict[str, float]:
    """The question's details and their weights. A name or number ("París", "1788") weighs most: it
    is what a question built on a wrong fact gets wrong. Another word weighs by its rarity in the
    corpus, and nothing when no sentence holds it (a paraphrase of the documents' own word)."""
    names = [fold(n) for n in named(question)] + [fold(t) for t in _TOKEN.findall(question) if any(c.isdigit() for c in t)]
    name_terms = {t for n in names for t in terms(n, lang)}
    words = [t for t in topic_terms(question, lang) if t not in meta_terms(lang) and t not in name_terms]
    total, freq = reader.store.sentence_frequencies(words)
    weights = {w: math.log((total + 1) / freq[w]) if freq.get(w, 0) > 0 else 0.0 for w in words}
    weights.update({_NAME + n: math.log(total + 1) + 1 for n in dict.fromkeys(names)})
    return weights


class _Said:
    """A sentence's words as the details are matched against them."""

    def __init__(self, text: str, lang: str) -> None:
        self.terms, self.words = set(terms(text, lang)), folded_words(text)

    def holds(self, detail: str) -> bool:
        if detail.startswith(_NAME):
            return detail[len(_NAME):] in self.words
        return detail in self.terms or (len(detail) >= _PREFIX and any(
            len(h) >= _PREFIX and (h.startswith(detail) or detail.startswith(h)) for h in self.terms))
