"""Where things live: SQL only in db/, db/ free of the bot, every feature laid out alike."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SQL = re.compile(r"SELECT|INSERT|UPDATE ")
FEATURE_FILES = {"service.py", "callbacks.py", "texts.py", "keyboards.py", "notifications.py"}


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_no_sql_outside_db() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("bot", "handlers")
        for path in python_files(folder)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if SQL.search(line)
    ]
    assert found == []


def test_db_imports_nothing_from_the_bot() -> None:
    found = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in python_files("db")
        for module in imported_modules(path)
        if module.split(".")[0] in {"bot", "handlers"}
    }
    assert found == set()


def test_handlers_do_not_touch_the_database_directly() -> None:
    found = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in python_files("handlers")
        for module in imported_modules(path)
        if module.split(".")[0] in {"aiosqlite", "sqlite3"}
    }
    assert found == set()


def test_each_feature_keeps_its_rules_callbacks_texts_keyboards_and_notifications_in_one_folder() -> None:
    for feature in ("places", "outages", "classes"):
        present = {path.name for path in (ROOT / "bot" / feature).glob("*.py")}
        assert FEATURE_FILES <= present, (feature, FEATURE_FILES - present)
