"""The installed package, run as an operator runs it: a smoke story against the sandbox.

Run with the Python of a virtual environment the wheel was installed into, from a folder outside
the checkout, in isolated mode so nothing of the checkout can be imported:

    cd /tmp && /path/to/venv/bin/python -I /path/to/checkout/tests/smoke_installed.py

It imports ``bot`` only from that environment's site-packages (and says so), imports the demo's
village list with the installed ``auylnet import``, starts the sandbox from the installed package,
runs the installed ``auylnet run`` against it, and plays one resident in Kazakh: ``/start`` gets
Kazakh text, a village search finds Баянауыл, an outage report gets a ticket. Each step waits for the
Kazakh text of a different catalog, so a catalog missing from the wheel fails the story. Not
collected by pytest; ``.ci/run`` runs it before the test suite. Exit status 0 when it all worked.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import sysconfig
import tempfile
from importlib import metadata, resources
from pathlib import Path

TOKEN = "7000000042:" + "S" * 35
STEP_TIMEOUT = 20.0


def check(condition: bool, failure: str) -> None:
    if not condition:
        raise SystemExit(f"smoke: FAILED: {failure}")


def installed_location() -> Path:
    """Where ``bot`` was imported from, after checking it is this environment's site-packages."""
    import bot

    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    where = Path(bot.__file__).resolve()
    check(site in where.parents, f"bot was imported from {where}, not from the installed package in {site}")
    return site


def auylnet(*args: str, env: dict[str, str], cwd: Path) -> str:
    command = Path(sys.executable).parent / "auylnet"
    done = subprocess.run(
        [str(command), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    check(
        done.returncode == 0,
        f"auylnet {' '.join(args)} ended with {done.returncode}:\n{done.stdout}{done.stderr}",
    )
    return done.stdout


async def resident_story(sandbox_url: str) -> str:
    from bot.sandbox.client import SandboxClient

    async with SandboxClient(sandbox_url) as client:
        aigul = await client.user("Айгүл", language_code="kk")
        try:
            await aigul.send("/start")
            prompt = await aigul.next_message(timeout=STEP_TIMEOUT)
            check(prompt.text.splitlines()[0] == "Тілді таңдаңыз:", f"/start answered {prompt.text!r}")
            await aigul.press("Қазақша")
            menu = await aigul.wait_for(lambda m: "📶 Ауылымның интернеті" in m.labels, STEP_TIMEOUT)

            await aigul.press_on(menu, "📶 Ауылымның интернеті")
            await aigul.wait_for(lambda m: "Ауылыңыздың атын" in m.text, STEP_TIMEOUT)
            await aigul.send("Баянаул")  # typed the Russian way
            choices = await aigul.wait_for(lambda m: m.text.startswith("Сіздікі қайсысы?"), STEP_TIMEOUT)
            check(
                choices.labels[0] == "Баянауыл — Баянауыл ауданы",
                f"the search for «Баянаул» offered {choices.labels}",
            )
            await aigul.press(choices.labels[0])
            await aigul.wait_for(lambda m: "Баянауыл" in m.text and "Кезең:" in m.text, STEP_TIMEOUT)
            await aigul.press("🏡 Бұл менің ауылым")

            await aigul.send("/report")
            for label in ("Бүкіл ауыл", "Бүгіннен бері", "📨 Қазір жіберу"):
                await aigul.wait_for(lambda m, label=label: label in m.labels, STEP_TIMEOUT)
                await aigul.press(label)
            ticket = await aigul.wait_for(lambda m: m.text.startswith("✅"), STEP_TIMEOUT)
            check(
                ticket.text.startswith("✅ AN-000001 өтініш қабылданды, "),
                f"the report was answered {ticket.text!r}",
            )
            return ticket.text.splitlines()[0]
        except TimeoutError:
            seen = [message.text for message in await aigul.messages()]
            raise SystemExit(
                "smoke: FAILED: the resident waited in vain; the chat so far (English text means a"
                " catalog is missing from the package):\n  " + "\n  ".join(seen)
            ) from None


async def chat_page(sandbox_url: str) -> None:
    """The sandbox's chat page and its static files come from the package too."""
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.get(f"{sandbox_url}/") as page:
            check(
                "<title>AuylNet · sandbox chat</title>" in await page.text(), "the chat page is not installed"
            )
        for name in ("app.js", "style.css"):
            async with http.get(f"{sandbox_url}/static/{name}") as static:
                check(static.status == 200, f"/static/{name} answered {static.status}")


async def story(workdir: Path) -> str:
    from bot.sandbox.server import run_sandbox

    env = {key: value for key, value in os.environ.items() if not key.startswith("AUYLNET_")}
    env["AUYLNET_DB_PATH"] = str(workdir / "auylnet.db")
    demo = resources.files("bot.demo")
    for kind, name in (
        ("kato", "kato_sample.csv"),
        ("plan", "plan_sample.csv"),
        ("objects", "objects_sample.csv"),
    ):
        with resources.as_file(demo.joinpath(name)) as csv:
            auylnet("import", kind, str(csv), env=env, cwd=workdir)

    spec = os.environ.get("AUYLNET_BOTAPI_SPEC")
    async with run_sandbox(port=0, spec_path=Path(spec) if spec else None) as sandbox:
        env.update(AUYLNET_BOT_TOKEN=TOKEN, AUYLNET_API_BASE_URL=sandbox.api_url)
        bot = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "auylnet"),
            "run",
            env=env,
            cwd=workdir,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            await chat_page(sandbox.url)
            for _ in range(300):  # until the bot polls, or gave up
                if sandbox.state.stats["requests"].get("getUpdates") or bot.returncode is not None:
                    break
                await asyncio.sleep(0.1)
            if bot.returncode is not None:
                assert bot.stdout is not None
                check(False, f"auylnet run ended at start:\n{(await bot.stdout.read()).decode()}")
            ticket = await resident_story(sandbox.url)
        finally:
            if bot.returncode is None:
                bot.send_signal(signal.SIGINT)
            output, _ = await asyncio.wait_for(bot.communicate(), 30)
        check(bot.returncode == 0, f"auylnet run ended with {bot.returncode}:\n{output.decode()}")
        check(TOKEN.split(":")[1] not in output.decode(), "the bot's log holds its token")
    return ticket


def main() -> int:
    site = installed_location()
    version = metadata.version("auylnet")
    with tempfile.TemporaryDirectory(prefix="auylnet-smoke-") as scratch:
        workdir = Path(scratch)
        shown = auylnet("--version", env=dict(os.environ), cwd=workdir).strip()
        check(shown == f"auylnet {version}", f"auylnet --version printed {shown!r}")
        ticket = asyncio.run(story(workdir))
    print(f"smoke: auylnet {version} from {site}: /start in Kazakh, Баянауыл found, ticket «{ticket}» — ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
