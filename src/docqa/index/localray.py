"""A Ray cluster on this machine, on 127.0.0.1, for the bench and the tests: started, and stopped alone."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from docqa.index.cluster import LOOPBACK_ENV


@dataclass(frozen=True)
class LocalCluster:
    address: str
    temp: Path  # Ray's session folder; every process of this cluster is started with it


def start(cpus: int) -> LocalCluster:
    """A head with `cpus` CPUs (so that many worker processes) listening on 127.0.0.1 alone."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    temp = Path(tempfile.mkdtemp(prefix="dq-ray-", dir="/tmp"))  # short: Ray's socket paths must fit 107 bytes
    cli = Path(sys.executable).parent / "ray"
    done = subprocess.run(
        [str(cli), "start", "--head", f"--port={port}", f"--num-cpus={cpus}", "--include-dashboard=false",
         "--disable-usage-stats", f"--temp-dir={temp}"],
        check=False, capture_output=True, text=True, timeout=180,
        env={**os.environ, **LOOPBACK_ENV, "RAY_USAGE_STATS_ENABLED": "0"},
    )
    if done.returncode != 0:
        stop(LocalCluster("", temp))
        raise RuntimeError(f"`ray start` failed: {done.stderr.strip()[-500:]}")
    return LocalCluster(f"127.0.0.1:{port}", temp)


def stop(cluster: LocalCluster) -> None:
    """Kill this cluster's processes and their children (workers, agents), not every cluster on the
    machine as `ray stop` would."""
    parents: dict[int, int] = {}
    roots: set[int] = set()
    for proc in Path("/proc").iterdir():
        try:
            parents[int(proc.name)] = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if str(cluster.temp) in (proc / "cmdline").read_bytes().decode(errors="ignore"):
                roots.add(int(proc.name))
        except (ValueError, OSError, IndexError):
            continue
    doomed = set(roots)
    while grown := {pid for pid, parent in parents.items() if parent in doomed} - doomed:
        doomed |= grown
    for pid in doomed - {os.getpid()}:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    shutil.rmtree(cluster.temp, ignore_errors=True)
