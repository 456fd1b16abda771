"""The one task runner: tests, lint, typecheck, build, demo, bench, stack_smoke.

nox -s tests        # every package, Python 3.10 and 3.13, lowest and latest frameworks
nox -s demo         # the offline RAG demo, traced end to end, printed as a tree
nox -s lint typecheck build
nox -s bench -- --quick
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 running nox
    import tomli as tomllib  # type: ignore[no-redef]

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = False

ROOT = Path(__file__).parent
CORE = "packages/genai-trace-core"
LANGCHAIN = "integrations/genai-trace-langchain"
LLAMAINDEX = "integrations/genai-trace-llamaindex"
PACKAGES = (CORE, LANGCHAIN, LLAMAINDEX)
PYTHONS = ["3.10", "3.13"]
TIKTOKEN_CACHE = ROOT.parent / "shared" / "tiktoken-cache"


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


@nox.session(python=PYTHONS)
@nox.parametrize("deps", ["lowest", "latest"])
def tests(session: nox.Session, deps: str) -> None:
    """Unit tests of every package plus the cross-package suites (not benchmarks)."""
    constraints = f"tests/constraints/lowest-py{session.python}.txt" if deps == "lowest" else None
    if constraints and not (ROOT / constraints).exists():
        constraints = "tests/constraints/lowest.txt"
    _install_all(session, constraints=constraints)
    session.run("python", "-m", "pip", "--version", silent=True, success_codes=[0, 1])
    session.run(
        "uv", "pip", "list", "--python", session.virtualenv.location, silent=False, external=True
    )
    paths = [f"{p}/tests" for p in PACKAGES] + ["tests"]
    pytest_args = [*paths, "-m", "not slow", "--ignore=tests/benchmarks", "-p", "no:cacheprovider"]
    if deps == "latest" and session.python == PYTHONS[-1]:
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
            *pytest_args,
            *session.posargs,
            env=_env(),
        )
        session.run("python", "-m", "coverage", "report", "--fail-under=90", env=_env())
    else:
        session.run("python", "-m", "pytest", *pytest_args, *session.posargs, env=_env())


@nox.session(python=PYTHONS[-1])
def slow(session: nox.Session) -> None:
    """The long property and load tests (10,000 random callback sequences and more)."""
    _install_all(session)
    paths = [f"{p}/tests" for p in PACKAGES] + ["tests"]
    session.run(
        "python",
        "-m",
        "pytest",
        *paths,
        "-m",
        "slow",
        "--ignore=tests/benchmarks",
        *session.posargs,
        env=_env(),
    )


@nox.session(python=PYTHONS[-1])
def lint(session: nox.Session) -> None:
    session.install(*_groups()["lint"])
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    # The wings' one-way import rules (pyproject.toml [tool.importlinter]), on the sources as they
    # are: nothing installed, so the graph is exactly what is in src/.
    src = os.pathsep.join(str(ROOT / p / "src") for p in PACKAGES)
    session.run("lint-imports", env={"PYTHONPATH": src})


@nox.session(python=PYTHONS[0])
def typecheck(session: nox.Session) -> None:
    """mypy --strict over every src/ (config in pyproject.toml)."""
    _install_all(session)
    session.install(*_groups()["typecheck"])
    session.run("mypy")


@nox.session(python=PYTHONS[-1])
def build(session: nox.Session) -> None:
    """Build each wheel, install it alone (with its deps) in a fresh venv and import it."""
    session.install("build")
    dist = Path(session.create_tmp()) / "dist"
    for pkg in PACKAGES:
        session.run(
            "python", "-m", "build", "--wheel", "--outdir", str(dist), pkg, "--installer", "uv"
        )
    wheels = {p.name.split("-")[0]: p for p in dist.glob("*.whl")}
    core_wheel = wheels["genai_trace_core"]
    for dist_name, module in (
        ("genai_trace_core", "genai_trace_core"),
        ("genai_trace_langchain", "genai_trace_langchain"),
        ("genai_trace_llamaindex", "genai_trace_llamaindex"),
    ):
        venv = Path(session.create_tmp()) / f"venv-{module}"
        session.run("uv", "venv", "-q", "--python", str(session.python), str(venv), external=True)
        py = str(venv / "bin" / "python")
        to_install = [str(wheels[dist_name])]
        if dist_name != "genai_trace_core":
            to_install.append(str(core_wheel))
        session.run("uv", "pip", "install", "-q", "--python", py, *to_install, external=True)
        session.run(
            py,
            "-c",
            f"import {module}; print({module}.__name__, {module}.__version__)",
            external=True,
        )


@nox.session(python=PYTHONS[-1])
def demo(session: nox.Session) -> None:
    """The offline RAG demo (LangChain and LlamaIndex), traced and printed as trees."""
    _install_all(session)
    for script in ("examples/langchain_rag.py", "examples/llamaindex_rag.py"):
        if (ROOT / script).exists():
            session.run("python", script, *session.posargs, env=_env())


@nox.session(python=PYTHONS[-1])
def bench(session: nox.Session) -> None:
    """Overhead benchmark against competitors (installs them only here). `-- --quick`."""
    _install_all(session)
    session.install(*_groups()["bench"])
    session.run("python", "-m", "tests.benchmarks", *session.posargs, env=_env())


@nox.session(python=False)
def stack_smoke(session: nox.Session) -> None:
    """docker compose up the stack, send a trace, query the backends. Skips without Docker."""
    session.run(sys.executable, "stack/smoke.py", *session.posargs)
