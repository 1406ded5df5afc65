"""Every word list the answer side reads, in one place: stop, negation, ordinal, number and abstention words."""

from __future__ import annotations

# Function words left out of a claim's content words (beyond each language's stop-word list).
STOP = frozenset({
    "the", "a", "an", "of", "in", "on", "at", "to", "for", "and", "or", "is", "are", "was", "were", "be",
    "by", "with", "from", "that", "this", "what", "which", "who", "el", "la", "los", "las", "un", "una",
    "unos", "unas", "de", "del", "en", "y", "o", "que", "se", "su", "sus", "por", "con", "para", "al", "es",
    "son", "fue", "lo", "le", "les", "como", "mas", "más", "pero", "sobre", "entre", "cuan", "cuán",
})

# Words that deny what a clause states. "sin"/"without" and "fail" count on the source's side only:
# a sentence can deny with them, a question asking "what can not be ..." rarely does.
NEGATIONS = frozenset({
    "no", "nunca", "jamás", "jamas", "ningún", "ningun", "ninguna", "ninguno", "ni", "tampoco", "nadie", "nada",
    "not", "never", "none", "nobody", "nothing", "neither", "nor", "cannot",
})
SOURCE_NEGATIONS = NEGATIONS | {"sin", "without", "lack", "lacks", "falta", "carece", "fail", "failed", "fails"}

# Ordinal words of both languages by the number they name, so "seventh" meets "séptima" too.
# Not "segundos", which are seconds of time; four is left out: "cuarto" is also a quarter of a game.
ORDINALS = {
    w: n
    for n, words in enumerate((
        "primer primero primera primeros primeras first",
        "segundo segunda segundas second",
        "tercer tercero tercera terceros terceras third",
        "",
        "quinto quinta quintos quintas fifth",
        "sexto sexta sextos sextas sixth",
        "séptimo séptima septimo septima seventh",
        "octavo octava eighth",
        "noveno novena ninth",
        "décimo décima decimo decima tenth",
    ), start=1)
    for w in words.split()
}

# Zero to fifteen per language: sources write these as words ("seis premios") and a small model
# answers in digits ("6 premios"), or the other way round. Not "un"/"una"/"a": mostly articles.
NUMBER_WORDS = {
    "es": "cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince",
    "en": "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen",
}

# What the model writes when it declines in words instead of the NOT_FOUND token.
ABSTAIN_PHRASES = (
    "not_found", "not found", "no encuentro", "couldn't find", "could not find", "no se encuentra",
    "no contienen", "do not contain", "don't contain",
)

# Words that lean on an earlier turn: connectors that open a question, and pronouns/deictics.
FOLLOWUP_OPENERS = frozenset({"y", "e", "entonces", "tambien", "and", "also", "so", "then", "what about", "how about"})
ANAPHORA = frozenset({
    "el", "ella", "ellos", "ellas", "ello", "su", "sus", "suyo", "suya", "eso", "esto", "esa", "ese", "esos",
    "esas", "aquel", "alli", "ahi", "entonces", "he", "she", "it", "they", "him", "her", "them", "his",
    "hers", "its", "their", "theirs", "that", "this", "those", "these", "there",
})

# How a plain prompt's model declines, in the two languages asked.
PLAIN_DECLINES = (
    "don't know", "do not know", "not provided", "no sé", "no lo sé", "no se menciona", "no se proporciona",
    "no hay información", "does not mention", "doesn't mention", "not mentioned", "no menciona",
)
