"""With ``SHOPASSIST_LLM`` unset, a whole chat turn through the API imports nothing of LangChain."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SCRIPT = """
import json, sys
from pathlib import Path
from fastapi.testclient import TestClient
from api.app import create_app
from assistant.catalog import ingest_catalog
from assistant.config import Settings
from assistant.runtime import Runtime

settings = Settings()
assert settings.llm is None and settings.encoder == "hashing"
rt = Runtime(settings)
ingest_catalog(path=Path(sys.argv[1]), db=rt.db, index=rt.index)
with TestClient(create_app(runtime=rt)) as client:
    r = client.post("/v1/chat", json={"session_id": None, "message": "show me black watches"})
    assert r.status_code == 200, r.text
    body = r.json()
rt.close()
loaded = sorted(m for m in sys.modules if m.startswith(("langchain", "assistant.llm")))
print(json.dumps({"action": body["action"], "reply": body["reply"], "loaded": loaded}))
"""


def test_a_chat_turn_without_shopassist_llm_loads_no_langchain(
    tmp_path: Path, nlu_model_dir: Path, small_catalog: Path
) -> None:
    data = tmp_path / "var"
    (data / "models").mkdir(parents=True)
    shutil.copytree(nlu_model_dir, data / "models" / "nlu")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPASSIST_")}
    env.update(
        SHOPASSIST_DATA_DIR=str(data),
        SHOPASSIST_ENCODER="hashing",
        SHOPASSIST_IMAGE_EMBEDDER="histogram",
        OMP_NUM_THREADS="1",
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(small_catalog)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["action"] in ("show_products", "ask_clarification") and out["reply"]
    assert out["loaded"] == []


def test_importing_assistant_llm_loads_no_langchain_until_a_name_is_used() -> None:
    code = (
        "import sys, assistant.llm as llm; before = [m for m in sys.modules if m.startswith('langchain')]; "
        "names = {n: getattr(llm, n) is not None for n in llm.__all__}; "
        "print(before, all(names.values()), 'langchain_core' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["[]", "True", "True"]
