"""Logging for every ``auylnet`` command: plain text for people, JSON lines for log collectors.

One handler on the root logger writes to standard error. Every record passes ``RedactTokens``
first: Bot API URLs carry the bot token (``…/bot<token>/getMe``) and python-telegram-bot and httpx
put those URLs and the token itself into messages and exceptions, so the token is replaced wherever
it appears — message, arguments, traceback, stack — before anything is written.

Fields given with ``extra=`` (``log.info("update handled", extra={"update_id": 7})``) become keys of
the JSON object, and ``key=value`` pairs after the message in text.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from datetime import UTC, datetime
from typing import Literal, TextIO

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
REDACTED = "<redacted>"

# A Bot API token: the bot's numeric id, a colon, and a secret of letters, digits, "_" and "-".
# The id is public (it is the bot's user id) and stays readable; the secret is replaced.
_TOKEN = re.compile(r"(?<!\d)(\d{3,20}):[A-Za-z0-9_-]{20,}")
# Attributes every LogRecord has; anything else on a record came in through ``extra=``.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_secrets: set[str] = set()


def redact_secret(secret: str) -> None:
    """Also hide this exact string (the configured token, whatever its shape) from every log line."""
    if secret:
        _secrets.add(secret)


def redact(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _TOKEN.sub(lambda match: f"{match.group(1)}:{REDACTED}", text)


class RedactTokens(logging.Filter):
    """Render the record's message and traceback now, with tokens replaced, so no handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: still log, never raise
            message = f"{record.msg} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
            # The text above is what gets written; the live exception (whose str() may hold the
            # token) is not kept for a handler to format again.
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, redact(value))
        return True


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {key: value for key, value in record.__dict__.items() if key not in _STANDARD}


class TextFormatter(logging.Formatter):
    """``2026-11-29 18:40:01,123 INFO bot.app: message key=value`` (tokens redacted once more)."""

    def __init__(self) -> None:
        super().__init__(_TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = _extras(record)
        if extras:
            head, newline, rest = line.partition("\n")
            pairs = " ".join(f"{key}={value}" for key, value in extras.items())
            line = f"{head} {pairs}{newline}{rest}"
        return redact(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in _extras(record).items():
            entry.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return redact(json.dumps(entry, ensure_ascii=False, default=str))


def formatter(log_format: LogFormat) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def setup_logging(
    log_format: LogFormat = "text", *, level: int = logging.INFO, stream: TextIO | None = None
) -> logging.Handler:
    """Route every logger to one redacting handler on standard error; returns that handler."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter(log_format))
    handler.addFilter(RedactTokens())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL (with the token) at INFO; its failures still come through.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.captureWarnings(True)
    return handler
