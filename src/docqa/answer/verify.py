"""Check every answer sentence against the evidence it cites; fix, drop or mark citations."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from docqa.answer.guards import DEFAULT, Policy
from docqa.answer.numerals import digits_of
from docqa.answer.words import NEGATIONS, ORDINALS, SOURCE_NEGATIONS, STOP
from docqa.index import detect_language, fold, folded_words, in_dictionary, stem, terms, title

MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
SUPPORT_MIN = 0.5  # below this a citation is not trusted (docs/experiments.md, "Support")
# multilingual-e5 cosines crowd into [0.7, 1]; this maps "unrelated" to 0 and "paraphrase" to 1.
COS_FLOOR, COS_FULL = 0.80, 0.90
# Across languages the same meaning scores ~0.05 lower (docs/experiments.md, "Evidence gate"),
# so a claim in another language than its evidence gets the scale shifted down by that much.
CROSS_LANGUAGE_SHIFT = 0.05
# An answer must add something its sources state: of the claim's content words that the question
# does not already contain, at least this share must appear in the cited sentences or their
# documents' titles. A claim that only restates the question, or whose new words come from nowhere
# in its sources, is what the model writes when the sources do not hold the answer (docs/experiments.md, "Guards").
NOVEL_MIN = 0.5
_ASIDE = re.compile(r"\s*\([^()]*\)")
_YES_NO = re.compile(r"(s[ií]|no|yes)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Claim:
    text: str  # the answer sentence without markers
    cited: tuple[int, ...]  # 1-based evidence numbers after verification
    support: float
    supported: bool


def parse(answer: str, lang: str) -> list[tuple[str, tuple[int, ...]]]:
    """Answer sentences with the [n] markers the model wrote after or inside them. A question the
    model echoes before its answer ("¿Para qué países es? Los cubanos… [1]") is not part of it."""
    from sentencex import segment

    pieces = list(segment(lang, answer.strip()))
    answers = [p for p in pieces if not MARKER.sub("", p).strip().endswith("?")]
    out: list[tuple[str, tuple[int, ...]]] = []
    for piece in answers or pieces:
        numbers = tuple(int(n) for m in MARKER.finditer(piece) for n in re.split(r"[,;]", m.group(1)))
        text = MARKER.sub("", piece).strip()
        if text:
            out.append((text, numbers))
        elif numbers and out:  # a marker segmented on its own belongs to the sentence before it
            out[-1] = (out[-1][0], out[-1][1] + numbers)
    return out


_BULLET = re.compile(r"^\s*(?:[-*•·]|\d{1,2}[.)])\s+")


def parse_items(answer: str, lang: str) -> list[tuple[str, tuple[int, ...]]]:
    """A list reply's items, one a line with or without a bullet ("- Ford [2]"), and their markers;
    a reply on one line ("Ford, Toyota y Holden [2].") is parsed as sentences."""
    lines = [line for line in answer.strip().splitlines() if MARKER.sub("", line).strip(" -*•·")]
    if len(lines) < 2:
        return parse(answer, lang)
    out: list[tuple[str, tuple[int, ...]]] = []
    for line in lines:
        if line.rstrip().endswith(":") and not MARKER.search(line):
            continue  # "Los partidos son:" introduces the items; it states none
        numbers = tuple(int(n) for m in MARKER.finditer(line) for n in re.split(r"[,;]", m.group(1)))
        text = _BULLET.sub("", MARKER.sub("", line)).strip().rstrip(".;,")
        if text:
            out.append((text, numbers))
    return out


def content_terms(text: str, lang: str) -> set[str]:
    return {t for t in terms(text, lang) if t not in STOP and (len(t) > 2 or t.isdigit())}


def lexical_support(claim: str, claim_lang: str, evidence: str, evidence_lang: str) -> float:
    """Share of the claim's content words found in the evidence sentence."""
    wanted = content_terms(claim, claim_lang)
    if not wanted:
        return 0.0
    have = content_terms(evidence, evidence_lang) | content_terms(evidence, claim_lang)
    return len(wanted & have) / len(wanted)


_TOKEN = re.compile(r"\w+")
_SENTENCE_START = re.compile(r"(^|[.!?¿¡\"«“(])\W*$")  # text before a word that opens a sentence


def unsourced_details(claim: str, sources: Sequence[str]) -> list[str]:
    """Names and numbers in the claim (capitalised words after the first, tokens with digits) that
    appear nowhere in the cited documents: details the model added from outside them."""
    have = folded_words(" ".join(sources))
    have |= digits_of(have)
    tokens = _TOKEN.findall(claim)
    details = [t for i, t in enumerate(tokens) if (i > 0 and t[:1].isupper()) or any(c.isdigit() for c in t)]
    return [t for t in dict.fromkeys(details) if fold(t) not in have]


def novel_support(claim: str, question: str, lang: str, sources: Sequence[str]) -> float:
    """Share of the claim's content words beyond the question's that the sources contain (0 if none)."""
    new = content_terms(claim, lang) - content_terms(question, lang)
    if not new:
        return 0.0
    have = set().union(*(content_terms(s, lang) for s in sources)) if sources else set()
    have |= digits_of({fold(w) for s in sources for w in _TOKEN.findall(s)})
    return len(new & have) / len(new)


def named(question: str) -> list[str]:
    """The question's capitalised words that do not open a sentence: what it names."""
    return [m.group() for m in _TOKEN.finditer(question) if m.group()[:1].isupper()
            and not _SENTENCE_START.search(question[: m.start()])]


def names_absent(question: str, contexts: Sequence[str]) -> bool:
    """True when the question names something (capitalised words after the first) and none of those
    names appears around the cited sentences: the answer is then about something else. Questions
    built to look answerable swap in such a name ("Berlín" for the article's "Varsovia")."""
    names = {fold(n) for n in named(question)}
    if not names:
        return False
    return not names & folded_words(" ".join(contexts))


def negates(text: str, words: frozenset[str]) -> bool:
    # "sin embargo" is "however", and denies nothing.
    lowered = text.lower().replace("sin embargo", "")
    return "n't" in lowered or "n’t" in lowered or any(w in words for w in _TOKEN.findall(lowered))


def negation_unsupported(question: str, contexts: Sequence[str]) -> bool:
    """The question asks what is *not* so, and the cited sentences deny nothing: questions built to
    look answerable insert a "no" into a sentence's own wording ("¿Qué no se puede replantear ...?")."""
    return negates(question, NEGATIONS) and not any(negates(c, SOURCE_NEGATIONS) for c in contexts)


def unfamiliar_names_absent(question: str, source_lang: str, contexts: Sequence[str]) -> bool:
    """`names_absent` across languages, for the names no dictionary knows ("Sherwood-Randall",
    "Manakintown"): those are written alike in every language, unlike "Warsaw" and "Varsovia"."""
    names = [n for n in named(question) if not any(c.isdigit() for c in n)]
    # Any name found passes ("Peyton Manning" against "Manning"); only an unknown one can fail it.
    if not any(not _known(n.lower(), source_lang) for n in names):
        return False
    return not {fold(n) for n in names} & folded_words(" ".join(contexts))


def _ordinals(text: str) -> set[int]:
    return {ORDINALS[w] for w in _TOKEN.findall(text.lower()) if w in ORDINALS}


def ordinal_contradicted(question: str, contexts: Sequence[str]) -> bool:
    """The question asks about one "nth" and the cited sentences speak only of another ("la séptima
    temporada" answered from "la segunda temporada"): the model has matched the rest and swapped it."""
    asked, stated = _ordinals(question), _ordinals(" ".join(contexts))
    return bool(asked) and bool(stated) and not asked & stated


@cache
def _stop_terms(lang: str) -> frozenset[str]:
    """Stemmed stop words: matched after stemming, so "cuántos" goes with the listed "cuanto"."""
    from stop_words import StopWordError, get_stop_words

    try:
        words = get_stop_words(lang)
    except StopWordError:
        words = []
    return frozenset(terms(" ".join(words), lang)) | STOP


def topic_terms(question: str, lang: str) -> list[str]:
    """The question's words that say what it is about: stemmed, without stop and question words."""
    stop = _stop_terms(lang)
    return list(dict.fromkeys(t for t in terms(question, lang) if t not in stop and (len(t) > 2 or t.isdigit())))


def _known(word: str, lang: str) -> bool:
    """In a dictionary of the language or of English, which lends Spanish and others many words."""
    return any(in_dictionary(word, code) for code in dict.fromkeys((lang, "en")))


def load_dictionaries(langs: Sequence[str]) -> None:
    """Load the dictionaries now (~0.5 s and ~50 MB each) rather than during someone's first question."""
    for lang in langs:
        _known("warm", lang)


def unfamiliar_terms(question: str, lang: str, among: Callable[[Iterable[str]], set[str]] | None = None) -> dict[str, str]:
    """The question's words that no dictionary knows, by their BM25 term: names of things and codes
    ("picanha", "SEIVG"). A paraphrase uses known words, so only these must appear in the documents
    for them to be about what the question asks. `among` narrows the candidate terms before any
    dictionary is consulted: loading one costs ~1 s on a cold start."""
    stop = _stop_terms(lang)
    candidates: dict[str, str] = {}
    for word in _TOKEN.findall(question):
        term = stem(word, lang) if len(word) >= 3 and not any(c.isdigit() for c in word) else ""
        if term and term not in stop:
            candidates.setdefault(term, word)
    kept = candidates if among is None else among(candidates)
    return {term: word for term, word in candidates.items() if term in kept and not _known(word.lower(), lang)}


def topic_coverage(total: int, in_corpus: Mapping[str, int], in_cited: Mapping[str, int]) -> float:
    """Share of the question's topic terms found in the cited documents, each weighted by its inverse
    sentence frequency in the corpus, so the specific words count most. Words no sentence holds
    are left out: a paraphrase may use them, and they cannot tell one document from another."""
    weights = {t: math.log(total / n) for t, n in in_corpus.items() if n > 0}
    whole = sum(weights.values())
    if whole <= 0:
        return 1.0
    return sum(w for t, w in weights.items() if in_cited.get(t, 0) > 0) / whole


def semantic_support(cosine: float, same_language: bool = True) -> float:
    shift = 0.0 if same_language else CROSS_LANGUAGE_SHIFT
    return float(np.clip((cosine - COS_FLOOR + shift) / (COS_FULL - COS_FLOOR), 0.0, 1.0))


def verify(
    parsed: Sequence[tuple[str, tuple[int, ...]]],
    lang: str,
    evidence: Sequence[str],
    claim_vectors: np.ndarray | None,
    evidence_vectors: np.ndarray | None,
    documents: Sequence[str] | None = None,
    question: str = "",
    evidence_langs: Sequence[str] | None = None,
    policy: Policy = DEFAULT,
) -> list[Claim]:
    """Score each answer sentence against each evidence sentence; keep cited evidence that supports
    it, otherwise cite the best-supported evidence, otherwise mark the sentence unsupported.
    With `documents` (the full text of each evidence sentence's document), a same-language claim
    whose names or numbers appear in none of its cited documents is unsupported too, and with the
    `question`, so is a same-language claim that adds nothing its cited sentences state (NOVEL_MIN).
    `parsed` is `parse(answer, lang)`, taken once by the caller, which also embeds the claims.
    `evidence_langs` are the languages of the evidence's documents, known since indexing; without
    them each sentence's language is guessed, which short sentences make unreliable."""
    ev_langs = list(evidence_langs) if evidence_langs else [detect_language(e, lang) for e in evidence]
    # What the novelty check may find a claim's new words in: each sentence and its document's title.
    stated = [[e, title(documents[j])] if documents else [e] for j, e in enumerate(evidence)]
    bar = SUPPORT_MIN if policy.on("support") else 0.0
    claims = []
    for i, (text, cited) in enumerate(parsed):
        scores = []
        for j, ev in enumerate(evidence):
            lex = lexical_support(text, lang, ev, ev_langs[j])
            sem = 0.0
            if claim_vectors is not None and evidence_vectors is not None and i < len(claim_vectors):
                sem = semantic_support(float(claim_vectors[i] @ evidence_vectors[j]), ev_langs[j] == lang)
            scores.append(max(lex, sem))
        kept = tuple(dict.fromkeys(n for n in cited if 1 <= n <= len(evidence) and scores[n - 1] >= bar))
        if not kept and scores:
            # Earlier evidence ranks higher, so ties go to the better-retrieved sentence.
            best = max(range(len(scores)), key=lambda j: (scores[j], -j))
            if scores[best] >= bar:
                kept = (best + 1,)
        # Only within one language: across languages names are legitimately translated.
        same_language = all(ev_langs[n - 1] == lang for n in kept)
        if kept and documents is not None and same_language and policy.on("unsourced"):
            text, kept = _without_unsourced(text, kept, lang, [documents[n - 1] for n in kept], policy)
        # A yes/no reply adds its verdict, which no source word can match; its support is the rest.
        if (
            kept and question and same_language and policy.on("novelty") and not _YES_NO.match(text)
            and novel_support(text, question, lang, [s for n in kept for s in stated[n - 1]]) < NOVEL_MIN
        ):
            # The model often cites a neighbour of the sentence that states its answer: re-cite the
            # supported evidence sentence that holds the claim's new words, if there is one.
            novel = [novel_support(text, question, lang, s) for s in stated]
            fits = [j for j in range(len(evidence)) if scores[j] >= bar and ev_langs[j] == lang]
            best = max(fits, key=lambda j: (novel[j], scores[j], -j), default=None)
            kept = (best + 1,) if best is not None and novel[best] >= NOVEL_MIN else ()
        support = max((scores[n - 1] for n in kept), default=max(scores, default=0.0))
        claims.append(Claim(text, kept, round(support, 3), bool(kept)))
    return claims


def _without_unsourced(
    text: str, kept: tuple[int, ...], lang: str, cited_docs: Sequence[str], policy: Policy
) -> tuple[str, tuple[int, ...]]:
    """The claim and its citations once its unsourced names and numbers are dealt with: a small model
    glosses in parentheses from its own knowledge ("DACA (Desarrollo Acelerado…)", "la NFL (National
    Football League)"), so such an aside is dropped and the rest kept; otherwise the claim loses its citations."""
    if not unsourced_details(text, cited_docs):
        return text, kept
    bare = _ASIDE.sub("", text).strip()
    if policy.on("aside") and bare != text and content_terms(bare, lang) and not unsourced_details(bare, cited_docs):
        return bare, kept
    return text, ()
