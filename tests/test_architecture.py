"""The service layer is not gone around: handlers and the deliverer never touch the store.

Read from the source (an AST scan), so a new handler that imports the store, or reaches it
through ``context.services.store``, fails here before review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[1] / "bot"
HANDLERS = sorted((BOT / "handlers").glob("*.py"))


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    """Return (line, module) for every import in ``tree``, ``from x import y`` as x.y too."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _store_attributes(tree: ast.AST) -> list[int]:
    """Return the lines that read an attribute named ``store`` (``svc.store``, ``x.store``)."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "store"
    ]


def _is_store(module: str) -> bool:
    return module == "bot.store" or module.startswith("bot.store.")


def test_every_handler_module_is_scanned() -> None:
    assert {path.stem for path in HANDLERS} >= {"reading", "settings", "quiz", "cards", "admin"}


@pytest.mark.parametrize("path", HANDLERS, ids=lambda p: p.stem)
def test_handlers_do_not_import_the_store(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    offending = [f"line {line}: {module}" for line, module in _imports(tree) if _is_store(module)]
    assert not offending, f"{path.name} imports the store; call a service instead: {offending}"


@pytest.mark.parametrize("path", HANDLERS, ids=lambda p: p.stem)
def test_handlers_do_not_reach_the_store_through_the_services(path: Path) -> None:
    lines = _store_attributes(ast.parse(path.read_text(encoding="utf-8")))
    assert not lines, f"{path.name} uses .store at lines {lines}; call a service instead"


@pytest.mark.parametrize("name", ["services/delivery.py", "services/companions.py"])
def test_the_deliverer_does_not_reach_through_a_service_into_the_store(name: str) -> None:
    lines = _store_attributes(ast.parse((BOT / name).read_text(encoding="utf-8")))
    assert not lines, f"{name} uses .store at lines {lines}; take what it needs as an argument"


def test_the_scan_sees_an_import_of_the_store() -> None:
    """The scan itself: each way of naming the store is caught, a look-alike is not."""
    source = (
        "import bot.store\n"
        "from bot.store.quiz_records import Asked\n"
        "from bot import store\n"
        "from bot.storefront import x\n"
        "y = svc.store.chats\n"
    )
    tree = ast.parse(source)
    flagged = sorted({line for line, module in _imports(tree) if _is_store(module)})
    assert flagged == [1, 2, 3]
    assert _store_attributes(tree) == [5]


SOURCES = sorted(BOT.rglob("*.py"))


def _environ_writes(tree: ast.AST) -> list[int]:
    """Return the lines that change the environment: os.environ[...] = , .setdefault, ..."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func.value
            changes = node.func.attr in ("setdefault", "update", "pop", "clear", "__setitem__")
            if changes and isinstance(target, ast.Attribute) and target.attr == "environ":
                lines.append(node.lineno)
            if node.func.attr in ("putenv", "unsetenv"):
                lines.append(node.lineno)
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.Delete):
            targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
            for target in targets:
                value = target.value if isinstance(target, ast.Subscript) else None
                if isinstance(value, ast.Attribute) and value.attr == "environ":
                    lines.append(node.lineno)
    return lines


def test_only_the_command_line_changes_the_environment() -> None:
    """The process's environment is set once, in ``python -m bot``, before PTB is imported."""
    writers = {
        str(path.relative_to(BOT)): lines
        for path in SOURCES
        if (lines := _environ_writes(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert writers.keys() == {"__main__.py"}, writers


def test_nothing_imports_ptbs_private_modules() -> None:
    found = [
        f"{path.relative_to(BOT)}:{line} {module}"
        for path in SOURCES
        for line, module in _imports(ast.parse(path.read_text(encoding="utf-8")))
        if module.startswith("telegram._")
    ]
    assert found == []


def test_the_environment_scan_sees_each_way_of_writing() -> None:
    source = (
        "os.environ.setdefault('A', '1')\n"
        "os.environ['B'] = '2'\n"
        "del os.environ['C']\n"
        "os.putenv('D', '4')\n"
        "x = os.environ.get('E')\n"
    )
    assert sorted(_environ_writes(ast.parse(source))) == [1, 2, 3, 4]
