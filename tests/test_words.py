"""Words: one term per concept (the glossary in the catalog review), and button labels that fit a phone.

The glossary test reads core.po and outbox.po. The label test covers every feature: it finds every
inline button the code builds (``button(...)``/``InlineKeyboardButton(...)``) and the catalog
strings its label can come from, and also renders keyboards with real data, in both languages.
"""

from __future__ import annotations

import ast
import re
import string
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.config import LANGUAGES
from bot.i18n import Translator

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "locales"
MAX_LABEL = 40
OWN_CATALOGS = ("core", "outbox")

# Forbidden variants, from the review's glossary (§1), its term notes and its corrections (§2, §3).
FORBIDDEN: dict[str, list[tuple[str, str]]] = {
    "ru": [
        (r"\bурок", "a class is «занятие», not «урок»"),
        (r"\bцифр(?:ы|ам|ах|ами)?\b", "statistics is «статистика», not «цифры»"),
        (r"\bвест[ьи]\b", "a notification is «уведомление» or «сообщение», not «весть»"),
        (r"\bреш[её]н\b", "an outage is «устранён», not «решён»"),
        (r"\bсамому\b", "«Записаться»: «самому» is masculine"),
        (r"\bв (?:вашей |своей |этой )?территории\b", "«на территории»"),
        (r"\bГеопозиц", "location is «местоположение» («Геопозиция» only as Telegram's own label)"),
        (
            r"\b(?:от|на|в|к|у|для)\s+\{village\}",
            "a place name stays in the nominative: «новости села {village}»",
        ),
        (r"\{village\}\s+(?:подключено|включено)", "a verb cannot agree with a bare place name"),
        (r"\bснят[аоы]? с учёта\b", "a role is «снята», not «снята с учёта»"),
    ],
    "kk": [
        (r"\bАнықтама", "help is «Көмек» (an «анықтама» is a certificate)"),
        (r"\bсандар", "statistics is «статистика», not «сандар»"),
        (r"ҚАТО", "KATO is «ӘАОЖ (КАТО)»"),
        (r"\bжоба", "drafts are «аяқталмаған жазбалар», not «жобалар»"),
        (r"\bжазылым", "say what is followed: «ауылдарға жазылу»"),
        (
            r"\}\s*-?(?:дейін|кейін|бастап)\b",
            "a placeholder cannot carry the case ending: «мерзімі — {until}»",
        ),
        (r"\bӨткізу\b", "skip is «Өткізіп жіберу»"),
        (r"^🙋 Алу$|\bалдыңыз\b", "an engineer «қолға алады» an outage"),
    ],
}


def catalog_entries(language: str, domains: tuple[str, ...] | None = None) -> Iterator[tuple[str, str, str]]:
    """(file, msgid, translation) for every translated form."""
    for path in sorted((LOCALES / language / "LC_MESSAGES").glob("*.po")):
        if domains is not None and path.stem not in domains:
            continue
        with path.open("rb") as file:
            catalog = read_po(file, locale=language)
        for message in catalog:
            if not message.id:
                continue
            key = message.id if isinstance(message.id, str) else message.id[0]
            forms = message.string if isinstance(message.string, tuple | list) else (message.string,)
            for form in forms:
                yield path.stem, key, form or ""


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_glossary_terms_are_used_in_the_core_and_outbox_catalogs(language: str) -> None:
    found = []
    for domain, key, text in catalog_entries(language, OWN_CATALOGS):
        for pattern, why in FORBIDDEN[language]:
            if re.search(pattern, text, flags=re.IGNORECASE | re.MULTILINE):
                found.append(f"{domain}.po {key[:50]!r}: {text[:70]!r} — {why}")
    assert found == [], "\n".join(found)


def test_the_forbidden_list_catches_what_the_review_corrected() -> None:
    """The patterns bite: each of these texts from before the review is caught."""
    before = {
        "ru": [
            "вы получите номер заявки и весть, когда всё починят",
            "Цифры по занятиям",
            "бесплатные уроки — смартфон",
            "Этот сбой уже решён.",
            "🙋 Записаться самому",
            "В вашей территории не найдено село",
            "Вы отписались от {village}.",
            "🎉 {village} подключено к интернету!",
        ],
        "kk": [
            "❓ Анықтама",
            "Сабақтар бойынша сандар",
            "АУМАҚ — ҚАТО кодының басы",
            "жазылымдарыңыз бен жобаларыңызды өшіру керек пе?",
            "{until} дейін жарамды",
            "Жаңасын {time} кейін жібере аласыз.",
            "Өткізу ➡️",
            "🙋 Алу",
        ],
    }
    for language, texts in before.items():
        for text in texts:
            assert any(
                re.search(pattern, text, flags=re.IGNORECASE | re.MULTILINE)
                for pattern, _ in FORBIDDEN[language]
            ), text


# --- button labels ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Label:
    msgid: str
    where: str  # file:line of the button


_TRANSLATE = {"_", "n_"}
_BUTTONS = {"button", "InlineKeyboardButton"}


def _source_files() -> list[Path]:
    files = [p for p in (ROOT / "bot").rglob("*.py") if "sandbox" not in p.parts]
    return files + list((ROOT / "handlers").rglob("*.py"))


def _name_of(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return _name_of(node.value)
    return None


def _marked_strings(node: ast.AST) -> set[str]:
    """Strings marked for the catalog (``N_``/``_``) anywhere inside ``node``."""
    found = set()
    for inner in ast.walk(node):
        if (
            isinstance(inner, ast.Call)
            and _name_of(inner.func) in {"N_", *_TRANSLATE}
            and inner.args
            and isinstance(inner.args[0], ast.Constant)
            and isinstance(inner.args[0].value, str)
        ):
            found.add(inner.args[0].value)
    return found


def _label_tables(trees: dict[Path, ast.Module]) -> dict[str, set[str]]:
    """Names bound to catalog strings (``STALE = N_(…)``, ``KIND_NAMES = {…: N_(…)}``), by name."""
    tables: dict[str, set[str]] = defaultdict(set)
    for tree in trees.values():
        for node in ast.walk(tree):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            else:
                continue
            strings = _marked_strings(value)
            for target in targets:
                name = _name_of(target)
                if name and strings:
                    tables[name] |= strings
    return tables


def _label_msgids(expression: ast.AST, tables: dict[str, set[str]], function: ast.AST | None) -> set[str]:
    found = set()
    for inner in ast.walk(expression):
        if isinstance(inner, ast.Call) and _name_of(inner.func) in _TRANSLATE and inner.args:
            first = inner.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value)
            else:
                found |= tables.get(_name_of(first) or "", set())
        elif isinstance(inner, ast.Call) and _name_of(inner.func) == "role_name":
            found |= tables.get("ROLE_NAMES", set())
        elif isinstance(inner, ast.Name) and function is not None:
            # A label kept in a variable first: what that variable was given in the same function.
            for node in ast.walk(function):
                if isinstance(node, ast.Assign) and any(_name_of(t) == inner.id for t in node.targets):
                    found |= _label_msgids(node.value, tables, None)
    return found


def button_labels() -> list[Label]:
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in _source_files()}
    tables = _label_tables(trees)
    labels = []
    for path, tree in trees.items():
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _name_of(node.func) in _BUTTONS):
                continue
            label = (
                node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "text"), None)
            )
            if label is None:
                continue
            function = next(
                (f for f in functions if f.lineno <= node.lineno <= (f.end_lineno or f.lineno)), None
            )
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            labels += [Label(msgid, where) for msgid in _label_msgids(label, tables, function)]
    return labels


def _without_placeholders(text: str) -> str:
    return "".join(literal for literal, *_ in string.Formatter().parse(text))


def test_the_label_scan_sees_every_features_buttons() -> None:
    msgids = {label.msgid for label in button_labels()}
    for expected in (
        "📶 My village's internet",  # core
        "✖️ Yes, take it away",  # administration
        "🔁 Send again",  # delivery health
        "✖️ Cancel",  # every flow
        "administrator",  # role names through role_name()
    ):
        assert expected in msgids, expected
    assert len(msgids) > 80


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_inline_button_label_is_longer_than_40_characters(language: str) -> None:
    """Placeholders count as empty here: the code shortens what fills them (``ui.shorten``)."""
    t = Translator(language)
    files = {key: domain for domain, key, _ in catalog_entries(language)}
    too_long: dict[str, list[str]] = defaultdict(list)
    for label in sorted(set(button_labels()), key=lambda item: (item.where, item.msgid)):
        text = _without_placeholders(t._(label.msgid))
        if len(text) > MAX_LABEL:
            catalog = f"{files.get(label.msgid, '?')}.po"
            too_long[catalog].append(f"{len(text)} {text!r} ({label.where})")
    report = "\n".join(f"{catalog}:\n  " + "\n  ".join(lines) for catalog, lines in sorted(too_long.items()))
    assert not too_long, f"labels over {MAX_LABEL} characters in {language}:\n{report}"


async def test_rendered_keyboards_fit_a_phone(tmp_path: Path) -> None:
    """Keyboards drawn with real data (the demo's regions and districts, long names) in both languages."""
    from datetime import UTC, datetime

    from bot.admin import keyboards as admin_keyboards
    from bot.admin import service as admin
    from bot.admin.callbacks import RevokeCb
    from bot.core import keyboards as core_keyboards
    from bot.demo.seed import seed_demo
    from bot.roles import Member
    from db.database import Database
    from db.models import Account, RoleGrant
    from db.outbox import OutboxHealth
    from db.users import RoleEntry

    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    db = await Database.open(tmp_path / "words.db")
    await seed_demo(db)
    everyone = Member(
        Account(id=1, first_name="Әсел", first_seen=now, last_seen=now), (), settings_admin=True
    )
    long_name = "Нұржамал-Гүлсімхан Әбдірахманқызы-Сейітжаппарова"
    entry = RoleEntry(
        grant=RoleGrant(user_id=2, role="trainer", scope="5536", granted_at=now),
        first_name=long_name,
        last_name=None,
        username=None,
        area_kk="Баянауыл ауданы",
        area_ru="Баянаульский район",
    )
    page = admin.RolesPage((entry,) * 8, 991, 123, 200, 1600, ())
    health = OutboxHealth(
        pending=1, sent_last_hour=0, failed=3, dropped=0, blocked_recipients=0, oldest_pending_age=None
    )
    drawn = []
    for language in LANGUAGES:
        t = Translator(language)
        choices = [
            await admin.invite_choices(db, everyone, "staff", None),
            await admin.invite_choices(db, everyone, "trainer", "55"),
            await admin.invite_choices(db, everyone, "admin", "15"),
        ]
        drawn += [
            core_keyboards.make_main_menu(t, everyone),
            core_keyboards.make_language_keyboard(language),
            core_keyboards.make_settings_keyboard(t),
            core_keyboards.make_privacy_keyboard(t, anything_kept=True),
            core_keyboards.make_erase_keyboard(t),
            admin_keyboards.make_admin_keyboard(t),
            admin_keyboards.make_invite_role_keyboard(t),
            *(admin_keyboards.make_invite_area_keyboard(t, c) for c in choices),
            admin_keyboards.make_roles_keyboard(t, page, own_id=1),
            admin_keyboards.make_revoke_keyboard(t, RevokeCb(user_id=2, role="trainer", area="5536")),
            admin_keyboards.make_revoke_choices_keyboard(
                t, [(long_name + ", " + long_name, RevokeCb(user_id=2, role="trainer"))]
            ),
            admin_keyboards.make_outbox_keyboard(t, admin.Delivery(health, may_retry=True)),
        ]
    await db.close()
    labels = [button.text for markup in drawn for row in markup.inline_keyboard for button in row]
    assert len(labels) > 100
    assert [label for label in labels if len(label) > MAX_LABEL] == []
