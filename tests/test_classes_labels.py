"""Every button of the classes feature fits a phone (≤ 40 characters) in Kazakh and Russian, by
wording; only a name a person typed is shortened, at a word, to make room."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from telegram import InlineKeyboardMarkup

from bot.classes import keyboards
from bot.classes.service import ClassCard
from bot.i18n import Translator
from bot.notify import render
from bot.places.search import Place
from db.classes import AGE_GROUPS, Booking, Lesson, RosterEntry

LONG_NAME = "Гүлжазира Сейітқазықызы Әбдіқадырова-Жолдасбекова"
LESSON = Lesson(
    id=123456,
    trainer_id=1,
    village_code="153430100",
    venue="Мәдениет үйі",
    starts_at=datetime(2026, 9, 30, 5, 0, tzinfo=UTC),  # a Wednesday in September: long names of both
    minutes=120,
    topic="safety",
    language="kk",
    capacity=12,
    state="scheduled",
    village_kk="Темірбек Жүргенов атындағы ауыл",
    village_ru="Темирбека Жургенева",
)


def booking(state: str, name: str | None, n: int = 1, attendance: str | None = None) -> Booking:
    return Booking.model_validate(
        dict(
            id=999_999_000 + n, class_id=LESSON.id, user_id=1, attendee_name=name, age_group=AGE_GROUPS[n % 3],
            state=state, attendance=attendance, created_at=LESSON.starts_at,
        )
    )  # fmt: skip


def labels(markup: InlineKeyboardMarkup | None) -> list[str]:
    assert markup is not None
    return [button.text for row in markup.inline_keyboard for button in row]


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_every_classes_button_fits_a_phone(language: str) -> None:
    t = Translator(language)  # type: ignore[arg-type]
    mine = [booking("booked", None), booking("waiting", LONG_NAME, 2), booking("offered", "Мама Нина", 3)]
    entries = [RosterEntry(booking=booking("booked", None, n, mark), name=LONG_NAME) for n, mark in
               enumerate((None, "present", "absent"))]  # fmt: skip
    place = Place(
        code="153430100", name_kk=LESSON.village_kk, name_ru=LESSON.village_ru,
        district_kk="Әйтеке би ауданы", district_ru="Айтекебийский район",
        region_kk="Ақтөбе облысы", region_ru="Актюбинская область",
    )  # fmt: skip
    markups = [
        keyboards.make_list_keyboard(t, [LESSON] * 10),
        keyboards.make_card_keyboard(t, ClassCard(LESSON, mine)),
        keyboards.make_card_keyboard(t, ClassCard(LESSON.model_copy(update={"taken": 12}), [])),
        keyboards.make_age_keyboard(t, LESSON.id, "me"),
        keyboards.make_cancel_question_keyboard(t, mine[1]),
        keyboards.make_offer_keyboard(t, 1, relative=True),
        keyboards.make_offer_keyboard(t, 1, relative=False),
        keyboards.make_reminder_keyboard(t, 1, relative=True),
        keyboards.make_reminder_keyboard(t, 1, relative=False),
        keyboards.make_moved_keyboard(t, LESSON.id, [(1, "waiting", LONG_NAME)]),
        keyboards.make_moved_keyboard(t, LESSON.id, []),
        keyboards.make_new_class_keyboard(t, LESSON.id),
        keyboards.make_trainer_keyboard(t),
        keyboards.make_village_keyboard(t, [place]),
        keyboards.make_day_keyboard(t, [date(2026, 9, 28) + timedelta(days=n) for n in range(7)], LESSON.id),
        keyboards.make_time_keyboard(t, date(2026, 9, 30)),
        keyboards.make_length_keyboard(t),
        keyboards.make_topic_keyboard(t),
        keyboards.make_language_keyboard(t),
        keyboards.make_seats_keyboard(t, LESSON.id),
        keyboards.make_save_keyboard(t),
        keyboards.make_my_classes_keyboard(t, [LESSON]),
        keyboards.make_roster_keyboard(t, LESSON, entries, register_open=True, changeable=True),
        keyboards.make_close_question_keyboard(t, LESSON.id),
        keyboards.make_cancel_class_keyboard(t, LESSON.id),
        keyboards.make_walk_in_age_keyboard(t, LESSON.id),
        keyboards.make_done_keyboard(t),
    ]
    params = {
        "class": LESSON.id, "topic": "safety", "starts_at": LESSON.starts_at.isoformat(), "venue": LESSON.venue,
        "village": {"kk": LESSON.village_kk, "ru": LESSON.village_ru}, "minutes": 120, "language": "ru",
        "booking": 5, "attendee": LONG_NAME, "hours": 2, "until": LESSON.starts_at.isoformat(), "seats": 12,
        "bookings": [{"id": 5, "state": "booked", "attendee": LONG_NAME}],
    }  # fmt: skip
    markups += [
        render(kind, t, params).keyboard
        for kind in ("class.reminder", "class.offer", "class.changed", "class.new")
    ]
    every = [label for markup in markups for label in labels(markup)]
    too_long = [label for label in every if len(label) > 40]
    assert too_long == []
    english = [
        label
        for label in every
        if re.search(r"[A-Za-z]{3,}", label.replace("eGov", "").replace("Kundelik", ""))
    ]
    assert english == []  # every label comes translated from the catalog
    names = (LONG_NAME[:10], LESSON.village_kk[:10], LESSON.village_ru[:10])
    cut = [label for label in every if label.endswith("…")]
    assert all(any(name in label for name in names) for label in cut)  # only names are shortened
    assert any(label.startswith("✖️") and "Гүлжазира" in label and label.endswith("…") for label in every)


def test_the_classes_catalogs_use_the_glossary_terms() -> None:
    """One term per concept (../shared/reviews/catalogs.md §1): «занятие», not «урок»; «статистика»,
    not «цифры» or «сандар»; no archaic «весть»; residents are not told «болдырылмады» about their own
    booking; «60 жастан бастап» / «60 лет и старше» for the oldest age group."""
    root = Path(__file__).resolve().parents[1] / "locales"
    ru = (root / "ru" / "LC_MESSAGES" / "classes.po").read_text(encoding="utf-8")
    kk = (root / "kk" / "LC_MESSAGES" / "classes.po").read_text(encoding="utf-8")
    ru_strings = "\n".join(line for line in ru.splitlines() if line.startswith("msgstr"))
    kk_strings = "\n".join(line for line in kk.splitlines() if line.startswith("msgstr"))
    for forbidden in (r"\b[Уу]рок", r"\b[Цц]ифры\b", r"\bвесть\b", r"Старше 60", r"\bсамому\b"):
        assert not re.search(forbidden, ru_strings), forbidden
    for forbidden in (r"\b[Сс]андар\b", r"және одан үлкен", r"Кімге жазылған", r"Мені күту"):
        assert not re.search(forbidden, kk_strings), forbidden
    assert Translator("kk")._("Your booking is cancelled.") == "Жазылудан бас тарттыңыз."
    assert Translator("ru")._("60 and older") == "60 лет и старше"
