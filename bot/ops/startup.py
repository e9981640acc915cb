"""Checks before the bot starts serving: fail at once, in one line, rather than run answering nobody.

``auylnet run`` (and ``auylnet demo`` for its database) call these before anything else starts. A
problem raises ``StartupError`` whose text is the one line to print and whose ``status`` is the exit
status: 2 for a setting to correct (the token), 3 for a database that cannot be used.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from telegram import Bot, User
from telegram.error import InvalidToken, NetworkError

from bot.config import Settings
from db.database import Database

log = logging.getLogger(__name__)

EXIT_BAD_SETTINGS = 2
EXIT_DATABASE = 3
DATABASE_ERRORS = (sqlite3.Error, OSError)


class StartupError(Exception):
    def __init__(self, status: int, line: str) -> None:
        super().__init__(line)
        self.status = status
        self.line = line


class _RolledBack(Exception):
    """Ends the write probe's transaction without committing it."""


def database_problem(db_path: Path, error: BaseException) -> StartupError:
    return StartupError(
        EXIT_DATABASE,
        f"cannot use the database {db_path}: {error} (check AUYLNET_DB_PATH, the file's and its folder's"
        " permissions, and the free disk space)",
    )


async def check_database(db_path: Path) -> list[str]:
    """Open the database, apply pending migrations and prove it takes a write (rolled back).

    Returns the migrations applied now; StartupError when any step fails.
    """
    try:
        database = await Database.open(db_path)
    except DATABASE_ERRORS as error:
        raise database_problem(db_path, error) from None
    try:
        applied = await database.migrate()
        try:
            async with database.transaction() as tx:
                await tx.execute("CREATE TABLE startup_write_probe (x INTEGER)")
                raise _RolledBack
        except _RolledBack:
            pass
    except DATABASE_ERRORS as error:
        raise database_problem(db_path, error) from None
    finally:
        await database.close()
    return applied


def token_rejected() -> StartupError:
    return StartupError(
        EXIT_BAD_SETTINGS,
        "invalid setting AUYLNET_BOT_TOKEN: Telegram rejected it (getMe: Unauthorized);"
        " copy the token from @BotFather again",
    )


async def check_token(settings: Settings) -> User | None:
    """The bot's own user from getMe; None when the Bot API cannot be reached (not decided yet).

    StartupError when Telegram rejects the token. The token itself is never part of the message.
    """
    try:
        bot = Bot(settings.bot_token.get_secret_value(), base_url=settings.api_base_url)
    except InvalidToken:
        raise token_rejected() from None
    try:
        await bot.initialize()
        return bot.bot
    except InvalidToken:
        raise token_rejected() from None
    except NetworkError as error:
        log.warning("cannot reach the Bot API at %s to check the token: %s", settings.api_base_url, error)
        return None
    finally:
        await bot.shutdown()
