"""Start and stop a real `shopassist serve` process for end-to-end tests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli() -> list[str]:
    exe = shutil.which("shopassist", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "api"]


def server_env(data: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SHOPASSIST_DATA_DIR": str(data),
        "SHOPASSIST_ENCODER": "hashing",
        "SHOPASSIST_IMAGE_EMBEDDER": "histogram",
        "SHOPASSIST_RATE_LIMIT_PER_IP": "100000/minute",
        "HF_HUB_OFFLINE": "1",
    }


def prepare(data: Path, nlu_model_dir: Path) -> subprocess.CompletedProcess[str]:
    """`shopassist setup` on a fresh data dir that already holds the session's NLU model."""
    (data / "models").mkdir(parents=True, exist_ok=True)
    if not (data / "models" / "nlu").exists():
        shutil.copytree(nlu_model_dir, data / "models" / "nlu")
    return subprocess.run(
        [*cli(), "setup"], cwd=REPO, env=server_env(data), capture_output=True, text=True, timeout=600
    )


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    base: str
    log: Path | None = None

    def log_text(self) -> str:
        """What the server wrote (its request log included)."""
        if self.log is None or not self.log.exists():
            return ""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self, *, hard: bool = False) -> None:
        if hard:
            self.proc.kill()
        else:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def start(data: Path, *, timeout_s: float = 90, env: dict[str, str] | None = None) -> Server:
    """``shopassist serve`` on a free port over ``data``; ``env`` adds or overrides variables."""
    port = free_port()
    # a file, not a pipe: a busy server's request log would fill a pipe nobody reads and block it
    log = data.parent / f"server-{port}.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [*cli(), "serve", "--port", str(port)],
            cwd=REPO,
            env={**server_env(data), **(env or {})},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = log.read_text(encoding="utf-8", errors="replace")
            raise RuntimeError(f"server exited with {proc.returncode}: {err[-2000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return Server(proc, base, log)
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not become healthy in time")
