"""Typed callback data: what a button carries, packed into Telegram's 64 bytes.

``class Lang(CallbackData, prefix="lang"): code: Language`` packs to ``"lang:kk"``. Buttons never
carry translated labels. Fields are typed narrowly (``Literal`` choices, :data:`Id`, :data:`Kato`),
so forged data fails parsing; what parses may still be stale, so the rules check roles, areas and
existence on the server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_BYTES = 64
SEPARATOR = ":"

# Row ids in buttons: a forged 20-digit number must fail parsing (and get the stale-button answer),
# not reach SQLite, whose integers stop at 2**63 - 1.
Id = Annotated[int, Field(ge=0, le=2**53)]
# A KATO code or a prefix of one (an area): digits only.
Kato = Annotated[str, Field(pattern=r"^[0-9]{1,12}$")]


class CallbackData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    prefix: ClassVar[str]

    def __init_subclass__(cls, prefix: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if prefix is not None:
            if SEPARATOR in prefix:
                raise ValueError(f"prefix {prefix!r} contains {SEPARATOR!r}")
            cls.prefix = prefix

    def pack(self) -> str:
        parts = [self.prefix]
        for name in type(self).model_fields:
            value = getattr(self, name)
            text = "" if value is None else str(int(value) if isinstance(value, bool) else value)
            if SEPARATOR in text:
                raise ValueError(f"{name}={text!r} contains {SEPARATOR!r}")
            parts.append(text)
        packed = SEPARATOR.join(parts)
        if len(packed.encode()) > MAX_BYTES:
            raise ValueError(f"callback data {packed!r} is longer than {MAX_BYTES} bytes")
        return packed

    @classmethod
    def unpack(cls, data: str) -> Self:
        """Parse packed data; raises ValueError when it is not this kind or malformed."""
        prefix, *values = data.split(SEPARATOR)
        names = list(cls.model_fields)
        if prefix != cls.prefix or len(values) != len(names):
            raise ValueError(f"not {cls.__name__}: {data!r}")
        raw = {name: (value if value != "" else None) for name, value in zip(names, values, strict=True)}
        try:
            return cls.model_validate(raw)
        except ValidationError as error:
            raise ValueError(f"malformed {cls.__name__}: {data!r}") from error

    @classmethod
    def parse(cls, data: object) -> Self | None:
        """The unpacked data, or None when it is stale or forged."""
        if not isinstance(data, str):
            return None
        try:
            return cls.unpack(data)
        except ValueError:
            return None

    @classmethod
    def filter(cls) -> Callable[[object], bool]:
        """A CallbackQueryHandler pattern selecting this kind by its prefix."""
        head = cls.prefix + SEPARATOR

        def matches(data: object) -> bool:
            return isinstance(data, str) and (data == cls.prefix or data.startswith(head))

        return matches
