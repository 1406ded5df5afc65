"""What kind of answer a question asks for, from its words in Spanish and English."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import cache

from docqa.answer.verify import topic_terms
from docqa.index import terms
from docqa.types import Hit

OVERVIEW, SUMMARY, YES_NO, LIST, WHO_IS, WHY_HOW, FACT = "overview", "summary", "yes_no", "list", "who_is", "why_how", "fact"
SHAPES = (OVERVIEW, SUMMARY, YES_NO, LIST, WHO_IS, WHY_HOW, FACT)  # who/what is and why/how are facts, labelled
DIGESTS = (OVERVIEW, SUMMARY)  # answered from the document read whole (or its central sentences)

def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Matched on the question lower-cased with its accents removed, so "de que trata" typed without
# accents is still an overview.
_OVERVIEW = re.compile(
    r"\b(de|sobre) que (trata|va|habla|es|son|tratan|hablan|se trata)\b|\bde que se trata\b|\btema (principal|central)\b"
    r"|\bwhat(?:'s| is| are)? (this|the|these|that|my|your|our) (\w+ ){0,2}about\b|\bwhat (does|do) (this|the|these|my) (\w+ ){0,2}(cover|say|discuss)"
    r"|\bwhat (this|the|these|my) (\w+ ){0,2}(covers?|discuss(es)?)\b|\bmain (topic|subject|idea)\b|\bgist\b"
)
_SUMMARY = re.compile(
    r"\bresum|\bsintetiza|\bsintesis\b|\bpuntos (principales|clave|importantes)\b|\blo (mas|principal) importante\b"
    r"|\bsummar|\brecap|\btl;?dr\b|\b(main|key) points\b|\bin a nutshell\b"
)
# Asked for every item: plural question nouns ("¿Qué partidos…?", "Which car makers…?") or the words.
_LIST = re.compile(
    r"\b(enumera|lista|listame|dime (todas|todos)|todas las|todos los|cuales son (los|las)|nombra)\b"
    r"|\b(list|name all|what are all|which are all|all the)\b"
)
_PLURAL_ASK = re.compile(r"^(?:(?:de|a|en|con|por|para|desde|hasta|entre)\s+)?(?:que|cuales|which|what)\s+(\w+)(?:\s+(\w+))?")
_NOT_PLURAL = frozenset(("es", "fue", "era", "esta", "estas", "hubo", "has", "is", "was", "does", "this", "its", "his",
                         "as", "us", "yes", "tras", "mas", "mismos", "otros", "cosas", "veces", "dias", "years", "times", "less"))
_INTERROGATIVE = _words("que quien quienes cual cuales cuando donde adonde como cuanto cuanta cuantos cuantas cuyo cuya cuyos cuyas "
                           "what who whom whose which when where why how")
_ACCENTED = re.compile(r"\b(qué|quién|quiénes|cuál|cuáles|cuándo|dónde|adónde|cómo|cuánt[oa]s?|cuán)\b")
_AUXILIARY = _words("is are was were do does did has have had can could will would should shall may might must "
                       "isn't aren't wasn't weren't don't doesn't didn't hasn't haven't can't couldn't won't")
_IMPERATIVE = _words("dime explica explicame describe cuentame resume enumera lista menciona nombra define "
                        "tell explain describe list name give summarize summarise define show")
_WHO_IS = re.compile(r"^(?:quien|quienes|que) (?:es|son|fue|fueron|era)\b|^(?:who|what) (?:is|was|are|were)\b")
_WHY_HOW = re.compile(r"^(?:por que|como(?! se llama))\b|^(?:why|how)\b(?! (many|much|long|old|far|often|big))")
_CONTRACTED = re.compile(r"\b(what|who|where|how|when|that|it)'s\b")  # "what's Lowry Digital?": "what is"
# An embedded question keeps its verb last ("who Shen Kuo was"): put it back where the question has it.
_EMBEDDED_WHO = re.compile(r"^(who|what|quien|quienes|que) (.+) (is|was|are|were)$")
# A question word that asks for one time, place, amount or one of a kind ("¿Qué lista…?", singular).
_ONE_FACT = re.compile(
    r"^(?:(?:en|a|de|desde|hasta|in|on|at|from|since|until) )?(?:cuando|donde|cuant[oa]s?|when|where|how (?:many|much|long|old|far|often))\b"
    r"|^(?:en |in |on )?(?:que|cual|which|what) (?:lista|list|pagina|page|ano|year|dia|day|fecha|date)\b"
)
_EVERY = re.compile(r"\b(todas|todos|all|every)\b")
# "Who is the chairman of…", "What are the uses of…": who fills a role, or the members of a set.
# ("What is the principle of…" defines a concept: left to who/what-is.)
_ROLE = re.compile(r"^(?:who (is|was)|quien (es|fue|era)|(?:who|what|quienes|cuales) (?:are|were|son|fueron|eran)) (?:the|el|la|los|las) \w+(?: \w+)? (?:of|de|del)\b")
_PLURAL_WHO = re.compile(r"^quienes (?!son|fueron|eran|es|fue)\w+")  # "¿Quiénes firmaron…?": the set of people
_NAME_ITEMS = re.compile(r"^(?:name|nombra|menciona|mention)(?: \w+){0,2} \w{3,}s\b")  # "Name the three astronauts"
_COUNT = re.compile(r"\b(\d|dos|tres|cuatro|cinco|seis|two|three|four|five|six)\s+(frases|oraciones|lineas|puntos|sentences|lines|points|bullets)\b")
_COUNTS = {"dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
# Words that ask for a shape or name the document itself, not what the answer is about.
_META = _words(
    "documento documentos texto textos articulo articulos archivo archivos fichero ficheros pagina paginas frase frases oracion "
    "oraciones resumen resume resumir resumeme breve corto importante importantes principal principales punto puntos clave "
    "trata tratan habla hablan dicen dice tema document documents text texts article articles file files page pages sentence "
    "sentences summary summarize summarise brief short main key point points important say says said cover covers about topic "
    "tell covered discuss discusses hazme haz dime menciona mencionan mencionado mention mentions mentioned"
)


def fold_text(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).replace("¿", " ").replace("¡", " ").split())


def shape_of(question: str, lang: str) -> str:
    """The question's shape, from its words alone (measured in docs/experiments.md, "Question shapes")."""
    text = _CONTRACTED.sub(r"\1 is", fold_text(question))
    clause = _asked_clause(text)
    # The question word decides before the words of the topic: "When was the summary report
    # published?", "¿Qué lista ganó?" ask for one fact, whatever they are about.
    if _one_fact(text, clause):
        return FACT
    if _SUMMARY.search(text):
        return SUMMARY
    if _OVERVIEW.search(text):
        return OVERVIEW
    words = re.findall(r"[\w']+", clause)
    if _LIST.search(text) or _asks_plural(clause) or _PLURAL_WHO.search(clause) or _NAME_ITEMS.search(clause):
        return LIST
    if words and _yes_no(question, text, words, lang):
        return YES_NO
    role = _ROLE.search(clause)  # "who is the chairman of…", "what are the uses of…": who or what fills a role
    if role:
        return FACT if role.group(1) or role.group(2) else LIST
    if _WHO_IS.search(clause):
        return WHO_IS
    if _WHY_HOW.search(clause):
        return WHY_HOW
    return FACT


def asks_one_fact(question: str) -> bool:
    """Asked by a question word for one time, place, amount or one of a kind, not for every item."""
    text = _CONTRACTED.sub(r"\1 is", fold_text(question))
    return _one_fact(text, _asked_clause(text))


def _one_fact(text: str, clause: str) -> bool:
    return bool(_ONE_FACT.search(clause)) and not _EVERY.search(text)


def sentences_asked(question: str, default: int = 3) -> int:
    """How many sentences a summary is asked in ("en tres frases", "in 2 sentences"), at most 6."""
    found = _COUNT.search(fold_text(question))
    if not found:
        return default
    word = found.group(1)
    return min(6, int(word) if word.isdigit() else _COUNTS[word]) or default


def topic_words(question: str, lang: str) -> list[str]:
    """What a summary or overview is about beyond the shape and the document itself ("…sobre la
    migración"): [] for "Resume el documento en tres frases"."""
    meta = meta_terms(lang)
    return [t for t in topic_terms(question, lang) if t not in meta and not t.isdigit()]


# How many of the best-retrieved sentences a digest's topic must be in to be one.
TOPIC_HITS = 8


def topical(question: str, lang: str, hits: Sequence[Hit]) -> bool:
    """An overview or summary of a topic ("…sobre la migración"), not of the documents: one of its
    topic words is in the best-retrieved sentences. A word of the request's own wording ("dame",
    "en pocas palabras", "what's the deal") is in none of them, so no list of such words is needed."""
    wanted = set(topic_words(question, lang))
    return bool(wanted) and any(wanted & set(terms(h.text, lang)) for h in hits[:TOPIC_HITS])


@cache
def meta_terms(lang: str) -> frozenset[str]:
    """The terms of words that name the document or ask for a shape ("texto", "resume", "mention")."""
    return frozenset({t for w in _META for t in terms(w, lang)} | {t for w in _META for t in terms(w, "en")})


def _asked_clause(text: str) -> str:
    """The question proper: after a leading clause ("En las grandes centrales, ¿las turbinas…?"),
    unless the question opened before it ("Why did Honda, Toyota and Nissan…?"); inside a request
    ("Tell me who Shen Kuo was", "Explícame cómo miden…"), the question it embeds."""
    head, _, tail = text.rpartition(",")
    opened = bool(set(head.split()[:1]) & (_INTERROGATIVE | _AUXILIARY))
    clause = tail if head and not opened and "?" in text and len(tail.split()) >= 3 and "¿" not in tail else text
    words = clause.strip(" ?.!").split()
    # A request ("dime", "tell me", "explain to me") followed by a question word: what it asks is that question.
    for i, word in enumerate(words[:3]):
        if word in _INTERROGATIVE and i and words[0] in _IMPERATIVE:
            return _EMBEDDED_WHO.sub(r"\1 \3 \2", " ".join(words[i:]))
    return " ".join(words)


def _asks_plural(clause: str) -> bool:
    """"¿Qué partidos…?", "Which car makers…?": the asked-for noun, or the word after it, is plural."""
    m = _PLURAL_ASK.match(clause)
    if not m or m.group(1) in _AUXILIARY or m.group(1) in _NOT_PLURAL:
        return False
    english = clause.startswith(("which", "what"))
    return any(w and len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "ous", "us", "is"))
               and w not in _NOT_PLURAL and w not in _AUXILIARY
               for w in (m.group(1), m.group(2) if english else None))


def _yes_no(question: str, text: str, words: list[str], lang: str) -> bool:
    """English opens a yes/no question with an auxiliary ("Did Holden…?"); Spanish only marks it with
    "¿…?" and no question word ("¿Fue Joe Biden quien…?"). Neither asks "A or B?" nor holds a question
    word further on ("Peyton Manning took how many…?")."""
    if "?" not in question or words[0] in _IMPERATIVE or " or " in f" {' '.join(words)} " or " o " in f" {' '.join(words)} ":
        return False
    if lang == "en":
        # Opened by an auxiliary ("Did Holden…?"), or a statement asked ("the meeting was in Washington?").
        found = re.findall(r"[\w']+", text)
        return not _INTERROGATIVE & set(found) and not _typed_question_word(found[0])
    asked = question.rsplit("¿", 1)[-1].lower()
    # Accented, a question word anywhere; unaccented ("¿que es…?", typed quickly) only at the start,
    # or after a short word that leads it ("y que paso", "en que ano"), not "¿Verdad que…?".
    lead = words[:2] if len(words[0]) <= 2 else words[:1]
    return not _ACCENTED.search(asked) and not _INTERROGATIVE & set(lead) and not _typed_question_word(words[0])


def _typed_question_word(word: str) -> bool:
    """A question word typed with a slip ("waht", "whos", "cuadno"): two letters swapped, one
    added or one left out ("were" is a word of its own, as "that" and "then", one letter changed)."""
    return word not in _INTERROGATIVE | _AUXILIARY and any(_one_slip(word, q) for q in _INTERROGATIVE if len(q) >= 3)


def _one_slip(typed: str, word: str) -> bool:
    if len(typed) == len(word):
        diff = [i for i, (a, b) in enumerate(zip(typed, word)) if a != b]
        return len(diff) == 2 and diff[1] == diff[0] + 1 and typed[diff[0]] == word[diff[1]] and typed[diff[1]] == word[diff[0]]
    short, long_ = sorted((typed, word), key=len)
    return len(long_) - len(short) == 1 and len(short) >= 3 and any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))
