"""The one task runner. Every session runs on the Python that runs nox, except the matrix.

nox -s demo          # the offline RAG demos, traced end to end, printed as trees
nox -s tests         # every package's tests on this Python, latest frameworks (+ coverage)
nox -s tests_matrix  # Python 3.10 and 3.13 x lowest and latest frameworks (CI)
nox -s lint typecheck build
nox -s phoenix       # the examples sent to a local Arize Phoenix, read back through its API
nox -s bench -- --quick

A missing interpreter is an error, never a skipped session; a test session that collects no test
fails (pytest's exit code 5).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nox

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 running nox
    import tomli as tomllib  # type: ignore[no-redef]

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = False
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).parent
CORE = "packages/genai-trace-core"
LANGCHAIN = "integrations/genai-trace-langchain"
LLAMAINDEX = "integrations/genai-trace-llamaindex"
PACKAGES = (CORE, LANGCHAIN, LLAMAINDEX)
MATRIX = ["3.10", "3.13"]
TIKTOKEN_CACHE = ROOT.parent / "shared" / "tiktoken-cache"
DIST = ROOT / "dist"


def _groups() -> dict[str, list[str]]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    groups: dict[str, list[str]] = data["dependency-groups"]
    return groups


def _env() -> dict[str, str]:
    env = {"PYTHONHASHSEED": "0"}
    if "TIKTOKEN_CACHE_DIR" not in os.environ and TIKTOKEN_CACHE.is_dir():
        env["TIKTOKEN_CACHE_DIR"] = str(TIKTOKEN_CACHE)
    return env


def _install_all(session: nox.Session, *, constraints: str | None = None) -> None:
    """Every package with its extras and the test groups; provider instrumentations only with
    the latest dependencies (they need a newer opentelemetry-api than our lowest)."""
    args = [
        "-e",
        f"{CORE}[sdk]",
        "-e",
        f"{LANGCHAIN}[instruments]",
        "-e",
        f"{LLAMAINDEX}[instruments]",
        *_groups()["test"],
        *_groups()["frameworks"],
    ]
    if constraints:
        args += ["-c", constraints]
    else:
        args += _groups()["providers"]
    session.install(*args)


TEST_PATHS = [f"{p}/tests" for p in PACKAGES] + ["tests"]
BENCH_HARNESS = "tests/benchmarks/test_harness.py"
PYTEST_ARGS = [*TEST_PATHS, "-m", "not slow", "--ignore=tests/benchmarks", "-p", "no:cacheprovider"]


def _show_versions(session: nox.Session) -> None:
    session.run("python", "--version")
    if shutil.which("uv") and isinstance(session.virtualenv, nox.virtualenv.VirtualEnv):
        location = session.virtualenv.location
        session.run("uv", "pip", "list", "--python", location, silent=False, external=True)


@nox.session
def tests(session: nox.Session) -> None:
    """Unit tests of every package plus the cross-package suites (not benchmarks), on the
    interpreter running nox, latest dependencies, with the coverage floor."""
    _install_all(session)
    _show_versions(session)
    # coverage run (not pytest-cov): our pytest plugin is imported before pytest-cov starts,
    # which would leave core's import-time lines unmeasured.
    session.run("python", "-m", "coverage", "erase", env=_env())
    session.run(
        "python",
        "-m",
        "coverage",
        "run",
        "-m",
        "pytest",
        *PYTEST_ARGS,
        *session.posargs,
        env=_env(),
    )
    session.run("python", "-m", "coverage", "report", "--fail-under=90", env=_env())
    # The benchmark harness's own tests (floor replay, paired statistics, the in-place timer):
    # the numbers the README prints come from it.
    session.run("python", "-m", "pytest", BENCH_HARNESS, "-p", "no:cacheprovider", env=_env())


@nox.session(python=MATRIX)
@nox.parametrize("deps", ["lowest", "latest"])
def tests_matrix(session: nox.Session, deps: str) -> None:
    """The supported range: Python 3.10 and 3.13, lowest and latest frameworks (CI runs it)."""
    constraints = f"tests/constraints/lowest-py{session.python}.txt" if deps == "lowest" else None
    if constraints and not (ROOT / constraints).exists():
        constraints = "tests/constraints/lowest.txt"
    _install_all(session, constraints=constraints)
    _show_versions(session)
    session.run("python", "-m", "pytest", *PYTEST_ARGS, *session.posargs, env=_env())


@nox.session
def slow(session: nox.Session) -> None:
    """The long property and load tests (10,000 random callback sequences and more)."""
    _install_all(session)
    session.run(
        "python",
        "-m",
        "pytest",
        *TEST_PATHS,
        "-m",
        "slow",
        "--ignore=tests/benchmarks",
        *session.posargs,
        env=_env(),
    )


# Contract types of import-linter releases that need Python 3.11 (2.16+); on 3.10 pip gets 2.15.
IMPORT_LINTER_PY311 = {"private_modules"}


def _import_linter_args(session: nox.Session) -> list[str]:
    """On Python 3.10, a copy of [tool.importlinter] without the contracts its import-linter
    cannot read, named in the log; on 3.11+ (CI) pyproject.toml as it is."""
    if sys.version_info >= (3, 11):
        return []
    import json

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    kept = [c for c in config["contracts"] if c["type"] not in IMPORT_LINTER_PY311]
    for contract in config["contracts"]:
        if contract not in kept:
            session.warn(f"not checked on Python 3.10 (import-linter >= 2.16): {contract['name']}")
    lines = ["[tool.importlinter]"]  # JSON strings, lists and booleans are valid TOML
    lines += [f"{k} = {json.dumps(v)}" for k, v in config.items() if k != "contracts"]
    for contract in kept:
        lines += ["", "[[tool.importlinter.contracts]]"]
        lines += [f"{k} = {json.dumps(v)}" for k, v in contract.items()]
    path = Path(session.create_tmp()) / "importlinter.toml"
    path.write_text("\n".join(lines) + "\n")
    return ["--config", str(path)]


@nox.session
def lint(session: nox.Session) -> None:
    session.install(*_groups()["lint"])
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    # The wings' one-way import rules (pyproject.toml [tool.importlinter]), on the sources as they
    # are: nothing installed, so the graph is exactly what is in src/.
    src = os.pathsep.join(str(ROOT / p / "src") for p in PACKAGES)
    session.run("lint-imports", *_import_linter_args(session), env={"PYTHONPATH": src})


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over every src/ (config in pyproject.toml)."""
    _install_all(session)
    session.install(*_groups()["typecheck"])
    session.run("mypy")


# What each wheel set is installed as (exactly the documented commands, with --find-links dist)
# and the example that must run with it, outside the source tree's packages.
WHEEL_SETS = {
    "genai-trace-core": (["genai-trace-core[sdk]"], ["genai-trace", "demo"]),
    "genai-trace-langchain": (
        # numpy: langchain-core's InMemoryVectorStore, which the example searches
        ["genai-trace-langchain[instruments]", "genai-trace-core[sdk]", "numpy"],
        ["python", "examples/langchain_rag.py"],
    ),
    "genai-trace-llamaindex": (
        ["genai-trace-llamaindex[instruments]", "genai-trace-core[sdk]"],
        ["python", "examples/llamaindex_rag.py"],
    ),
}


@nox.session
def build(session: nox.Session) -> None:
    """Build the three wheels into dist/; install each set from dist/ alone in a fresh venv and
    run one example with it (`pip install --find-links dist genai-trace-langchain[instruments]`)."""
    session.install("build")
    DIST.mkdir(exist_ok=True)
    for old in DIST.glob("genai_trace_*"):
        old.unlink()
    for pkg in PACKAGES:
        session.run("python", "-m", "build", "--outdir", str(DIST), pkg, "--installer", "uv")
    core_wheel = next(DIST.glob("genai_trace_core-*.whl"))
    session.run("python", "-c", _CHECK_DESCRIPTION, str(core_wheel))
    tmp = Path(session.create_tmp())
    for name, (requirements, example) in WHEEL_SETS.items():
        venv = tmp / f"venv-{name}"
        shutil.rmtree(venv, ignore_errors=True)
        session.run("uv", "venv", "-q", "--python", sys.executable, str(venv), external=True)
        py = str(venv / "bin" / "python")
        session.run(
            "uv", "pip", "install", "-q", "--python", py, "--find-links", str(DIST),
            *requirements, external=True,
        )  # fmt: skip
        module = name.replace("-", "_")
        session.run(py, "-c", f"import {module}; print({module}.__version__)", external=True)
        program = [str(venv / "bin" / example[0]), *example[1:]]
        env = {**_env(), "GENAI_TRACE_JSONL": str(tmp / f"{name}.jsonl")}
        session.run(*program, env=env, external=True)


# The core wheel's description is its README (PyPI shows it): more than a heading.
_CHECK_DESCRIPTION = """
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    meta = next(n for n in z.namelist() if n.endswith('.dist-info/METADATA'))
    body = z.read(meta).decode().split('\\n\\n', 1)[1]
assert body.count('\\n## ') >= 3 and 'pip install' in body, 'core README missing in the wheel'
print('core wheel description:', len(body), 'characters')
"""


@nox.session
def demo(session: nox.Session) -> None:
    """The offline RAG demos (LangChain and LlamaIndex), traced and printed as trees."""
    _install_all(session)
    for script in ("examples/langchain_rag.py", "examples/llamaindex_rag.py"):
        session.run("python", script, *session.posargs, env=_env())


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_http(url: str, seconds: float) -> bool:
    import time
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    return False


@nox.session
def phoenix(session: nox.Session) -> None:
    """Arize Phoenix on 127.0.0.1 (its own venv), the RAG examples sent to it over OTLP/HTTP,
    every span read back through its REST API (parents, tokens, cost, output messages)."""
    import subprocess

    _install_all(session)
    tmp = Path(session.create_tmp())
    venv = tmp / "phoenix-venv"
    shutil.rmtree(venv, ignore_errors=True)
    session.run("uv", "venv", "-q", "--python", sys.executable, str(venv), external=True)
    py = str(venv / "bin" / "python")
    session.run("uv", "pip", "install", "-q", "--python", py, "arize-phoenix", external=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    work = tmp / "phoenix-data"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    env = {
        **os.environ,
        "PHOENIX_WORKING_DIR": str(work),
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(_free_port()),
    }
    log = (tmp / "phoenix.log").open("w")
    server = subprocess.Popen(
        [str(venv / "bin" / "phoenix"), "serve"], stdout=log, stderr=log, env=env
    )
    try:
        if not _wait_http(f"{url}/healthz", 180):
            session.error(f"Phoenix did not start on {url} in 180 s; see {tmp / 'phoenix.log'}")
        sent = tmp / "sent.jsonl"
        sent.unlink(missing_ok=True)
        run_env = {
            **_env(),
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{url}/v1/traces",
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "SPAN_ONLY",
            "GENAI_TRACE_JSONL": str(sent),  # what was sent, to compare with what is read back
        }
        for script in ("examples/langchain_rag.py", "examples/llamaindex_rag.py"):
            session.run("python", script, env=run_env, silent=True)
        session.run("python", "tests/e2e/phoenix_readback.py", url, str(sent))
        session.log(f"Phoenix UI: {url} (stopped at the end of this session)")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@nox.session
def bench(session: nox.Session) -> None:
    """Overhead benchmark against competitors (installs them only here). `-- --quick`."""
    _install_all(session)
    session.install(*_groups()["bench"])
    session.run("python", "-m", "tests.benchmarks", *session.posargs, env=_env())


@nox.session(python=False)
def stack_smoke(session: nox.Session) -> None:
    """docker compose up the stack, send a trace, query the backends. Skips without Docker."""
    session.run(sys.executable, "stack/smoke.py", *session.posargs)
