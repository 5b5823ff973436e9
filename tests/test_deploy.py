"""The deployment files agree with the bot: the variables it reads, its commands, its health."""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from fnmatch import fnmatch
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import VARIABLES

ROOT = Path(__file__).resolve().parents[1]
# Variables the image sets for Python, pip or the shell, not for the bot.
NOT_THE_BOTS = ("PATH", "VIRTUAL_ENV", "LANG", "PYTHON*", "PIP_*", "LC_*")

Step = tuple[str, str]  # a Dockerfile instruction and its arguments


# compose.yaml


def _services() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text("utf-8"))
    services: dict[str, Any] = compose["services"]
    return services


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # the "NAME=value" form
        return {name: value for name, _, value in (item.partition("=") for item in env)}
    return {name: str(value) for name, value in env.items()}


def _interpolated(node: Any) -> set[str]:
    """Return the variables that ${NAME...} or $NAME in any string of ``node`` name."""
    if isinstance(node, dict):
        return set().union(*map(_interpolated, node.values()))
    if isinstance(node, list):
        return set().union(*map(_interpolated, node))
    found = re.findall(r"(?<!\$)\$(?:\{(\w+)|(\w+))", node) if isinstance(node, str) else []
    return {braced or bare for braced, bare in found}


def test_compose_runs_the_bot_after_its_migration() -> None:
    services = _services()
    assert {"bot", "migrate", "postgres", "redis"} <= services.keys()
    bot, migrate = services["bot"], services["migrate"]
    assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert bot["depends_on"]["redis"]["condition"] == "service_healthy"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["command"] in ("migrate", ["migrate"])
    # Else the bot would start on a database nobody migrated.
    assert _environment(bot)["DATABASE_URL"] == _environment(migrate)["DATABASE_URL"]


@pytest.mark.parametrize("name", ["bot", "migrate"])
def test_compose_sets_only_variables_the_bot_reads(name: str) -> None:
    service = _services()[name]
    assert set(_environment(service)) - set(VARIABLES) == set()
    assert _interpolated(service) - set(VARIABLES) == set()
    # `migrate` too: every command reads the settings, and they need the token.
    assert "TELEGRAM_BOT_TOKEN" in _interpolated(service)


# Dockerfile and .dockerignore


def _steps() -> list[Step]:
    """Return the Dockerfile's instructions, continued lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text("utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    steps = []
    for line in "\n".join(lines).replace("\\\n", " ").splitlines():
        keyword, _, arguments = line.strip().partition(" ")
        if keyword:
            steps.append((keyword.upper(), arguments.strip()))
    return steps


def _final_stage(steps: list[Step]) -> list[Step]:
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def _env(steps: list[Step]) -> dict[str, str]:
    pairs = (word.partition("=") for k, a in steps if k == "ENV" for word in shlex.split(a))
    return {name: value for name, _, value in pairs}


def _copies(steps: list[Step]) -> list[tuple[list[str], str]]:
    """Return each COPY from the build context as (sources, destination)."""
    copies = []
    for keyword, arguments in steps:
        words = shlex.split(arguments)
        if keyword == "COPY" and not any(w.startswith("--from") for w in words):
            paths = [w for w in words if not w.startswith("--")]
            copies.append((paths[:-1], paths[-1]))
    return copies


def _ignored(path: str) -> bool:
    """Tell whether .dockerignore keeps ``path`` (or a folder holding it) out of the context."""
    lines = (ROOT / ".dockerignore").read_text("utf-8").splitlines()
    parts = path.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    ignored = False
    for line in (line.strip() for line in lines):
        if not line or line.startswith("#"):
            continue
        pattern = line.removeprefix("!").strip("/")
        forms = (pattern, pattern.removeprefix("**/"))
        if any(fnmatch(c, form) for c in candidates for form in forms):
            ignored = not line.startswith("!")  # the last matching line decides
    return ignored


def test_dockerfile_builds_a_slim_non_root_image() -> None:
    steps = _steps()
    froms = [arguments for keyword, arguments in steps if keyword == "FROM"]
    assert len(froms) >= 2 and all("slim" in image for image in froms)
    final = _final_stage(steps)
    users = [arguments for keyword, arguments in final if keyword == "USER"]
    assert users and users[-1].partition(":")[0] not in ("root", "0")
    assert any(k == "RUN" and re.search(r"apt-get install .*\btzdata\b", a) for k, a in final)
    entrypoint = [json.loads(a) for k, a in final if k == "ENTRYPOINT"][-1]
    assert entrypoint == ["python", "-m", "bot"]
    assert [json.loads(a) for k, a in final if k == "CMD"][-1] == ["run"]
    assert _env(final)["HTTP_HOST"] == "0.0.0.0"
    assert "/opt/venv/bin" in _env(final)["PATH"].split(":")  # `python` is the venv's


def test_dockerfile_sets_only_variables_the_bot_reads() -> None:
    names = {n for n in _env(_steps()) if not any(fnmatch(n, p) for p in NOT_THE_BOTS)}
    assert names - set(VARIABLES) == set()


def test_dockerfile_copies_only_what_the_context_sends() -> None:
    for sources, _ in _copies(_steps()):
        for source in sources:
            path = ROOT / source
            assert path.exists(), source
            files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
            sent = [f for f in files if "__pycache__" not in f.parts]
            assert [f for f in sent if _ignored(f.relative_to(ROOT).as_posix())] == []
    for secret in (".env", "data/bot.db", ".git/config", ".venv/bin/python", "bench/seed.py"):
        assert _ignored(secret), secret


def test_image_finds_the_article() -> None:
    # Installed into site-packages, the package's default article path does not exist.
    final = _final_stage(_steps())
    article = Path(_env(final)["ARTICLE_PATH"])
    workdir = Path([a for k, a in final if k == "WORKDIR"][-1])
    for sources, destination in _copies(final):
        target = workdir / destination
        if len(sources) == 1 and article.is_relative_to(target):
            assert (ROOT / sources[0] / article.relative_to(target)).is_file()
            return
    pytest.fail(f"no COPY puts the article at {article}")


def _healthcheck() -> list[str]:
    arguments = [a for k, a in _final_stage(_steps()) if k == "HEALTHCHECK"][-1]
    command: list[str] = json.loads(arguments.partition(" CMD ")[2])
    return command


@contextmanager
def _health_server(status: int) -> Iterator[int]:
    """Answer GET /healthz with ``status`` (404 elsewhere) on 127.0.0.1; yield the port."""

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test's output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)])
def test_healthcheck_exit_code_follows_healthz(status: int, healthy: bool) -> None:
    command = _healthcheck()
    assert command[0] == "python" and "/healthz" in command[-1]
    with _health_server(status) as port:
        done = subprocess.run(
            [sys.executable, *command[1:]],
            env={**os.environ, "HTTP_PORT": str(port)},
            capture_output=True,
            timeout=30,
        )
    assert (done.returncode == 0) is healthy, done.stderr.decode()


# systemd


def _readme_run_command() -> str:
    readme = (ROOT / "README.md").read_text("utf-8")
    section = re.search(r"^## Two commands\n(.*?)^## ", readme, re.M | re.S)
    assert section is not None
    block = re.search(r"```sh\n(.*?)\n```", section[1], re.S)
    assert block is not None
    return block[1].split("&&")[-1].strip()


def test_systemd_unit_runs_the_readme_command() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(ROOT / "deploy" / "article-serial-bot.service", encoding="utf-8")
    service = unit["Service"]
    home = service["WorkingDirectory"]
    start = service["ExecStart"]
    assert _readme_run_command() == ".venv/bin/python -m bot"
    assert start.removeprefix(home + "/") == _readme_run_command()
    assert service["ExecStartPre"] == f"{start} migrate"
    assert service["User"] not in ("", "root")
    assert service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) > 10  # the drain's own limit, plus a margin
    assert f"{home}/data" in service["ReadWritePaths"].split()  # SQLite's default place


def test_env_example_and_readme_document_every_variable_the_bot_reads() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    assert documented == set(VARIABLES)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert {name for name in VARIABLES if f"`{name}`" not in readme} == set()


# Operating: restart policy, exposure, pinned images, the lock file, alerts


def _unit() -> configparser.SectionProxy:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(ROOT / "deploy" / "article-serial-bot.service", encoding="utf-8")
    return unit["Service"]


def _duration(text: str) -> float:
    match = re.fullmatch(r"(\d+)(s|m)?", str(text).strip())
    assert match, text
    return int(match[1]) * (60 if match[2] == "m" else 1)


def test_compose_drains_publishes_locally_and_restarts_boundedly() -> None:
    bot = _services()["bot"]
    assert _duration(bot["stop_grace_period"]) > 10  # the drain's own limit, plus a margin
    for port in bot.get("ports", []):
        assert str(port).startswith("127.0.0.1:"), port  # /metrics is not for the world
    # Compose cannot tell exit 2 from 75: a bounded number of restarts serves both.
    assert re.fullmatch(r"on-failure:\d+", bot["restart"])


def test_images_are_pinned_to_a_minor_version() -> None:
    froms = [a.split()[0] for k, a in _steps() if k == "FROM"]
    for image in froms:
        assert re.fullmatch(r"python:3\.\d+\.\d+-slim-\w+", image), image
    for name in ("postgres", "redis"):
        image = _services()[name]["image"]
        assert re.fullmatch(rf"{name}:\d+\.\d+[\w.-]*", image), image


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_image_installs_exactly_the_locked_dependencies() -> None:
    import tomllib

    lock = (ROOT / "requirements.lock").read_text("utf-8")
    pinned = {
        _normalized(line.split("==")[0]): line.split("==")[1]
        for line in lock.splitlines()
        if line and not line.startswith("#")
    }
    assert all(re.fullmatch(r"[\w.+]+", v) for v in pinned.values())  # exact versions only
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    wanted = {
        _normalized(re.split(r"[\[<>=!~ ;]", d, maxsplit=1)[0]) for d in project["dependencies"]
    }
    assert wanted - set(pinned) == set()
    runs = [a for k, a in _steps() if k == "RUN"]
    assert any("-r requirements.lock" in a for a in runs)
    assert any(re.search(r"pip install .*--no-deps \.", a) for a in runs)  # nothing unlocked
    assert any(sources == ["requirements.lock"] for sources, _ in _copies(_steps()))


def test_systemd_unit_restarts_on_75_not_on_2() -> None:
    service = _unit()
    assert service["Restart"] == "on-failure"
    assert "2" in service["RestartPreventExitStatus"].split()
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp"):
        assert service[key] == "yes"
    assert service["ProtectSystem"] == "strict" and service["CapabilityBoundingSet"] == ""


def test_systemd_unit_is_rated_ok_by_systemd_analyze() -> None:
    import shutil

    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    done = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--no-pager",
         str(ROOT / "deploy" / "article-serial-bot.service")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout + done.stderr)
    if found is None:
        pytest.skip(f"this systemd-analyze cannot rate a unit file offline: {done.stderr[:200]}")
    assert float(found[1]) <= 3.0, done.stdout


def _exported() -> set[str]:
    """Return every sample name a running bot's /metrics can show."""
    from prometheus_client.parser import text_string_to_metric_families

    from bot.ops.metrics import Metrics

    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_count", "_sum", "_created"),
        "info": ("_info",),
        "gauge": ("",),
    }
    names = {"up"}  # Prometheus's own, for every scrape target
    for family in text_string_to_metric_families(Metrics(frozenset()).render().decode()):
        names |= {family.name + s for s in suffixes.get(family.type, ("",))}
        names |= {sample.name for sample in family.samples}
    return names


_PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "rate", "increase", "irate", "changes", "delta",
    "histogram_quantile", "by", "without", "and", "or", "unless", "on", "ignoring", "offset",
    "le", "bool", "time", "absent", "e9",
}  # fmt: skip


def _metric_names(expr: str) -> set[str]:
    bare = re.sub(r"\{[^}]*\}|\[[^]]*\]|\"[^\"]*\"", " ", expr)  # matchers, ranges, strings
    words = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", bare))
    return words - _PROMQL_WORDS


def test_alerts_name_only_metrics_the_bot_exports() -> None:
    rules = yaml.safe_load((ROOT / "deploy" / "alerts.yml").read_text("utf-8"))
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    names = {rule["alert"] for rule in alerts}
    # What the operators' documentation promises to alert on.
    for needed in ("BotNotReady", "BotNoUpdatesHandled", "BotDeliveryLag",
                   "BotTelegramFloodWaits", "BotChatsParked"):  # fmt: skip
        assert needed in names
    exported = _exported()
    for rule in alerts:
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"]
        used = _metric_names(rule["expr"])
        assert used, rule["alert"]
        assert used - exported == set(), (rule["alert"], used - exported)


def test_scrape_example_loads_the_alerts_and_scrapes_the_published_port() -> None:
    config = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text("utf-8"))
    for rule_file in config["rule_files"]:
        assert (ROOT / "deploy" / rule_file).is_file()
    [job] = config["scrape_configs"]
    assert job["job_name"] == "article-serial-bot"  # the alerts select it by this name
    assert job.get("metrics_path", "/metrics") == "/metrics"
    [target] = [t for c in job["static_configs"] for t in c["targets"]]
    published = [str(p) for p in _services()["bot"]["ports"]]
    assert any(p.rsplit(":", 1)[0] == target for p in published), (target, published)
    alerts = (ROOT / "deploy" / "alerts.yml").read_text("utf-8")
    assert 'job="article-serial-bot"' in alerts
