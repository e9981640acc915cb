"""Place names: what people should see, and a spelling-blind form to search by.

People write a village the Kazakh way (Шақат), the Russian way (Шакат), in Kazakh Latin (Şaqat)
or plain ASCII (shakat). ``fold`` maps all of these onto one skeleton, so the fuzzy matcher only
has to forgive real typos.
"""

from __future__ import annotations

import functools
import re
from typing import Literal

SettlementKind = Literal["village", "town", "station", "locality"]

_RU_PREFIX = re.compile(r"^(?:с\.|п\.|г\.|пос\.|село|поселок|посёлок)\s*", re.IGNORECASE)
_KK_SUFFIX = re.compile(r"\s+(?:а\.|к\.|қ\.|ауылы|кенті)$", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def display_settlement(name: str, language: str) -> str:
    """«с.Шакат» → «Шакат», «Шақат а.» → «Шақат»; other kinds (ферма, зимовка) stay named."""
    name = _SPACES.sub(" ", name).strip()
    if language == "ru":
        return _RU_PREFIX.sub("", name).strip()
    return _KK_SUFFIX.sub("", name).strip()


_VILLAGE = re.compile(r"^(?:с\.|село\b)", re.IGNORECASE)
_TOWN = re.compile(r"^(?:г\.|п\.|пос\.|поселок\b|посёлок\b|район\s)", re.IGNORECASE)
_STATION = re.compile(r"^(?:ст\.|рзд\.)", re.IGNORECASE)


def settlement_kind(name_ru: str) -> SettlementKind:
    """What the classifier's Russian name says a settlement is.

    «с.» a village, «г.»/«п.» a town, «ст.»/«рзд.» a railway station or siding; everything else
    (зимовка, точка, ферма, уч., отг., Дом чабана…) is a small locality.
    """
    name = _SPACES.sub(" ", name_ru).strip()
    if _VILLAGE.match(name):
        return "village"
    if _TOWN.match(name):
        return "town"
    if _STATION.match(name):
        return "station"
    return "locality"


def display_area(name: str, language: str) -> str:
    """District and okrug names: the abbreviations spelled out plainly."""
    name = _SPACES.sub(" ", name).strip()
    if language == "ru":
        name = re.sub(r"\s*Г\.А\.$", " (городская администрация)", name)
        name = re.sub(r"\s*с\.о\.?$", " сельский округ", name)
    else:
        name = re.sub(r"\s*Қ\.Ә\.$", " (қалалық әкімдік)", name)
        name = re.sub(r"\s*а\.о\.?$", " ауылдық округі", name)
    return name


# Kazakh letters onto their Russian neighbours, look-alikes onto what they imitate.
_CYRILLIC = str.maketrans(
    {
        "ә": "а",
        "ғ": "г",
        "қ": "к",
        "ң": "н",
        "ө": "о",
        "ұ": "у",
        "ү": "у",
        "һ": "х",
        "і": "и",
        "ё": "е",
        "й": "и",
        "ы": "и",
        "э": "е",
        "ъ": None,
        "ь": None,
        "ə": "а",
        "ɵ": "о",
        "ӛ": "о",
        "ќ": "к",
    }
)
_LATIN_PAIRS = [
    ("shch", "щ"),
    ("sh", "ш"),
    ("ch", "ч"),
    ("zh", "ж"),
    ("kh", "х"),
    ("ts", "ц"),
    ("ya", "я"),
    ("ia", "я"),
    ("yu", "ю"),
    ("iu", "ю"),
    ("yo", "е"),
]
_LATIN = str.maketrans(
    {
        "a": "а",
        "ä": "а",
        "b": "б",
        "c": "к",
        "d": "д",
        "e": "е",
        "f": "ф",
        "g": "г",
        "ğ": "г",
        "h": "х",
        "i": "и",
        "ı": "и",
        "j": "ж",
        "k": "к",
        "l": "л",
        "m": "м",
        "n": "н",
        "ñ": "н",
        "o": "о",
        "ö": "о",
        "p": "п",
        "q": "к",
        "r": "р",
        "s": "с",
        "ş": "ш",
        "t": "т",
        "u": "у",
        "ū": "у",
        "ü": "у",
        "v": "в",
        "w": "у",
        "x": "х",
        "y": "и",
        "z": "з",
    }
)
_NOT_LETTERS = re.compile(r"[^0-9a-zа-яёәғқңөұүһіıəɵşçğñäöüū ]+")
_REPEATS = re.compile(r"(.)\1+")


_LATIN_LETTER = re.compile(r"[a-zıəɵşçğñäöüū]")


@functools.lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """A spelling-blind key: Шақат, Шакат, Şaqat and shakat all become «шакат»."""
    text = _NOT_LETTERS.sub(" ", text.lower().replace("-", " "))
    if _LATIN_LETTER.search(text):
        for latin, cyrillic in _LATIN_PAIRS:
            text = text.replace(latin, cyrillic)
        text = text.translate(_LATIN)
    text = text.translate(_CYRILLIC).replace("дж", "ж")
    return " ".join(_REPEATS.sub(r"\1", text).split())


# The words a small locality's name keeps for its kind («зимовка Жанабаз», «Жаңабаз қыстауы»): a
# search for «Жанабаз» should find it by the rest of its name.
_KIND_WORDS = frozenset(
    fold(word)
    for word in (
        "зимовка",
        "қыстауы",
        "точка",
        "мекен",
        "мекені",
        "ферма",
        "уч",
        "отг",
        "ж",
        "кр",
        "хоз",
        "шарқож",
        "поселье",
        "қонысы",
        "ст",
        "рзд",
    )
)


@functools.lru_cache(maxsize=1 << 16)
def core_name(folded: str) -> str:
    """A folded name without the words that only say what kind of place it is."""
    return " ".join(word for word in folded.split() if word not in _KIND_WORDS)
