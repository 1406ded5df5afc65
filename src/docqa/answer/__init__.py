"""The answer side: the question under answer, the guards, the draft and the verified, cited Answer."""

from __future__ import annotations

from docqa.answer.asker import MAX_ANSWER_TOKENS, Asker, system_for
from docqa.answer.events import (
    CHECKING,
    PASSED_OVER,
    RETRIEVING,
    THINKING,
    UNTRANSLATED,
    Event,
    Final,
    Redraft,
    Status,
    Token,
    Waiting,
)
from docqa.answer.evidence import READING
from docqa.answer.followup import Turn, standalone
from docqa.answer.guards import DEFAULT_OFF, GUARDS, NAMES, Policy
from docqa.answer.prompt import SYSTEM
from docqa.answer.recognise import Recogniser, recogniser_for
from docqa.answer.shapes import SHAPES, shape_of
from docqa.answer.verify import MARKER, load_dictionaries
from docqa.answer.words import PLAIN_DECLINES

__all__ = [
    "CHECKING",
    "DEFAULT_OFF",
    "GUARDS",
    "MARKER",
    "MAX_ANSWER_TOKENS",
    "NAMES",
    "PASSED_OVER",
    "PLAIN_DECLINES",
    "READING",
    "RETRIEVING",
    "SHAPES",
    "SYSTEM",
    "THINKING",
    "UNTRANSLATED",
    "Asker",
    "Event",
    "Final",
    "Policy",
    "Recogniser",
    "Redraft",
    "Status",
    "Token",
    "Turn",
    "Waiting",
    "load_dictionaries",
    "recogniser_for",
    "shape_of",
    "standalone",
    "system_for",
]
