"""The one place models are loaded: lazily, once per process, shared by the CLI and the app."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from docqa.answer import DEFAULT_OFF, Asker, Event, Policy, Recogniser, Turn, Waiting, recogniser_for
from docqa.config import Settings, UserError
from docqa.index import BuildReport, IndexReader, Progress, StaleFile, build_index, langs_read, page_png, stale_files
from docqa.interfaces.chats import FILE as CHATS_FILE
from docqa.interfaces.chats import ChatStore
from docqa.interfaces.rebuild import build_in_child
from docqa.models import (
    LLM,
    LLM_FILENAME,
    Embedder,
    Gate,
    ModelChoiceError,
    ModelInfo,
    ModelServerError,
    Profile,
    chosen_path,
    describe,
    load_embedder,
    load_profile,
    served_info,
    served_llm,
)
from docqa.search import Reranker

PAGES_KEPT = 16  # page images with a mark, ~0.3 MB each


class Services:
    """Holds settings and lazily loaded models; UIs depend on this, not on faiss or llama_cpp."""

    def __init__(
        self, settings: Settings, embedder: Embedder | None = None, llm: LLM | None = None, profile: Profile | None = None,
    ) -> None:
        self.settings = settings
        self._embedder = embedder
        self._injected = embedder is not None  # a test's fake lives in this process only
        self._llm = llm
        # An injected model (a test's fake) is uncalibrated unless given a profile.
        self._profile = profile if profile is not None or llm is None else Profile("injected")
        self._model: ModelInfo | None = None
        self._lock = threading.Lock()
        self._llm_lock = threading.Lock()
        self._reader: IndexReader | None = None
        self._reranker: Reranker | None = None
        # Sessions take turns at the model: one at a time in process, a server's slots at once.
        self._gate = Gate(settings.llm_slots if settings.llm_url else 1)
        # Pages shown with a sentence marked: a scanned page's marks take an OCR pass (seconds), and
        # the page reruns on every click while it is shown.
        self._pages: dict[tuple[str, int, str, float], tuple[bytes, bool] | None] = {}

    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = load_embedder(self.settings.embedder, self.settings.threads)
            return self._embedder

    def llm(self) -> LLM:
        with self._llm_lock:
            if self._llm is None and self.settings.llm_url:
                # Built without a request: a server that is down is said at the first question,
                # and a later question reaches it once it is back.
                from docqa.answer import system_for

                served = served_llm(self.settings)
                served.warm(system_for(self.settings.context))
                self._llm = served
            if self._llm is None:
                from docqa.answer import READING, system_for
                from docqa.models import LlamaCppLLM

                # Passages and a whole document need room: up to ~2,000 tokens beside the system message.
                n_ctx = 4096 if self.settings.context in READING else 2048
                llm = LlamaCppLLM(chosen_path(self.settings), self.settings.threads, n_ctx)
                # The evaluated system prefix is kept beside the models, so a cold `docqa ask`
                # loads it instead of evaluating it again (docs/benchmarks.md, "Answers").
                llm.warm(system_for(self.settings.context), cache=self.settings.models_dir / "cache")
                self._llm = llm
            return self._llm

    def model(self) -> ModelInfo:
        """The chosen model file: its name, template source and calibration."""
        with self._llm_lock:
            if self._model is None and self.settings.llm_url:
                # Named, or the server's first (asked of it); calibrated per address and name.
                name = self.settings.llm_model or served_llm(self.settings).model_name()
                self._model = served_info(self.settings.llm_url, name, self.settings.models_dir)
            if self._model is None:
                self._model = describe(chosen_path(self.settings), self.settings, chosen=True)
            return self._model

    def model_line(self) -> str:
        """The chosen model in one line, without assembling or loading anything that is missing."""
        injected = self._llm is not None and not self.settings.llm_url and not hasattr(self._llm, "format")
        if injected and self._model is None:
            state = "calibrated" if self.profile().calibrated else "uncalibrated: the NOT_FOUND guard is off"
            return f"{self._llm.id} (injected), {state}"
        path = self.settings.llm_path or self.settings.models_dir / LLM_FILENAME
        if not self.settings.llm_url and not path.is_file():
            return f"{path} is not there yet; run `docqa models` (or check DOCQA_LLM)"
        try:
            return self.model().summary
        except (ModelChoiceError, ModelServerError) as err:
            return str(err)

    def profile(self) -> Profile:
        if self._profile is None:
            info = self.model()
            self._profile = load_profile(info.sha256, self.settings.models_dir)
        return self._profile

    def policy(self, off: frozenset[str] | None = None) -> Policy:
        """The guards in force (`guards.DEFAULT_OFF` off, unless `off` says otherwise) with the model's bar."""
        return Policy(DEFAULT_OFF if off is None else off, self.profile().not_found_prob)

    def warm(self) -> None:
        """Load what the first question would otherwise wait for: both models, the embedder's first
        call, the shape examples' vectors, the language identifier, and the dictionaries for the
        languages users ask in most (Spanish, English)."""
        from docqa.answer import load_dictionaries
        from docqa.index import detect_language

        self.embedder().embed_queries(["warm-up"])
        self.shapes().bank()  # the shape examples' vectors, read from the models' cache once there
        self.llm()
        detect_language("¿Dónde se reunirán las delegaciones?", "es")
        load_dictionaries(("es", "en"))

    def stream(self, question: str, history: Sequence[Turn] = (), k: int = 8) -> Iterator[Event]:
        """An answer's events, after this session's turn at the model comes: while others are
        answered it hears how many are ahead (Waiting), never a silent page."""
        entry = self._gate.enter()
        try:
            for ahead in entry:
                yield Waiting(ahead)
        finally:
            entry.close()  # a session gone while in line leaves it
        try:
            yield from self.asker().stream(question, history, k)
        finally:
            self._gate.leave()

    def with_embedder(self, embedder: Embedder) -> Services:
        """The same settings and loaded models with another embedder (one that remembers, say)."""
        other = Services(self.settings, embedder)
        other._llm, other._profile, other._reranker, other._model = self._llm, self._profile, self._reranker, self._model
        other._gate = self._gate
        return other

    def reranker(self) -> Reranker | None:
        with self._llm_lock:
            if self._reranker is None and self.settings.reranker:
                from docqa.search import CrossEncoderReranker

                self._reranker = CrossEncoderReranker(self.settings.reranker, self.settings.threads)
            return self._reranker

    def asker(self, policy: Policy | None = None, llm: LLM | None = None) -> Asker:
        """An answerer with `policy` (the model's own by default) and `llm` (the loaded model by default)."""
        model = self.llm if llm is None else (lambda: llm)
        calibration = None if policy is not None else (lambda: self.profile().not_found_prob)
        return Asker(self.reader, self.embedder(), model, reranker=self.reranker(), policy=policy, calibration=calibration,
                     context=self.settings.context, shapes=self.shapes())

    def shapes(self) -> Recogniser:
        """The shape recogniser of the embedder, its examples' vectors kept beside the models."""
        return recogniser_for(self.embedder(), self.settings.models_dir / "cache")

    def build(self, rebuild: bool = False, progress: Progress | None = None, ray: str | None = None,
              workers: int | None = None) -> BuildReport:
        """Bring the index in line with the corpus; with `ray` ("local" or an address), the changed
        files are read and embedded on a Ray cluster's workers (docs/scale.md)."""
        runner = None
        if ray is not None:
            from docqa.index import ray_runner

            runner = ray_runner(self.settings, None if ray == "local" else ray, workers)
        return build_index(self.settings, self.embedder, rebuild=rebuild, progress=progress, runner=runner)

    def rebuild(self, progress: Progress | None = None) -> BuildReport:
        """`build()` in a child process, for the page: whatever a document does to the build (memory
        exhausted, a reader crashing) ends the child, never the server; raises RebuildFailed."""
        if self._injected:
            return self.build(progress=progress)
        return build_in_child(self.settings, progress)

    def reader(self) -> IndexReader:
        """The current index, reopened when a newer build has been published."""
        from docqa.models import embedder_id

        with self._lock:
            if self._reader is None or not self._reader.is_latest():
                self._reader = IndexReader(self.settings.index, embedder_id(self.settings.embedder))
            return self._reader

    def chats(self) -> ChatStore:
        """The conversation store beside the index (a new connection: one per page session)."""
        return ChatStore(self.settings.index / CHATS_FILE)

    def versions(self, paths: Iterable[str]) -> dict[str, str]:
        """Each document's sha256 as indexed now ("" for one no longer indexed)."""
        docs = self.reader().store.documents()
        return {p: docs[p].sha256 if p in docs else "" for p in paths}

    def status(self) -> dict[str, Any]:
        reader = self.reader()
        counts = reader.store.counts()
        return {
            **counts,
            "embedder": reader.manifest.embedder_id,
            "built_at": reader.manifest.built_at,
            "version": reader.version,
            "index": str(self.settings.index),
            "corpus": str(self.settings.corpus),
            "stale": self._stale(reader),
            # Files the last build could not index, with the reason and the fix; unchanged since.
            "skipped": [{"path": p, "reason": r.reason} for p, r in sorted(reader.store.skipped().items())
                        if (self.settings.corpus / p).is_file()],
            "files": reader.store.catalogue(),
            "model": self.model_line(),
            "model_calibrated": self._calibrated(),
            "vectors": {"chunks": reader.vectors.spec.to_dict(), "sentences": reader.sentence_vectors.spec.to_dict()},
        }

    def library(self, status: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every indexed document: path, type, size, sentences, when its file was last modified as
        indexed, and how it changed since the build ("" when it did not). From `status()`'s files and
        stale list when given, which the page has just read: the corpus is not scanned twice."""
        if status is None:
            reader = self.reader()
            status = {"files": reader.store.catalogue(), "stale": self._stale(reader)}
        stale = {s["path"]: s["change"] for s in status["stale"]}
        return [{"path": f["path"], "type": Path(str(f["path"])).suffix.lstrip(".").lower(), "size": f["size"],
                 "sentences": f["sentences"], "modified": f["modified"], "stale": stale.get(str(f["path"]), ""),
                 "read": str(f.get("encoding", ""))}
                for f in status["files"]]

    def _stale(self, reader: IndexReader) -> list[dict[str, str]]:
        """The corpus files changed since the build, and how."""
        found: list[StaleFile] = stale_files(reader, self.settings.corpus, int(self.settings.max_file_mb * 1e6))
        return [{"path": s.path, "change": s.change} for s in found]

    def page_image(self, doc_path: str, page: int, sentence: str) -> tuple[bytes, bool] | None:
        """A PDF source's page as PNG with the cited sentence marked, and whether it was found there;
        None for other files, or when the file is no longer in the corpus."""
        path = self.settings.corpus / doc_path
        if not doc_path.lower().endswith(".pdf") or not page or not path.is_file():
            return None
        key = (doc_path, page, sentence, path.stat().st_mtime)
        with self._lock:
            if key in self._pages:
                return self._pages[key]
        doc = self.reader().store.document(doc_path)
        shown = page_png(path, page, sentence, langs_read(doc.encoding) if doc is not None else "")
        with self._lock:
            while len(self._pages) >= PAGES_KEPT:
                self._pages.pop(next(iter(self._pages)))
            self._pages[key] = shown
        return shown

    def delete_document(self, path: str, progress: Progress | None = None) -> BuildReport:
        """Delete an indexed document's file from the corpus, then update the index incrementally (the
        old version answers until the new one is published)."""
        corpus = self.settings.corpus.resolve()
        # The folder is resolved, never the file: a link in the corpus is removed itself, and what it
        # points at (inside the corpus or out of it) is left alone.
        named = corpus / path
        target = named.parent.resolve() / named.name
        if path not in self.reader().store.documents() or corpus not in target.parents or named.name in ("", ".", ".."):
            raise DocumentError(f"{path} is not an indexed document of {corpus}; `docqa docs list` shows them")
        try:
            target.unlink(missing_ok=True)
        except OSError as err:
            raise DocumentError(f"cannot delete {target} ({err.strerror}); check the corpus folder's permissions") from None
        return self.build(progress=progress)

    def missing_sources(self, paths: list[str]) -> list[str]:
        """Of the documents `paths` (an answer's citations), those deleted from the corpus since the
        build: the index still quotes them, but the user cannot open the file any more."""
        corpus = self.settings.corpus
        return [p for p in dict.fromkeys(paths) if not (corpus / p).is_file()]

    def _calibrated(self) -> bool:
        try:
            return self.profile().calibrated
        except (ModelChoiceError, ModelServerError, OSError):
            return False


class DocumentError(UserError):
    """A document the library cannot act on; the message says which and what to do."""


def with_embedder(settings: Settings, factory: Callable[[], Embedder]) -> Services:
    """Services with an injected embedder, for tests and benchmarks."""
    return Services(settings, factory())
