"""``auylnet doctor``: is this deployment ready to go live? One line per check, and what to fix.

Checks, in order: the token (getMe), the staff group (getChat, then getChatMember for the bot: it
must be in the group and allowed to post), the database (it opens, takes a write, and its pending
migrations apply — tried on a copy, so the doctor changes nothing), the admins (from
AUYLNET_ADMIN_IDS or granted), and the village classifier (imported). A check that cannot pass
because an earlier one failed is not reported again.
"""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from telegram import Bot, ChatMember, User
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, InvalidToken, TelegramError

from bot.config import Settings
from bot.ops.backup import BackupError, copy_database
from bot.ops.instance import running_bot
from db import places, users
from db.database import Database

MAY_POST = {ChatMember.OWNER, ChatMember.ADMINISTRATOR, ChatMember.MEMBER}


@dataclass(frozen=True)
class Finding:
    ok: bool
    text: str

    def line(self) -> str:
        return f"{'ok ' if self.ok else 'FIX'}  {self.text}"


def _ok(text: str) -> Finding:
    return Finding(True, text)


def _fix(text: str) -> Finding:
    return Finding(False, text)


async def diagnose(settings: Settings) -> list[Finding]:
    findings: list[Finding] = []
    bot = await _check_token(settings, findings)
    if bot is not None:
        try:
            await _check_staff_group(bot, settings, findings)
        finally:
            await bot.shutdown()
    await _check_database(settings, findings)
    return findings


async def _check_token(settings: Settings, findings: list[Finding]) -> Bot | None:
    try:
        bot = Bot(settings.bot_token.get_secret_value(), base_url=settings.api_base_url)
        await bot.initialize()
    except InvalidToken:
        findings.append(
            _fix(
                "AUYLNET_BOT_TOKEN: Telegram rejected the token (getMe: Unauthorized); copy it from @BotFather again"
            )
        )
        return None
    except TelegramError as error:
        findings.append(
            _fix(
                f"AUYLNET_API_BASE_URL: the Bot API at {settings.api_base_url} did not answer getMe: {error}"
            )
        )
        return None
    me: User = bot.bot
    findings.append(_ok(f"token: the bot is @{me.username} (id {me.id})"))
    return bot


async def _check_staff_group(bot: Bot, settings: Settings, findings: list[Finding]) -> None:
    chat_id = settings.staff_chat_id
    if chat_id is None:
        findings.append(
            _fix(
                "AUYLNET_STAFF_CHAT_ID is not set: add the bot to the staff group and set the group's id"
                " (a negative number), or outage alerts reach staff only in private"
            )
        )
        return
    where = f"AUYLNET_STAFF_CHAT_ID={chat_id}"
    try:
        chat = await bot.get_chat(chat_id)
        member = await bot.get_chat_member(chat_id, bot.id)
    except Forbidden as error:
        findings.append(
            _fix(f"{where}: the bot was removed from that group ({error.message}): add @{bot.username} again")
        )
        return
    except BadRequest as error:
        findings.append(
            _fix(
                f"{where}: @{bot.username} is not in that group (Telegram: {error.message}):"
                " add the bot to the staff group, or correct the id"
            )
        )
        return
    except TelegramError as error:
        findings.append(_fix(f"{where}: Telegram did not answer getChat: {error}"))
        return
    if chat.type == ChatType.PRIVATE:
        findings.append(_fix(f"{where} is a private chat, not a group: use the staff group's id (negative)"))
        return
    title = f"«{chat.title}»"
    if member.status not in MAY_POST and not (
        member.status == ChatMember.RESTRICTED and getattr(member, "can_send_messages", False)
    ):
        findings.append(
            _fix(f"{where}: @{bot.username} is not in {title} (status {member.status}): add it again")
        )
        return
    members_may_post = chat.permissions is None or chat.permissions.can_send_messages is not False
    if member.status in (ChatMember.MEMBER, ChatMember.RESTRICTED) and not members_may_post:
        findings.append(
            _fix(f"{where}: members may not post in {title}: make @{bot.username} an admin there")
        )
        return
    findings.append(_ok(f"staff group: {title} ({chat_id}); the bot may post there"))


async def _check_database(settings: Settings, findings: list[Finding]) -> None:
    path = settings.db_path
    if not path.exists():
        findings.append(_ok(f"database: {path} does not exist yet; the first start or import creates it"))
        admins, villages = 0, 0
    else:
        try:
            _try_a_write(path)
        except sqlite3.Error as error:
            findings.append(_fix(f"AUYLNET_DB_PATH: {path} cannot be written: {error}"))
            return
        with tempfile.TemporaryDirectory(prefix="auylnet-doctor-") as scratch:
            copy = Path(scratch) / "copy.db"
            try:
                copy_database(path, copy)
            except BackupError as error:
                findings.append(_fix(f"AUYLNET_DB_PATH: {error}"))
                return
            try:
                database = await Database.open(copy, migrate=False)
            except sqlite3.Error as error:
                findings.append(_fix(f"AUYLNET_DB_PATH: {path} cannot be opened: {error}"))
                return
            try:
                pending = await database.migrate()
                async with database.read() as conn:
                    admins = len(await users.holders_of(conn, "admin", None))
                    villages = await places.count_villages(conn)
            except sqlite3.Error as error:
                findings.append(
                    _fix(f"database: {path} does not migrate: {error}; restore a backup or report it")
                )
                return
            finally:
                await database.close()
        running = running_bot(path)
        state = "up to date" if not pending else f"{len(pending)} migrations apply cleanly at the next start"
        if running is not None:
            state += f"; a bot is running on it (process {running or '?'})"
        findings.append(_ok(f"database: {path}, schema {state}"))
    if settings.admin_ids or admins:
        findings.append(_ok(f"admins: {len(settings.admin_ids)} in AUYLNET_ADMIN_IDS, {admins} granted"))
    else:
        findings.append(
            _fix("no admin: put your Telegram user id in AUYLNET_ADMIN_IDS (or `auylnet grant ID admin`)")
        )
    if villages:
        findings.append(_ok(f"classifier: {villages:,} villages imported".replace(",", " ")))
    else:
        findings.append(
            _fix("the village list is empty: `auylnet import kato KATO.csv` (the official classifier)")
        )


def _try_a_write(path: Path) -> None:
    """A write that is rolled back: proves the file and its folder take writes, changes nothing."""
    connection = sqlite3.connect(path, timeout=5, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute("CREATE TABLE doctor_write_probe (x INTEGER)")
        finally:
            connection.execute("ROLLBACK")
    finally:
        connection.close()
