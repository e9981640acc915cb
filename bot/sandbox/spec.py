"""Checking Bot API calls against the official machine-readable specification.

Parameters arrive as form strings (JSON-encoded when not strings, as PTB sends them), as JSON
values, or as uploaded files. Each is checked and converted to its declared type; a missing
required parameter, a wrong type or an unknown parameter is a 400 in Telegram's style.
"""

from __future__ import annotations

import json
import logging
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


SHARED_MESSAGE_OPTIONS = frozenset({
    "parse_mode", "disable_notification", "protect_content", "link_preview_options", "allow_paid_broadcast",
    "message_effect_id", "allow_sending_without_reply",
})
_SCALARS = {"String", "Integer", "Float", "Boolean", "True", "InputFile"}


class Spec:
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
        for name, spec_field in fields.items():
            if name not in params or params[name] is None:
                if spec_field.required:
                    raise SpecError(missing_parameter(name))
                continue
            checked[name] = self._convert(params[name], spec_field.types, name, from_form=True)
        return checked

    def check_object(self, kind: str, value: Any) -> None:
        """Raise SpecError unless ``value`` is a valid ``kind`` (such as "Message"): for checking
        that what the sandbox answers is what a strict client like PTB can parse."""
        self._convert_one(value, kind, kind, from_form=False)

    def _convert(self, value: Any, types: tuple[str, ...], path: str, *, from_form: bool) -> Any:
        if len(types) == 1:
            return self._convert_one(value, types[0], path, from_form=from_form)
        if from_form and isinstance(value, str) and not any(kind in _SCALARS for kind in types):
            # A union of objects (reply_markup, a command scope): parse the JSON once, not per candidate.
            value, from_form = _json(value, path), False
        errors: list[tuple[str, SpecError]] = []
        for candidate in types:
            try:
                return self._convert_one(value, candidate, path, from_form=from_form)
            except SpecError as error:
                errors.append((candidate, error))
        closest = self._closest_type(value, [candidate for candidate, _ in errors])
        if closest is not None:
            # The object plainly meant to be one of the candidates: its own error says what is wrong.
            raise dict(errors)[closest]
        raise SpecError(f'parameter "{path}" must be of type {" or ".join(types)}')

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

    def _convert_one(self, value: Any, kind: str, path: str, *, from_form: bool) -> Any:
        if kind.startswith("Array of "):
            inner = kind.removeprefix("Array of ")
            if isinstance(value, str) and from_form:
                value = _json(value, path)
            if not isinstance(value, list):
                raise SpecError(f'parameter "{path}" must be an Array')
            return [
                self._convert_one(item, inner, f"{path}[{i}]", from_form=False)
                for i, item in enumerate(value)
            ]
        if kind in _SCALARS:
            return _scalar(value, kind, path, from_form=from_form)
        if kind in self.subtypes:
            return self._convert(value, tuple(self.subtypes[kind]), path, from_form=from_form)
        if kind not in self.types:
            return value
        if isinstance(value, str) and from_form:
            value = _json(value, path)
        if not isinstance(value, dict):
            raise SpecError(f"can't parse {_JSON_NAMES.get(path, path)} JSON object")
        fields = self.types[kind]
        for name in value:
            if name not in fields:
                raise SpecError(f'unknown field "{name}" in {path} ({kind})')
        result = {}
        for name, spec_field in fields.items():
            if name not in value or value[name] is None:
                if spec_field.required:
                    raise SpecError(f'field "{name}" of {kind} is required in {path}')
                continue
            result[name] = self._convert(value[name], spec_field.types, f"{path}.{name}", from_form=False)
        _check_discriminator(kind, result, path)
        return result


def _check_discriminator(kind: str, value: dict[str, Any], path: str) -> None:
    """Subtypes such as BotCommandScopeChat are told apart by their ``type`` (or ``source``)."""
    for key in ("type", "source", "status"):
        expected = _DISCRIMINATORS.get(kind, {}).get(key)
        if expected is not None and value.get(key) != expected:
            raise SpecError(f'{path}.{key} must be "{expected}"')


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


_INTEGERS = {"chat_id", "message_id", "offset", "limit", "timeout", "max_connections", "cache_time",
             "message_thread_id", "user_id"}
_FLOATS = {"latitude", "longitude", "horizontal_accuracy"}
_JSON = {"reply_markup", "entities", "caption_entities", "reply_parameters", "link_preview_options",
         "commands", "scope", "allowed_updates"}


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
