"""The README's install promises on the one Python that runs the tests.

* An integration installed without the SDK (``opentelemetry-api`` only, as the README's Packages
  section says it depends on) runs the user's program unchanged: same results, no span, no
  warning (``-W error``), no log record, and nothing of the SDK imported.
* The README's Zero-code block installs what ``examples/zero_code.py`` needs (the table in
  ``examples/README.md``), and, as a slow test, runs exactly as written in a fresh venv.
* What each nox session installs resolves on 3.10 and on 3.13, the quick start's one Python
  (slow: it asks the index).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import venv
from importlib import metadata
from pathlib import Path

import pytest
from packaging.version import Version

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
TIKTOKEN_CACHE = ROOT.parent / "shared" / "tiktoken-cache"

# Both programs report the same way: the results without, then with, our tracing, the log records
# of WARNING and above, and whether anything of the SDK was imported.
_REPORT = """
assert traced == baseline, (baseline, traced)
assert not records, records
assert not [m for m in sys.modules if m.startswith("opentelemetry.sdk") and sys.modules[m]]
print("unchanged:", len(baseline), "results")
"""

_PRELUDE = """
import asyncio, logging, sys
sys.modules["opentelemetry.sdk"] = None  # as if only opentelemetry-api were installed
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(f"{record.name}: {record.getMessage()}")
logging.getLogger().addHandler(Keep(logging.WARNING))
"""

LANGCHAIN_PROGRAM = """
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool

@tool
def add(a: int, b: int) -> int:
    \"\"\"Add two numbers.\"\"\"
    return a + b

def run(callbacks=None):
    model = FakeListChatModel(responses=["one", "two", "three", "four", "five", "six"])
    prompt = ChatPromptTemplate.from_messages([("system", "be brief"), ("user", "{q}")])
    chain = prompt | model | StrOutputParser()
    config = {"callbacks": callbacks} if callbacks else {}

    async def later():
        streamed = [c async for c in chain.astream({"q": "c"}, config=config)]
        return [await chain.ainvoke({"q": "b"}, config=config), "".join(streamed)]

    return [
        chain.invoke({"q": "a"}, config=config),
        chain.batch([{"q": "x"}, {"q": "y"}], config=config),
        "".join(chain.stream({"q": "z"}, config=config)),
        add.invoke({"a": 2, "b": 3}, config=config),
        *asyncio.run(later()),
    ]

baseline = run()
from genai_trace_langchain import LangChainInstrumentor, OpenTelemetryCallbackHandler

instrumentor = LangChainInstrumentor()
instrumentor.instrument()
traced = run()
instrumentor.uninstrument()
assert run(callbacks=[OpenTelemetryCallbackHandler()]) == baseline
"""

LLAMAINDEX_PROGRAM = """
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import ChatMessage, MockLLM

Settings.llm = MockLLM(max_tokens=8)
Settings.embed_model = MockEmbedding(embed_dim=8)
texts = ("Refunds take five days.", "Sale items can be returned.", "We ship worldwide.")

def run():
    index = VectorStoreIndex.from_documents([Document(text=t) for t in texts])
    engine = index.as_query_engine(similarity_top_k=2)
    streamed = index.as_query_engine(streaming=True).query("sale?")
    return [
        str(engine.query("refunds?")),
        "".join(streamed.response_gen),
        str(asyncio.run(engine.aquery("shipping?"))),
        str(Settings.llm.chat([ChatMessage(role="user", content="hi")])),
    ]

baseline = run()
from genai_trace_llamaindex import LlamaIndexInstrumentor

instrumentor = LlamaIndexInstrumentor()
instrumentor.instrument()
traced = run()
instrumentor.uninstrument()
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "GENAI_TRACE_"))}
    if TIKTOKEN_CACHE.is_dir():
        env.setdefault("TIKTOKEN_CACHE_DIR", str(TIKTOKEN_CACHE))
    return env


@pytest.mark.parametrize(
    ("framework", "program"),
    [("langchain_core", LANGCHAIN_PROGRAM), ("llama_index.core", LLAMAINDEX_PROGRAM)],
)
def test_an_integration_without_the_sdk_leaves_the_users_program_unchanged(
    framework: str, program: str, tmp_path: Path
) -> None:
    pytest.importorskip(framework)
    if framework == "llama_index.core" and Version(metadata.version("llama-index-core")) < Version(
        "0.13"
    ):
        pytest.skip("the program uses llama-index-core 0.13+ APIs: not written for 0.12")
    script = tmp_path / "app.py"
    script.write_text(textwrap.dedent(_PRELUDE + program + _REPORT))
    warnings = [
        "-W",
        "error",
        # llama-index-core's own asyncio_run on 3.12+, as in pyproject.toml: not our code
        "-W",
        "ignore:There is no current event loop:DeprecationWarning",
    ]
    done = subprocess.run(
        [sys.executable, *warnings, str(script)],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("unchanged: ")
    assert not (tmp_path / ".genai-trace").exists()


def _zero_code_block() -> str:
    section = README.split("## Zero-code", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "README: no sh block in the Zero-code section"
    return match.group(1)


def _pip_install_names(block: str) -> set[str]:
    line = next(ln for ln in block.splitlines() if ln.startswith("pip install "))
    return {re.sub(r"\[.*\]$", "", Path(arg).name) for arg in shlex.split(line)[2:]}


def test_the_zero_code_install_line_brings_what_the_example_needs() -> None:
    """examples/README.md's table lists what each example needs beyond core[sdk] and its
    integration; the README's zero-code line must install all of it."""
    table = (ROOT / "examples" / "README.md").read_text()
    row = next(ln for ln in table.splitlines() if ln.startswith("| `zero_code.py` |"))
    needs = set(re.findall(r"`([\w.-]+)`", row.split("|")[3]))
    assert needs == {"numpy", "opentelemetry-distro"}
    installed = _pip_install_names(_zero_code_block())
    assert installed >= {"genai-trace-core", "genai-trace-langchain", *needs}


@pytest.mark.slow
def test_the_zero_code_block_runs_as_written_in_a_fresh_venv(tmp_path: Path) -> None:
    """The block itself: its pip line in a fresh venv of this Python (index access needed), then
    its command from the clone's root; the JSONL file is kept out of the clone."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    env = _env() | {
        "VIRTUAL_ENV": str(env_dir),
        "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "GENAI_TRACE_JSONL": str(tmp_path / "traces.jsonl"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _zero_code_block()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("\nA: ") == 2  # the example's two questions, answered
    assert " ERROR " not in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.count("invoke_workflow support_rag") == 2  # one tree per question
    assert (tmp_path / "traces.jsonl").stat().st_size > 0


@pytest.mark.slow
@pytest.mark.parametrize("python", ["3.10", "3.13"])
def test_what_each_nox_session_installs_resolves_on_the_supported_pythons(
    python: str, tmp_path: Path
) -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("needs uv on PATH (the quick start installs it)")
    groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]
    packages = [
        f"{ROOT / 'packages/genai-trace-core'}[sdk]",
        f"{ROOT / 'integrations/genai-trace-langchain'}[instruments]",
        f"{ROOT / 'integrations/genai-trace-llamaindex'}[instruments]",
    ]
    sessions = {  # noxfile.py: _install_all, and the lint and typecheck sessions
        "tests": [*packages, *groups["test"], *groups["frameworks"], *groups["providers"]],
        "lint": groups["lint"],
        "typecheck": [*packages, *groups["test"], *groups["frameworks"], *groups["typecheck"]],
    }
    unresolved = {}
    for session, requirements in sessions.items():
        listed = tmp_path / f"{session}.in"
        listed.write_text("\n".join(requirements) + "\n")
        done = subprocess.run(
            [uv, "pip", "compile", "-q", "--python-version", python, str(listed)],
            env={k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode:
            unresolved[session] = done.stderr.strip().splitlines()[-3:]
    assert unresolved == {}
