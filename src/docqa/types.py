"""Frozen dataclasses that join the pipeline stages: Document → Sentence → Chunk → Hit → Answer."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Document:
    """A file's extracted text; offsets elsewhere point into `text`."""

    path: str  # relative to the corpus root, with forward slashes
    sha256: str
    mtime: float
    size: int
    text: str
    lang: str = "en"
    # Character offset where each PDF page starts; empty for formats without pages.
    page_starts: tuple[int, ...] = ()
    encoding: str = ""  # how a text file's bytes were read ("utf-8", "windows-1252"...); "" for PDF, DOCX

    def page_at(self, offset: int) -> int | None:
        """1-based page holding `offset`, or None for documents without pages."""
        if not self.page_starts:
            return None
        page = 0
        for i, start in enumerate(self.page_starts):
            if start <= offset:
                page = i
            else:
                break
        return page + 1


@dataclass(frozen=True)
class Sentence:
    doc_path: str
    seq: int  # position inside the document
    start: int  # character offsets into Document.text, end exclusive
    end: int
    text: str
    paragraph: int
    section: int
    page: int | None = None


@dataclass(frozen=True)
class Chunk:
    doc_path: str
    seq: int
    sentence_seqs: tuple[int, ...]  # consecutive Sentence.seq values
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Hit:
    """A retrieved sentence inside its chunk, with the scores that ranked it."""

    sentence_id: int
    chunk_id: int
    doc_path: str
    text: str
    start: int
    end: int
    page: int | None
    score: float
    dense: float = 0.0
    lexical: float = 0.0


@dataclass(frozen=True)
class Citation:
    n: int
    doc_path: str
    sentence: str
    start: int
    end: int
    page: int | None
    score: float


@dataclass(frozen=True)
class AnswerSentence:
    text: str
    citations: tuple[int, ...]  # Citation.n values
    supported: bool


# An answer's grade (answer/grade.py): every sentence stated by the sentence it cites; shown but not
# confirmed by the documents; withdrawn, only where the documents clearly lack it.
VERIFIED, UNVERIFIED, NOT_FOUND = "verified", "unverified", "not_found"
GRADES = (VERIFIED, UNVERIFIED, NOT_FOUND)


@dataclass(frozen=True)
class Answer:
    text: str  # the answer with verified [n] markers
    abstained: bool  # withdrawn: graded not_found
    lang: str = "en"
    citations: tuple[Citation, ...] = ()
    sentences: tuple[AnswerSentence, ...] = ()
    retrieved: tuple[Hit, ...] = ()  # everything retrieved, for "show retrieved" and abstention hints
    reason: str = ""  # why it abstained, in words: a word never mentioned, weak evidence, no answer from the model, a failed check
    timings: dict[str, float] = field(default_factory=dict)
    draft: str = ""  # the model's raw reply before verification, for diagnosis
    # The question with a misspelt name as the documents spell it ("Blinkin" → "Blinken"), to offer.
    suggestion: str = ""
    # The model's own signals, e.g. not_found: its probability of replying NOT_FOUND.
    signals: dict[str, float] = field(default_factory=dict)
    # The question as the model translated it into the sources' language for the checks ("" if not).
    translated_question: str = ""
    # What kind of answer it is (answer/shapes.py: "fact", "list", "summary"…; "catalogue" for one
    # line per document): a list shows one item a line.
    shape: str = ""
    # VERIFIED, UNVERIFIED or NOT_FOUND; left "" it is read off the rest (an answer kept before grades).
    grade: str = ""

    def __post_init__(self) -> None:
        if not self.grade:
            supported = all(s.supported for s in self.sentences)
            object.__setattr__(self, "grade", NOT_FOUND if self.abstained else VERIFIED if supported else UNVERIFIED)

    def closest(self, n: int = 2) -> tuple[Hit, ...]:
        """What the documents say closest to the question, shown beside an abstention and marked as
        not an answer: the best-ranked retrieved sentences, one a chunk."""
        chunks: set[int] = set()
        out = []
        for hit in sorted(self.retrieved, key=lambda h: -h.score):
            if hit.chunk_id not in chunks:
                chunks.add(hit.chunk_id)
                out.append(hit)
        return tuple(out[:n])

    @property
    def plain(self) -> str:
        """The answer's sentences without citation markers (the abstention sentence when it abstained)."""
        return " ".join(s.text for s in self.sentences) or self.text
