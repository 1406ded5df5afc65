"""What people use: Services, the presenter and renderer of the CLI and the page, the CLI's commands."""

from __future__ import annotations

from docqa.interfaces import chatcommands, commands, doccommands  # noqa: F401  (register the everyday commands on `main`)
from docqa.interfaces.chats import ChatStore, ChatStoreError, markdown
from docqa.interfaces.cligroup import ProgressBars, as_json_line, echo, fail, main, settings_with
from docqa.interfaces.present import BADGES, Progress, abstention_hint, crossing_note, grade_line
from docqa.interfaces.render import (
    TABLE_REACH,
    answer_markdown,
    document_html,
    inert,
    location,
    passage_html,
    source_html,
    source_label,
    typed,
)
from docqa.interfaces.services import Services

__all__ = [
    "BADGES", "TABLE_REACH", "ChatStore", "ChatStoreError", "Progress", "ProgressBars", "Services", "abstention_hint", "answer_markdown", "as_json_line", "crossing_note",
    "document_html", "echo", "fail", "grade_line", "inert", "location", "main", "markdown", "passage_html", "settings_with", "source_html", "source_label", "typed",
]
