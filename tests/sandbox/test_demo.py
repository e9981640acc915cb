"""`auylnet demo` as a newcomer starts it: the port they chose, a quiet console, the links last."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAST_BANNER_LINE = "Ctrl-C stops the demo."


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def start_demo(port: int, db: Path) -> asyncio.subprocess.Process:
    """The demo in its own process, as ``auylnet demo --port N`` runs it."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from bot.cli import main; sys.exit(main())",
        "demo",
        "--port",
        str(port),
        "--db",
        str(db),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


async def read_until(process: asyncio.subprocess.Process, last: str, timeout: float) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    while not lines or lines[-1] != last:
        raw = await asyncio.wait_for(process.stdout.readline(), timeout)
        assert raw, "the demo ended early:\n" + "\n".join(lines)
        lines.append(raw.decode().rstrip("\n"))
    return lines


async def test_the_demo_runs_on_the_chosen_port_and_ends_its_console_with_the_links(tmp_path: Path) -> None:
    port = free_port()
    demo = await start_demo(port, tmp_path / "demo.db")
    try:
        started = await read_until(demo, LAST_BANNER_LINE, timeout=90)
        assert f"  http://127.0.0.1:{port}/" in started
        assert any(f"http://127.0.0.1:{port}/?user=1005" in line for line in started)
        # The scheduler's jobs run every few seconds from the start; nothing they do reaches the console,
        # so the persona links stay the last thing on it.
        assert demo.stdout is not None
        assert await demo.stdout.readline() == b"\n"  # the banner's closing blank line
        with pytest.raises(TimeoutError):
            extra = await asyncio.wait_for(demo.stdout.readline(), 3.5)
            pytest.fail(f"printed after the links: {extra.decode()!r}")

        # A second demo on the same port says so in one line, before touching any database.
        second = await start_demo(port, tmp_path / "second.db")
        output, _ = await asyncio.wait_for(second.communicate(), 60)
        assert second.returncode == 1
        assert output.decode().strip().splitlines() == [
            f"auylnet demo: port {port} is in use; pick another:"
            f" make demo PORT={port + 1} (or auylnet demo --port {port + 1})"
        ]
        assert not (tmp_path / "second.db").exists()
    finally:
        if demo.returncode is None:
            demo.send_signal(signal.SIGINT)
        rest, _ = await asyncio.wait_for(demo.communicate(), 30)
    assert demo.returncode == 0
    console = "\n".join(started) + rest.decode()
    for noise in ("apscheduler", "Warning", "Running job", "per_message"):
        assert noise not in console, console
    assert rest.decode().rstrip().endswith("AuylNet demo stopped.")


def test_make_demo_passes_the_port() -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    planned = subprocess.run(
        ["make", "-n", "demo", "PORT=8090"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert ".venv/bin/auylnet demo --port 8090" in planned
    default = subprocess.run(["make", "-n", "demo"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert ".venv/bin/auylnet demo --port 8081" in default.stdout
