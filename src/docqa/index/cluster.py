"""Ingest on a Ray cluster: workers read, segment, chunk and embed; this process alone writes the index."""

from __future__ import annotations

import os
import socket
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from docqa.config import DEFAULT_LIMITS, FileLimits, Settings
from docqa.index.ingest import Group, Runner
from docqa.index.prepare import Prepared, prepare_group
from docqa.index.scan import CorpusFile, Skipped
from docqa.models import Embedder, embedder_id, load_embedder

RAY_MISSING = "--ray needs Ray, which is not installed; add it with: pip install 'docqa[ray]'"
# A group is split into parts of about this much text, the unit a worker takes: small enough that
# a corpus of small files spreads over every worker, large enough that Ray's ~ms per task is noise.
PART_BYTES = 16 << 10
# Ray's single-machine mode: a cluster started here listens on 127.0.0.1 alone, so private
# documents open no port to the network, and 127.0.0.1 is not rewritten to this host's IP.
LOOPBACK_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
_TOKEN_FILE = Path.home() / ".ray" / "auth_token"
RETRIES = 3  # a worker that dies is restarted, and its part retried, this many times
POLL_S = 2.0  # how often a wait for a part checks that the cluster is still there
STALL_S = 600.0  # no part done for this long: the cluster is stuck (a part takes seconds)


class ClusterError(RuntimeError):
    """The cluster could not be reached or failed mid-build; the message says what to do."""


@dataclass(frozen=True)
class Shipped:
    """One file as a worker receives it: its bytes, so workers need no storage shared with this machine."""

    rel: str
    name: str
    sha: str
    mtime: float
    size: int
    data: bytes


class Worker:
    """A Ray actor: loads the embedder once, then prepares part after part."""

    def __init__(self, embedder: str, threads: int, budget: int, chunk_vectors: str, limits: FileLimits = DEFAULT_LIMITS) -> None:
        self._embedder: Embedder = load_embedder(embedder, threads)
        self._budget, self._chunk_vectors, self._limits = budget, chunk_vectors, limits

    def embedder_id(self) -> str:
        """Which must match the index's: every node needs the same docqa and embedder package."""
        return self._embedder.id

    def prepare(self, files: list[Shipped]) -> Prepared:
        # Extraction reads a path with the file's own name and suffix; the bytes are written under one.
        with tempfile.TemporaryDirectory(prefix="docqa-worker-") as tmp:
            group = []
            for n, f in enumerate(files):
                path = Path(tmp) / str(n) / f.name
                path.parent.mkdir()
                path.write_bytes(f.data)
                group.append((CorpusFile(f.rel, path, f.mtime, f.size), f.sha))
            return prepare_group(group, self._budget, lambda: self._embedder, self._chunk_vectors, limits=self._limits)


def ray_runner(settings: Settings, address: str | None, workers: int | None = None,
               log: Callable[[str], None] = lambda m: None) -> Runner:
    """Prepare groups on a Ray cluster: at `address` (host:port or ray://host:port), the one
    RAY_ADDRESS names, or else a local one started here on 127.0.0.1 and stopped afterwards."""

    def run(groups: Iterator[Group]) -> Iterator[Prepared]:
        target = address or os.environ.get("RAY_ADDRESS", "")  # "": start a local cluster
        ray = _import_ray(target)
        _connect(ray, target)
        try:
            yield from _on_cluster(ray, settings, groups, workers, log)
        except ray.exceptions.RayError as err:
            raise ClusterError(
                f"the Ray cluster failed during the build ({type(err).__name__}: {_first_line(err)}); "
                "the previous index is untouched; check the cluster and run `docqa index --ray` again"
            ) from None
        finally:
            ray.shutdown()

    return run


def _import_ray(target: str) -> Any:
    host = target.removeprefix("ray://").rsplit(":", 1)[0]
    if host in ("", "127.0.0.1", "localhost"):
        for key, value in LOOPBACK_ENV.items():  # read when Ray is imported, so set first
            os.environ.setdefault(key, value)
    if target and "RAY_AUTH_MODE" not in os.environ and (os.environ.get("RAY_AUTH_TOKEN") or _TOKEN_FILE.is_file()):
        os.environ["RAY_AUTH_MODE"] = "token"  # `ray start` enables token auth; its token is beside us
    try:
        import ray
    except ImportError:
        raise ClusterError(RAY_MISSING) from None
    return ray


def _connect(ray: Any, target: str) -> None:
    # Ray itself retries an unreachable address for over ten minutes (measured: 13.7), so ask first.
    if target not in ("", "auto") and (reason := _unreachable(target, timeout=10)):
        raise ClusterError(f"cannot reach a Ray cluster at {target} ({reason}); start one with `ray start --head` "
                           "or check the address (host:port or ray://host:port)")
    try:
        ray.init(address=target or None, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    except (ConnectionError, RuntimeError, ValueError) as err:
        raise ClusterError(
            f"cannot reach a Ray cluster at {target or 'this machine'} ({_first_line(err)}); start one with "
            "`ray start --head` or check the address"
        ) from None


def _unreachable(target: str, timeout: float) -> str:
    """Why nothing accepts connections at host:port (or ray://host:port), or "" when something does."""
    host, _, port = target.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except ValueError:
        return "not host:port"
    except OSError as err:
        return err.strerror or str(err)
    return ""


def _on_cluster(ray: Any, settings: Settings, groups: Iterator[Group], workers: int | None,
                log: Callable[[str], None]) -> Iterator[Prepared]:
    from ray.util import ActorPool

    gcs = ray.get_runtime_context().gcs_address
    count = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    actor = ray.remote(num_cpus=1, max_restarts=RETRIES, max_task_retries=RETRIES)(Worker)
    actors = [actor.remote(settings.embedder, 1, settings.chunk_tokens, settings.chunk_vectors, settings.file_limits())
              for _ in range(count)]
    wanted = embedder_id(settings.embedder)
    for found in ray.get([a.embedder_id.remote() for a in actors]):
        if found != wanted:
            raise ClusterError(f"a worker's embedder is {found}, not {wanted}; install the same docqa on every node")
    log(f"{count} Ray workers ready")
    pool = ActorPool(actors)
    waiting: deque[tuple[int, list[Skipped]]] = deque()  # per group submitted: its parts, its unreadable files

    def submit(group: Group) -> None:
        shipped, unreadable = _ship(group)
        parts = _parts(shipped)
        for part in parts:
            pool.submit(lambda a, p: a.prepare.remote(p), part)
        waiting.append((len(parts), unreadable))

    for group in groups:
        submit(group)  # one group ahead, so the workers never wait for this process to write
        if len(waiting) > 1:
            yield _collect(pool, gcs, *waiting.popleft())
    while waiting:
        yield _collect(pool, gcs, *waiting.popleft())


def _ship(group: Group) -> tuple[list[Shipped], list[Skipped]]:
    shipped, unreadable = [], []
    for f, sha in group:
        try:
            shipped.append(Shipped(f.rel, f.path.name, sha, f.mtime, f.size, f.path.read_bytes()))
        except OSError as err:
            unreadable.append(Skipped(f.rel, f"cannot read file: {err.strerror or err}"))
    return shipped, unreadable


def _parts(files: list[Shipped]) -> list[list[Shipped]]:
    parts: list[list[Shipped]] = [[]]
    size = 0
    for f in files:
        if parts[-1] and size + f.size > PART_BYTES:
            parts.append([])
            size = 0
        parts[-1].append(f)
        size += f.size
    return [p for p in parts if p]


def _collect(pool: Any, gcs: str, parts: int, unreadable: list[Skipped]) -> Prepared:
    """The group's parts, in order, joined into one (a group of unreadable files has none)."""
    joined = join([_next(pool, gcs) for _ in range(parts)])
    return replace(joined, unreadable=joined.unreadable + unreadable)


def _next(pool: Any, gcs: str) -> Prepared:
    """The next part's result. A driver whose cluster went away waits forever in Ray's own calls,
    so the wait is in slices, with the cluster's control service (GCS) checked between them."""
    waited = 0.0
    while True:
        try:
            return pool.get_next(timeout=POLL_S)
        except TimeoutError:
            waited += POLL_S
        if reason := _unreachable(gcs, timeout=POLL_S):
            raise ClusterError(f"the Ray cluster went away during the build ({gcs}: {reason}); "
                               "the previous index is untouched; restart the cluster and run `docqa index --ray` again")
        if waited >= STALL_S:
            raise ClusterError(f"no Ray worker finished a part in {STALL_S:.0f} s; the previous index is untouched; "
                               "check the cluster (`ray status`) and run `docqa index --ray` again")


def join(parts: list[Prepared]) -> Prepared:
    """Parts prepared apart, as one: documents and vectors in the parts' order, times summed."""
    with_vectors = [p for p in parts if p.sentence_vecs.size]

    def stack(name: str) -> np.ndarray:
        arrays = [getattr(p, name) for p in with_vectors]
        return np.concatenate(arrays) if arrays else np.zeros((0, 0), np.float32)

    return Prepared(
        [d for p in parts for d in p.pending], stack("chunk_vecs"), stack("sentence_vecs"),
        [s for p in parts for s in p.unusable], [s for p in parts for s in p.unreadable],
        sum(p.read_s for p in parts), sum(p.embed_s for p in parts), sum(p.embedded for p in parts),
    )


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
