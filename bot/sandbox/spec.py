"""Checking Bot API calls against the official machine-readable specification.

Parameters arrive as form strings (JSON-encoded when not strings, as PTB sends them), as JSON
values, or as uploaded files. Each is checked and converted to its declared type; a missing
required parameter, a wrong type or an unknown parameter is a 400 in Telegram's style.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class SpecError(ValueError):
    """A request that does not match the spec; ``str(error)`` is the description after 'Bad Request: '."""


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Field:
    name: str
    types: tuple[str, ...]
    required: bool


SHARED_MESSAGE_OPTIONS = frozenset(
    {
        "parse_mode",
        "disable_notification",
        "protect_content",
        "link_preview_options",
        "allow_paid_broadcast",
        "message_effect_id",
        "allow_sending_without_reply",
    }
)
_SCALARS = {"String", "Integer", "Float", "Boolean", "True", "InputFile"}


# A compiled check of one declared type: (value, path for errors, value still form-encoded?) → value.
Converter = Callable[[Any, str, bool], Any]


class Spec:
    """The spec, compiled once into a converter per declared type, built on first use and cached:
    a request only runs closures, it never walks the spec's JSON."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.version: str = data.get("version", "")
        self.methods: dict[str, dict[str, Field]] = {
            name: {f["name"]: Field(f["name"], tuple(f["types"]), f["required"]) for f in m.get("fields", [])}
            for name, m in data["methods"].items()
        }
        self.types: dict[str, dict[str, Field]] = {
            name: {f["name"]: Field(f["name"], tuple(f["types"]), f["required"]) for f in t.get("fields", [])}
            for name, t in data["types"].items()
        }
        self.subtypes: dict[str, list[str]] = {
            name: t["subtypes"] for name, t in data["types"].items() if t.get("subtypes")
        }
        self._converters: dict[tuple[str, ...], Converter] = {}
        self._method_fields: dict[str, list[tuple[str, bool, Converter]]] = {}

    @classmethod
    def load(cls, path: Path | None) -> Spec | None:
        """The spec at ``path``; None (after one warning) when there is none."""
        if path is None or not Path(path).exists():
            log.warning("Bot API spec not found at %s: checking Telegram's limits only", path)
            return None
        with Path(path).open(encoding="utf-8") as file:
            return cls(json.load(file))

    def knows(self, method: str) -> bool:
        return method in self.methods

    def check_call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """The parameters converted to their declared types, or SpecError."""
        fields = self.methods[method]
        for name in list(params):
            if name not in fields:
                if name in SHARED_MESSAGE_OPTIONS:
                    # python-telegram-bot sends its message defaults to every message method,
                    # including edits that do not declare them; Telegram ignores them, so do we.
                    del params[name]
                    continue
                raise SpecError(f'unknown parameter "{name}" for method {method}')
        checked: dict[str, Any] = {}
        for name, required, convert in self._compiled_method(method):
            value = params.get(name)
            if value is None:
                if required:
                    raise SpecError(missing_parameter(name))
                continue
            checked[name] = convert(value, name, True)
        return checked

    def check_object(self, kind: str, value: Any) -> None:
        """Raise SpecError unless ``value`` is a valid ``kind`` (such as "Message"): for checking
        that what the sandbox answers is what a strict client like PTB can parse."""
        self._converter((kind,))(value, kind, False)

    def _compiled_method(self, method: str) -> list[tuple[str, bool, Converter]]:
        compiled = self._method_fields.get(method)
        if compiled is None:
            compiled = [
                (name, spec_field.required, self._converter(spec_field.types))
                for name, spec_field in self.methods[method].items()
            ]
            self._method_fields[method] = compiled
        return compiled

    def _converter(self, types: tuple[str, ...]) -> Converter:
        found = self._converters.get(types)
        if found is None:
            if len(types) > 1:
                found = self._union_converter(types)
            elif types[0].startswith("Array of "):
                found = self._array_converter(types[0].removeprefix("Array of "))
            elif types[0] in _SCALARS:
                found = functools.partial(_scalar_converter, types[0])
            elif types[0] in self.subtypes:
                found = self._union_converter(tuple(self.subtypes[types[0]]))
            elif types[0] in self.types:
                found = self._object_converter(types[0])
            else:
                found = _accept_anything
            self._converters[types] = found
        return found

    def _array_converter(self, inner_kind: str) -> Converter:
        def convert(value: Any, path: str, from_form: bool) -> Any:
            if from_form and isinstance(value, str):
                value = _json(value, path)
            if not isinstance(value, list):
                raise SpecError(f'parameter "{path}" must be an Array')
            inner = self._converter((inner_kind,))
            return [inner(item, f"{path}[{i}]", False) for i, item in enumerate(value)]

        return convert

    def _object_converter(self, kind: str) -> Converter:
        fields = self.types[kind]
        required = [name for name, spec_field in fields.items() if spec_field.required]
        discriminator = _DISCRIMINATORS.get(kind, {})
        # Filled on first use: types refer to each other (a Message holds a Message it replies to).
        converters: dict[str, Converter] = {}

        def convert(value: Any, path: str, from_form: bool) -> Any:
            if from_form and isinstance(value, str):
                value = _json(value, path)
            if not isinstance(value, dict):
                raise SpecError(f"can't parse {_JSON_NAMES.get(path, path)} JSON object")
            if not converters:
                converters.update({name: self._converter(f.types) for name, f in fields.items()})
            result = {}
            for name, item in value.items():
                convert_field = converters.get(name)
                if convert_field is None:
                    raise SpecError(f'unknown field "{name}" in {path} ({kind})')
                if item is not None:
                    result[name] = convert_field(item, f"{path}.{name}", False)
            for name in required:
                if name not in result:
                    raise SpecError(f'field "{name}" of {kind} is required in {path}')
            for key, expected in discriminator.items():
                if result.get(key) != expected:
                    raise SpecError(f'{path}.{key} must be "{expected}"')
            return result

        return convert

    def _union_converter(self, types: tuple[str, ...]) -> Converter:
        objects_only = not any(kind in _SCALARS for kind in types)

        def convert(value: Any, path: str, from_form: bool) -> Any:
            if from_form and isinstance(value, str) and objects_only:
                # A union of objects (reply_markup, a command scope): parse the JSON once, not per candidate.
                value, from_form = _json(value, path), False
            errors: dict[str, SpecError] = {}
            for candidate in types:
                try:
                    return self._converter((candidate,))(value, path, from_form)
                except SpecError as error:
                    errors[candidate] = error
            closest = self._closest_type(value, list(types))
            if closest is not None:
                # The object plainly meant to be one of the candidates: its own error says what is wrong.
                raise errors[closest]
            raise SpecError(f'parameter "{path}" must be of type {" or ".join(types)}')

        return convert

    def _closest_type(self, value: Any, candidates: list[str]) -> str | None:
        """The object type among ``candidates`` that knows the most of ``value``'s fields."""
        if not isinstance(value, dict):
            return None
        scored = []
        for candidate in candidates:
            for kind in self.subtypes.get(candidate, [candidate]):
                fields = self.types.get(kind)
                if fields is not None:
                    known = sum(1 for name in value if name in fields)
                    tagged = all(value.get(key) == tag for key, tag in _DISCRIMINATORS.get(kind, {}).items())
                    # A matching "type" tag names the subtype outright; otherwise the fields decide.
                    bonus = 100 if kind in _DISCRIMINATORS and tagged else 0
                    scored.append((bonus + known - (len(value) - known), candidate))
        if not scored:
            return None
        best = max(score for score, _ in scored)
        return next(candidate for score, candidate in scored if score == best)


def _accept_anything(value: Any, path: str, from_form: bool) -> Any:
    """A type the spec names but does not describe: nothing to check."""
    return value


def _scalar_converter(kind: str, value: Any, path: str, from_form: bool) -> Any:
    return _scalar(value, kind, path, from_form=from_form)


_DISCRIMINATORS: dict[str, dict[str, str]] = {
    "BotCommandScopeDefault": {"type": "default"},
    "BotCommandScopeAllPrivateChats": {"type": "all_private_chats"},
    "BotCommandScopeAllGroupChats": {"type": "all_group_chats"},
    "BotCommandScopeAllChatAdministrators": {"type": "all_chat_administrators"},
    "BotCommandScopeChat": {"type": "chat"},
    "BotCommandScopeChatAdministrators": {"type": "chat_administrators"},
    "BotCommandScopeChatMember": {"type": "chat_member"},
    "InputMediaPhoto": {"type": "photo"},
    "InputMediaVideo": {"type": "video"},
    "InputMediaDocument": {"type": "document"},
    "InputMediaAudio": {"type": "audio"},
    "InputMediaAnimation": {"type": "animation"},
    "MenuButtonCommands": {"type": "commands"},
    "MenuButtonWebApp": {"type": "web_app"},
    "MenuButtonDefault": {"type": "default"},
    # A ChatMember is told apart by its status, so a "kicked" member is never read as a plain one.
    "ChatMemberOwner": {"status": "creator"},
    "ChatMemberAdministrator": {"status": "administrator"},
    "ChatMemberMember": {"status": "member"},
    "ChatMemberRestricted": {"status": "restricted"},
    "ChatMemberLeft": {"status": "left"},
    "ChatMemberBanned": {"status": "kicked"},
}


# Telegram's own words for a missing parameter, where they are known.
_MISSING = {"text": "message text is empty", "chat_id": "chat_id is empty"}
# How Telegram names a parameter whose JSON it cannot parse.
_JSON_NAMES = {
    "reply_markup": "reply keyboard markup",
    "reply_parameters": "reply parameters",
    "link_preview_options": "link preview options",
}


def missing_parameter(name: str) -> str:
    return _MISSING.get(name, f'parameter "{name}" is required')


def _json(value: str, path: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise SpecError(f"can't parse {_JSON_NAMES.get(path, path)} JSON object") from None


def _scalar(value: Any, kind: str, path: str, *, from_form: bool) -> Any:
    if kind == "InputFile":
        if isinstance(value, Upload):
            return value
        raise SpecError(f'parameter "{path}" must be a file')
    if isinstance(value, Upload):
        raise SpecError(f'parameter "{path}" must be of type {kind}')
    if kind == "String":
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise SpecError(f'parameter "{path}" must be of type String')
    if kind == "Integer":
        if isinstance(value, bool):
            raise SpecError(f'parameter "{path}" must be of type Integer')
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise SpecError(f'parameter "{path}" must be of type Integer')
    if kind == "Float":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise SpecError(f'parameter "{path}" must be of type Float')
    if kind in ("Boolean", "True"):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise SpecError(f'parameter "{path}" must be of type Boolean')
    raise SpecError(f"unknown type {kind}")


_INTEGERS = {
    "chat_id",
    "message_id",
    "offset",
    "limit",
    "timeout",
    "max_connections",
    "cache_time",
    "message_thread_id",
    "user_id",
}
_FLOATS = {"latitude", "longitude", "horizontal_accuracy"}
_JSON = {
    "reply_markup",
    "entities",
    "caption_entities",
    "reply_parameters",
    "link_preview_options",
    "commands",
    "scope",
    "allowed_updates",
}


def coerce_without_spec(params: dict[str, Any]) -> dict[str, Any]:
    """Best-effort types for the sandbox's own methods when the spec file is absent."""
    result: dict[str, Any] = {}
    for name, value in params.items():
        if not isinstance(value, str):
            result[name] = value
        elif name in _INTEGERS:
            result[name] = int(value) if value.lstrip("-").isdigit() else value
        elif name in _FLOATS:
            try:
                result[name] = float(value)
            except ValueError:
                raise SpecError(f'parameter "{name}" must be of type Float') from None
        elif name in _JSON:
            result[name] = _json(value, name)
        elif value.lower() in ("true", "false") and name not in ("text", "caption"):
            result[name] = value.lower() == "true"
        else:
            result[name] = value
    for required in ("chat_id",):
        if required in result and result[required] == "":
            raise SpecError(missing_parameter(required))
    return result
