"""The index side: files read, cut into sentences and chunks, embedded, published, and opened for reading."""

from __future__ import annotations

from docqa.index.chunk import estimate_tokens, make_chunks
from docqa.index.cluster import ClusterError, ray_runner
from docqa.index.extract import SkipFile
from docqa.index.extract import extract as extract_file
from docqa.index.ingest import BuildReport, NothingIndexed, Progress, build_index
from docqa.index.layout import (
    MANIFEST,
    SCHEMA_VERSION,
    SENTENCE_VECTORS,
    STORE,
    VECTORS,
    IndexError_,
    Manifest,
    damage_message,
    new_staging,
    publish,
)
from docqa.index.lexical import fold, folded_words, in_dictionary, query_terms, stem, terms, terms_found
from docqa.index.localray import start as start_local_cluster
from docqa.index.localray import stop as stop_local_cluster
from docqa.index.ocr import OCR_MARK, langs_read, pages_read
from docqa.index.pdfpage import page_png
from docqa.index.pdftables import TableRow, parse_row
from docqa.index.reader import IndexReader, StaleFile, stale_files
from docqa.index.segment import detect_language, title
from docqa.index.store import SentenceRow, Store
from docqa.index.uploads import save_uploads
from docqa.index.vecbuild import VectorBuilder
from docqa.index.vectors import GRAPH_EF_SEARCH, GRAPH_M, HNSW, IVF, Spec, VectorIndex

__all__ = [
    "GRAPH_EF_SEARCH",
    "GRAPH_M",
    "HNSW",
    "IVF",
    "MANIFEST",
    "OCR_MARK",
    "SCHEMA_VERSION",
    "SENTENCE_VECTORS",
    "STORE",
    "VECTORS",
    "BuildReport",
    "ClusterError",
    "IndexError_",
    "IndexReader",
    "Manifest",
    "NothingIndexed",
    "Progress",
    "SentenceRow",
    "SkipFile",
    "Spec",
    "StaleFile",
    "Store",
    "TableRow",
    "VectorBuilder",
    "VectorIndex",
    "build_index",
    "damage_message",
    "detect_language",
    "estimate_tokens",
    "extract_file",
    "fold",
    "folded_words",
    "in_dictionary",
    "langs_read",
    "make_chunks",
    "new_staging",
    "page_png",
    "pages_read",
    "parse_row",
    "publish",
    "query_terms",
    "ray_runner",
    "save_uploads",
    "stale_files",
    "start_local_cluster",
    "stem",
    "stop_local_cluster",
    "terms",
    "terms_found",
    "title",
]
