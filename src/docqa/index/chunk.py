"""Group consecutive sentences of one section into chunks under a token budget."""

from __future__ import annotations

import re
from collections.abc import Sequence

from docqa.types import Chunk, Document, Sentence

# Measured on the seed article and XQuAD es with the multilingual-e5 tokenizer: about 1.27
# subword tokens per word-or-punctuation unit counted by this pattern (docs/design.md, "Chunks").
_UNITS = re.compile(r"\w+|[^\w\s]")
TOKENS_PER_UNIT = 1.3


def estimate_tokens(text: str) -> int:
    return int(len(_UNITS.findall(text)) * TOKENS_PER_UNIT) + 1


def make_chunks(doc: Document, sentences: Sequence[Sentence], budget: int) -> list[Chunk]:
    """Pack sentences greedily; break at section changes, at the budget, and at a paragraph
    boundary once the chunk is half full, so chunks follow the author's structure."""
    chunks: list[Chunk] = []
    group: list[Sentence] = []
    used = 0

    def flush() -> None:
        nonlocal group, used
        if group:
            start, end = group[0].start, group[-1].end
            chunks.append(
                Chunk(
                    doc_path=doc.path,
                    seq=len(chunks),
                    sentence_seqs=tuple(s.seq for s in group),
                    start=start,
                    end=end,
                    text=doc.text[start:end],
                )
            )
        group, used = [], 0

    for sentence in sentences:
        cost = estimate_tokens(sentence.text)
        if group:
            last = group[-1]
            new_section = sentence.section != last.section
            over = used + cost > budget
            soft_break = sentence.paragraph != last.paragraph and used >= budget // 2
            if new_section or over or soft_break:
                flush()
        group.append(sentence)
        used += cost
    flush()
    return chunks
