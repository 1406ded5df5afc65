"""A generated corpus of any size for the scale bench: real words at their real frequencies, in
topics, with cheap vectors shaped like real embeddings: a shared cone, topic clusters, word detail."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from docqa.types import Document, Sentence

SENTENCES_PER_DOC = 30
WORDS_PER_SENTENCE = (18, 40)
TOPIC_WORDS = 150  # each topic's own vocabulary
TOPIC_SHARE = 0.4  # share of a sentence's words drawn from its topic
DOCS_PER_TOPIC = 20
# A vector's parts (squared weights): one direction all texts share (multilingual-e5's vectors sit
# in a narrow cone: unrelated texts score ~0.7), its topic's direction, and its own words.
SHARED, TOPIC, WORDS = 0.70, 0.15, 0.15


@dataclass(frozen=True)
class GeneratedDoc:
    doc: Document
    sentences: list[Sentence]
    vectors: np.ndarray  # one per sentence, normalised
    topic: np.ndarray  # the topic's direction


class Generator:
    """Documents in topics: each sentence mixes words drawn at the corpus's own frequencies with
    words of its topic. A word has a fixed random direction; a text's vector is the idf-weighted
    sum of its words', so texts of one topic cluster, as real embeddings of one subject do."""

    def __init__(self, words: list[str], counts: np.ndarray, dim: int = 384, seed: int = 0) -> None:
        self.words = words
        self.rng = np.random.default_rng(seed)
        self.p = counts / counts.sum()
        # Rare words weigh more, as they do in meaning (an idf weight).
        self.weight = np.log(counts.sum() / counts).astype(np.float32)
        self.table = self.rng.standard_normal((len(words), dim)).astype(np.float32)
        self.dim = dim
        self.shared = self._unit(self.rng.standard_normal(dim))
        self.index = {w: i for i, w in enumerate(words)}

    @classmethod
    def from_folder(cls, folder: Path, dim: int = 384, seed: int = 0) -> Generator:
        counts: Counter[str] = Counter()
        for path in sorted(folder.rglob("*.txt")):
            counts.update(re.findall(r"[^\W\d_]+", path.read_text("utf-8", "ignore").lower()))
        words = [w for w, _ in counts.most_common()]
        return cls(words, np.array([counts[w] for w in words], dtype=np.float64), dim, seed)

    @staticmethod
    def _unit(v: np.ndarray) -> np.ndarray:
        return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)

    def vector(self, word_ids: np.ndarray, topic: np.ndarray) -> np.ndarray:
        words = self._unit((self.table[word_ids] * self.weight[word_ids, None]).sum(axis=0))
        return self._unit(SHARED**0.5 * self.shared + TOPIC**0.5 * topic + WORDS**0.5 * words)

    def documents(self, n_docs: int, start: int = 0) -> Iterator[GeneratedDoc]:
        tail = np.arange(len(self.words) // 10, len(self.words))  # topics draw from the rarer words
        for d in range(start, start + n_docs):
            rng = np.random.default_rng(d // DOCS_PER_TOPIC)
            topic = rng.choice(tail, TOPIC_WORDS, replace=False)
            yield self._document(d, topic, self._unit(rng.standard_normal(self.dim)))

    def _document(self, d: int, topic: np.ndarray, direction: np.ndarray) -> GeneratedDoc:
        texts, ids = [], []
        for _ in range(SENTENCES_PER_DOC):
            n = int(self.rng.integers(*WORDS_PER_SENTENCE))
            own = self.rng.random(n) < TOPIC_SHARE
            w = np.where(own, self.rng.choice(topic, n), self.rng.choice(len(self.words), n, p=self.p))
            ids.append(w)
            text = " ".join(self.words[i] for i in w)
            texts.append(text[:1].upper() + text[1:] + ".")
        body = " ".join(texts)
        doc = Document(f"gen/{d // 1000:04d}/{d:07d}.txt", f"{d:064x}", 0.0, len(body), body, "es")
        sentences, offset = [], 0
        for seq, text in enumerate(texts):
            sentences.append(Sentence(doc.path, seq, offset, offset + len(text), text, seq // 5, 0))
            offset += len(text) + 1
        return GeneratedDoc(doc, sentences, np.stack([self.vector(w, direction) for w in ids]), direction)

    def query(self, doc: GeneratedDoc, n_words: int = 8, n_common: int = 3) -> tuple[str, np.ndarray]:
        """A short question-like query from one of the document's sentences: its rarest words, and,
        as real questions have ("¿Cuántos puntos ... en defensa los Panthers?"), its most common ones."""
        s = doc.sentences[int(self.rng.integers(len(doc.sentences)))]
        ids = sorted({self.index[w] for w in re.findall(r"[^\W\d_]+", s.text.lower())}, reverse=True)
        rare, common = ids[:n_words], ids[-n_common:] if n_common else []
        return " ".join(self.words[i] for i in rare + common), self.vector(np.array(rare), doc.topic)
