"""Webhook delivery: POST each update to the bot's URL until it answers 2xx."""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from bot.sandbox.state import BotState, World, now_seconds

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def start_delivery(world: World, bot: BotState) -> None:
    if bot.webhook_task is not None:
        bot.webhook_task.cancel()
    bot.webhook_task = asyncio.get_running_loop().create_task(_deliver_forever(world, bot))


async def _deliver_forever(world: World, bot: BotState) -> None:
    backoff = 0.1
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        while bot.webhook is not None:
            if not bot.updates:
                bot.arrived.clear()
                await bot.arrived.wait()
                continue
            hook = bot.webhook
            update = bot.updates[0]
            headers = {SECRET_HEADER: hook.secret_token} if hook.secret_token else {}
            try:
                async with session.post(hook.url, json=update, headers=headers) as response:
                    ok = 200 <= response.status < 300
                    error = f"Wrong response from the webhook: {response.status} {response.reason}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                ok, error = False, f"Connection failed: {exc.__class__.__name__}"
            if ok:
                bot.updates.pop(0)
                backoff = 0.1
                continue
            hook.last_error_date, hook.last_error_message = now_seconds(), error
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
