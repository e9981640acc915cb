"""Place names: what people should see, and a spelling-blind form to search by.

People write a village the Kazakh way (Шақат), the Russian way (Шакат), in Kazakh Latin (Şaqat)
or plain ASCII (shakat). ``fold`` maps all of these onto one skeleton, so the fuzzy matcher only
has to forgive real typos.
"""

from __future__ import annotations

import re

_RU_PREFIX = re.compile(r"^(?:с\.|п\.|г\.|пос\.|село|поселок|посёлок)\s*", re.IGNORECASE)
_KK_SUFFIX = re.compile(r"\s+(?:а\.|к\.|қ\.|ауылы|кенті)$", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def display_settlement(name: str, language: str) -> str:
    """«с.Шакат» → «Шакат», «Шақат а.» → «Шақат»; other kinds (ферма, зимовка) stay named."""
    name = _SPACES.sub(" ", name).strip()
    if language == "ru":
        return _RU_PREFIX.sub("", name).strip()
    return _KK_SUFFIX.sub("", name).strip()


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


def fold(text: str) -> str:
    """A spelling-blind key: Шақат, Шакат, Şaqat and shakat all become «шакат»."""
    text = text.lower().replace("-", " ")
    text = _NOT_LETTERS.sub(" ", text)
    for latin, cyrillic in _LATIN_PAIRS:
        text = text.replace(latin, cyrillic)
    text = text.translate(_LATIN).translate(_CYRILLIC)
    text = text.replace("дж", "ж")
    text = _REPEATS.sub(r"\1", text)
    return _SPACES.sub(" ", text).strip()
