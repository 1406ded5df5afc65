"""The question as typed: control characters made spaces, and why it cannot be asked, if so."""

from __future__ import annotations

MAX_QUESTION_CHARS = 2000  # with the evidence and the system prompt, well inside the model's 2,048 tokens
_CONTROL = str.maketrans({c: " " for c in [*map(chr, range(32)), "\x7f"] if c not in "\n\t"})


def clean_question(question: str) -> tuple[str, str]:
    """The question with its control characters made spaces (its own spacing kept, so an ordinary
    question reaches the model as typed), and "" or why it cannot be asked, with the fix."""
    text = question.translate(_CONTROL)
    size = len(" ".join(text.split()))  # runs of spaces are not what makes a question too long
    if not any(c.isalnum() for c in text):
        return text, "The question is empty (or has no letters or digits); type a question about your documents."
    if size > MAX_QUESTION_CHARS:
        return text, f"The question is too long ({size:,} characters, at most {MAX_QUESTION_CHARS:,}); shorten it."
    return text, ""
