"""From the model's draft to the Answer: verify each claim, apply the withdrawal checks, number the citations."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from docqa.answer import entail
from docqa.answer.checks import withdrawal
from docqa.answer.events import Case
from docqa.answer.guards import Policy
from docqa.answer.numerals import as_sources_write
from docqa.answer.prompt import abstention
from docqa.answer.shapes import DIGESTS, LIST, meta_terms
from docqa.answer.verify import SUPPORT_MIN, Claim, lexical_support, parse, parse_items, topic_terms, verify
from docqa.index import IndexReader, folded_words, terms, title
from docqa.models import Embedder
from docqa.types import Answer, AnswerSentence, Citation, Hit


def abstain(lang: str, reason: str) -> Answer:
    return Answer(abstention(lang), True, lang, reason=reason)


def compose(
    raw: str, case: Case, reader: IndexReader, embedder: Embedder, policy: Policy, asked_in: Callable[[], str] | None,
    entails: Callable[[str, Sequence[str]], float] | None = None,
) -> tuple[Answer, str]:
    """The answer to the draft `raw`, each sentence marked supported or not, and the check that
    found fault with it ("" when none did); an abstention only when the reply holds no sentence."""
    policy = _shaped(policy, case)
    parsed = _distinct(parse_items(raw, case.lang)) if case.shape == LIST else parse(raw, case.lang)
    claim_vecs = embedder.embed_queries([text for text, _ in parsed]) if parsed else None
    # A document's title line says nothing by itself (each evidence line carries its title anyway);
    # cited alone, it "supported" any claim about the subject, so it supports nothing.
    titled = [_is_title(h) for h in case.evidence]
    ev_vecs = np.stack([reader.sentence_vectors.vector(h.sentence_id) * (0.0 if t else 1.0) for h, t in zip(case.evidence, titled)])
    texts = [case.docs[h.doc_path].text for h in case.evidence]
    said = ["" if t else h.text for h, t in zip(case.evidence, titled)]
    # The question as asked: a follow-up's answer must add to it, even if it repeats the last answer.
    checked = [(_core(text, case.lang), cited) for text, cited in parsed] if case.shape in DIGESTS else parsed
    claims = verify(checked, case.lang, said, claim_vecs, ev_vecs, texts, case.question, case.doc_langs(), policy)
    claims = [replace(c, text=text) for c, (text, _) in zip(claims, parsed)]
    if entails is not None and policy.on("entailed"):
        claims = [_entailed(c, said, entails) for c in claims]
    if not claims:
        why = "the model's reply holds no answer sentence"
        return abstain(case.lang, why), why
    if not any(c.supported for c in claims):
        # Shown, each sentence marked: no filter tells this model's right drafts from its wrong
        # ones, so a failed check grades the answer instead of withdrawing it (grade.py).
        return _shown(claims, case, policy), "no answer sentence is supported by the documents"
    if case.shape == LIST or case.shape in DIGESTS:
        # Many claims, each standing alone: one the documents do not state is dropped, not flagged.
        claims = [c for c in claims if c.supported]
    if case.shape == LIST:
        claims = _on_topic(claims, case, reader, asked_in)
    cited = {e for c in claims if c.supported for e in c.cited}
    why = withdrawal(case, cited, [c.text for c in claims], reader, asked_in, policy)
    return _shown(claims, case, policy), why


def _shown(claims: Sequence[Claim], case: Case, policy: Policy) -> Answer:
    answer = _cited(claims, case.evidence, case.lang, policy)
    text = list_text(answer.sentences) if case.shape == LIST and len(answer.sentences) > 1 else answer.text
    return replace(answer, text=text, shape=case.shape)


_WORD = re.compile(r"\w+")
ON_TOPIC = 0.5  # a list item's sentence holds at least this share of the best item sentence's topic weight


def _core(text: str, lang: str) -> str:
    """An overview's sentence without the words that frame it ("Este texto trata sobre …", "The
    document covers …"): they name the document, which no sentence of it states."""
    meta = meta_terms(lang)
    return _WORD.sub(lambda m: "" if set(terms(m.group(), lang)) & meta else m.group(), text)


def _shaped(policy: Policy, case: Case) -> Policy:
    """The guards that fit the question's shape. An overview or summary of the document asks about
    no name or topic: each of its sentences is checked for support instead. A list item glossed
    from the model's own knowledge ("Partido Liberal (LLP)") loses the gloss, not its place. The
    model's entailment check is asked of one fact's sentences, not of every item or digest line."""
    if case.shape in DIGESTS and not case.topical:
        return policy.without("names", "negation", "ordinal", "retry", "topic_docs", "topic_near", "entailed")
    if case.shape == LIST:
        # Many short items: a model call each would keep the list waiting for its grade.
        return Policy((policy.off - {"aside"}) | {"entailed"}, policy.not_found_prob)
    return policy.without("entailed") if case.shape in DIGESTS else policy


def _on_topic(items: list[Claim], case: Case, reader: IndexReader, asked_in: Callable[[], str] | None) -> list[Claim]:
    """The items whose cited sentence holds at least half as much of what the question asks about
    (its words, weighted by their rarity) as the best cited sentence: a small model runs on into
    the nouns of every sentence it was shown ("causas fundamentales" among the adjectives).
    Across languages the question is read as the model translated it (`asked_in`), when it was."""
    langs = case.doc_langs()
    cited = {langs[e - 1] for c in items for e in c.cited}
    question, lang = case.question, case.lang
    if cited != {case.lang}:
        translated = asked_in() if asked_in is not None and len(cited) == 1 else ""
        if not translated:
            return items
        question, lang = translated, cited.pop()
    wanted = topic_terms(question, lang)
    if not wanted:
        return items
    total, freq = reader.store.sentence_frequencies(wanted)
    weight = {t: math.log((total + 1) / n) for t, n in freq.items() if n > 0}
    said = [set(terms(h.text, lang)) for h in case.evidence]
    held = [sum(w for t, w in weight.items() if t in words) for words in said]
    best = max((held[e - 1] for c in items for e in c.cited), default=0.0)
    on_topic = [held[j] >= ON_TOPIC * best for j in range(len(case.evidence))]
    kept = []
    for c in items:
        if any(on_topic[e - 1] for e in c.cited):
            kept.append(c)
            continue
        # Cited to a sentence about something else, an item an on-topic sentence also states
        # ("Holden" in the list of car makers, not in the news of its closing) is cited there.
        there = [j for j in range(len(case.evidence)) if on_topic[j]
                 and lexical_support(c.text, case.lang, case.evidence[j].text, langs[j]) >= SUPPORT_MIN]
        if there:
            kept.append(replace(c, cited=(there[0] + 1,)))
    return kept or items


def _distinct(items: list[tuple[str, tuple[int, ...]]]) -> list[tuple[str, tuple[int, ...]]]:
    """A list's items once each: a small model repeats itself as its list runs on."""
    seen: set[str] = set()
    out = []
    for text, cited in items:
        key = " ".join(sorted(folded_words(text)))
        if key not in seen:
            seen.add(key)
            out.append((text, cited))
    return out


def _entailed(claim: Claim, said: Sequence[str], entails: Callable[[str, Sequence[str]], float]) -> Claim:
    """The claim, withdrawn when the model says its cited sentences do not state it."""
    if not claim.supported or not claim.cited:
        return claim
    if entails(claim.text, [said[e - 1] for e in claim.cited if said[e - 1]]) >= entail.ENTAIL_BAR:
        return replace(claim, supported=False)
    return claim


def _cited(claims: Sequence[Claim], evidence: Sequence[Hit], lang: str, policy: Policy) -> Answer:
    """The answer text with citations renumbered in order of first use."""
    numbering: dict[int, int] = {}  # evidence index -> citation number
    sentences = []
    for c in claims:
        ns = tuple(numbering.setdefault(e, len(numbering) + 1) for e in c.cited)
        text = c.text
        if policy.on("numbers"):
            text = as_sources_write(text, [evidence[e - 1].text for e in c.cited], lang)
        sentences.append(AnswerSentence(text, ns, c.supported))
    citations = tuple(
        Citation(n, evidence[e - 1].doc_path, evidence[e - 1].text, evidence[e - 1].start, evidence[e - 1].end,
                 evidence[e - 1].page, max((c.support for c in claims if e in c.cited), default=0.0))
        for e, n in sorted(numbering.items(), key=lambda kv: kv[1])
    )
    return Answer(cited_text(sentences), False, lang, citations, tuple(sentences))


def list_text(sentences: Sequence[AnswerSentence]) -> str:
    """A list answer's text: one item a line, each with its citations."""
    return "\n".join(f"- {s.text}{markers(s)}" for s in sentences)


def markers(sentence: AnswerSentence) -> str:
    """The sentence's citations as the answer text writes them after it: " [1] [2]"."""
    return "".join(f" [{n}]" for n in sentence.citations)


def cited_text(sentences: Sequence[AnswerSentence]) -> str:
    return " ".join(s.text + markers(s) for s in sentences)


def _is_title(hit: Hit) -> bool:
    """The document's heading line ("Normans", "Super Bowl 50"), retrieved like any sentence."""
    return hit.start == 0 and title(hit.text) == hit.text.strip()
