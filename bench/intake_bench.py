"""Intake throughput and latency through the fake Bot API server.

N simulated citizens file cases (9 steps each: /start, menu, kind, category, text, photos
skipped, village, anonymous, send) against the bot running as its own process (`pakn run`),
exactly as in production but with the rate limiter off. The fake server and the simulated
citizens share this process; latency is measured on the server's clock, from the moment an
update is queued to the moment the bot's reply arrives.

For comparison the same driver then times a bare python-telegram-bot echo bot (standard
`Application.run_polling`) against the same server: one update, one reply.

    .venv/bin/python bench/intake_bench.py [--citizens 10] [--seconds 20] [--database URL]

Targets (2-core machine, SQLite): ≥ 300 conversation steps/s and p95 ≤ 50 ms per step.

Each simulated citizen sends its next step the moment the previous reply arrives (no time to
read or type), so N citizens keep exactly N steps in flight and the mean latency is N divided
by the steps per second (Little's law): 300 steps/s with a mean under 50 ms is only possible
with at most 15 citizens. The default of 10 measures both targets at once; 40 citizens show
the saturation throughput, where every step waits behind the others.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.telegram_server import FakeTelegramServer, SentMessage  # noqa: E402

ECHO_BOT = """
import sys
from telegram import Update
from telegram.ext import Application, MessageHandler, filters

async def echo(update: Update, context) -> None:
    await update.message.reply_text(update.message.text)

app = (Application.builder().token(sys.argv[1]).base_url(sys.argv[2])
       .concurrent_updates(True).build())
app.add_handler(MessageHandler(filters.TEXT, echo))
app.run_polling(poll_interval=0.0, timeout=1, drop_pending_updates=False)
"""


def bench_config(directory: Path, server: FakeTelegramServer) -> Path:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace(
        'base_url = "https://api.telegram.org/bot"', f'base_url = "{server.base_url}"'
    )
    text = text.replace(
        'base_file_url = "https://api.telegram.org/file/bot"',
        f'base_file_url = "{server.base_file_url}"',
    )
    text = re.sub(
        r"max_cases_per_person_per_day = \d+", "max_cases_per_person_per_day = 100000", text
    )
    # "Rate limiter off": no pacing per chat or overall, no AIORateLimiter.
    text = text.replace("rate_limiter = true", "rate_limiter = false")
    path = directory / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


class Driver:
    """Simulated people; each step waits for the bot's answer before the next one."""

    def __init__(self, server: FakeTelegramServer) -> None:
        self.server = server
        self.latencies: list[float] = []
        self.steps = 0
        self.filings = 0
        self.errors = 0
        self.measuring = False

    async def _step(self, user_id: int, inject) -> SentMessage:
        before = len(self.server.messages_to(user_id))
        started = time.monotonic()
        inject()
        replies = await self.server.wait_for(chat_id=user_id, count=before + 1, timeout=30)
        reply = replies[-1]
        if self.measuring:
            self.latencies.append(reply.at - started)
            self.steps += 1
        return reply

    async def _press(self, user_id: int, message: SentMessage, label: str) -> SentMessage:
        data = next(d for text, d in message.buttons if label in text)
        return await self._step(
            user_id, lambda: self.server.press_button(user_id, data, message_id=message.message_id)
        )

    async def citizen(self, user_id: int, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                menu = await self._step(user_id, lambda: self.server.add_text(user_id, "/start"))
                kinds = await self._press(user_id, menu, "Gửi phản ánh")
                if "Tiếp tục" in (kinds.text or "") or "Tiếp tục" in str(kinds.buttons):
                    kinds = await self._press(user_id, kinds, "Soạn hồ sơ mới")
                categories = await self._press(user_id, kinds, "Phản ánh")
                await self._press(user_id, categories, "Môi trường")
                photos = await self._step(
                    user_id,
                    lambda: self.server.add_text(
                        user_id, f"Rác thải đổ trộm cạnh kênh thôn Đông, người gửi {user_id}."
                    ),
                )
                places = await self._press(user_id, photos, "Bỏ qua")
                contact = await self._press(user_id, places, "Thôn Đông")
                summary = await self._press(user_id, contact, "ẩn danh")
                confirmation = await self._press(user_id, summary, "Gửi")
                assert "Mã hồ sơ" in (confirmation.text or ""), confirmation.describe()
                if self.measuring:
                    self.filings += 1
            except Exception as error:
                self.errors += 1
                print(f"citizen {user_id}: {type(error).__name__}: {error}", file=sys.stderr)

    async def echo_user(self, user_id: int, stop: asyncio.Event) -> None:
        count = 0
        while not stop.is_set():
            await self._step(user_id, lambda n=count: self.server.add_text(user_id, f"echo {n}"))
            count += 1


async def measure(
    driver: Driver, workers, seconds: float, warmup: float, cpu: CpuMeter | None = None
) -> float:
    stop = asyncio.Event()
    tasks = [asyncio.create_task(worker(stop)) for worker in workers]
    await asyncio.sleep(warmup)
    driver.measuring = True
    if cpu is not None:
        cpu.begin()
    started = time.monotonic()
    await asyncio.sleep(seconds)
    driver.measuring = False
    elapsed = time.monotonic() - started
    if cpu is not None:
        cpu.end()
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return elapsed


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


class CpuMeter:
    """CPU used by the bot process and by its children (the sender process) while measuring:
    a figure that noise from other work on the machine changes much less than steps/s."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.start: dict[int, float] = {}
        self.used: dict[int, float] = {}

    def begin(self) -> None:
        self.start = {p: _cpu_seconds(p) for p in [self.pid, *_children(self.pid)]}

    def end(self) -> None:
        self.used = {p: _cpu_seconds(p) - t for p, t in self.start.items()}

    def describe(self, steps: int) -> str:
        if not steps or not self.used:
            return "n/a"
        parts = [f"bot {1000 * self.used.get(self.pid, 0.0) / steps:.2f} ms"]
        for pid, seconds in self.used.items():
            if pid != self.pid:
                parts.append(f"sender {1000 * seconds / steps:.2f} ms")
        return ", ".join(parts)


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def run_bot_bench(args: argparse.Namespace) -> tuple[float, float, float]:
    async with FakeTelegramServer() as server:
        with tempfile.TemporaryDirectory() as directory:
            config = bench_config(Path(directory), server)
            database = args.database or f"sqlite:///{directory}/data/pakn.db"
            env = {
                **os.environ,
                "PAKN_TELEGRAM_TOKEN": server.token,
                "PAKN_DATABASE_URL": database,
            }
            profile = ["-m", "cProfile", "-o", args.profile] if args.profile else []
            bot = subprocess.Popen(
                [sys.executable, *profile, "-m", "bot.cli", "--config", str(config), "run"],
                cwd=ROOT,
                env=env,
                stderr=subprocess.PIPE if not args.verbose else None,
            )
            try:
                driver = Driver(server)
                await driver._step(9, lambda: server.add_text(9, "/start"))  # bot is up
                citizens = [
                    (lambda stop, uid=100_000 + i: driver.citizen(uid, stop))
                    for i in range(args.citizens)
                ]
                cpu = CpuMeter(bot.pid)
                elapsed = await measure(driver, citizens, args.seconds, args.warmup, cpu)
            finally:
                bot.terminate()
                bot.wait(timeout=30)
    steps_per_s = driver.steps / elapsed
    print(
        f"database: {database.split('://')[0]}, citizens: {args.citizens}, {elapsed:.1f} s measured"
    )
    print(f"  conversation steps/s: {steps_per_s:.0f}   (target ≥ 300)")
    print(f"  complete filings/s:   {driver.filings / elapsed:.1f}   (target ≈ 40)")
    print(
        f"  step latency p50 {1000 * p(driver.latencies, 0.5):.1f} ms, "
        f"p95 {1000 * p(driver.latencies, 0.95):.1f} ms   (target p95 ≤ 50 ms)"
    )
    print(f"  CPU per step: {cpu.describe(driver.steps)}")
    p95 = p(driver.latencies, 0.95)
    met = steps_per_s >= 300 and p95 <= 0.050
    print(f"  targets (≥ 300 steps/s and p95 ≤ 50 ms): {'MET' if met else 'NOT MET'}")
    if driver.errors:
        print(f"  errors: {driver.errors}")
    return steps_per_s, p95, driver.filings / elapsed


async def run_echo_bench(args: argparse.Namespace) -> float:
    async with FakeTelegramServer() as server:
        bot = subprocess.Popen(
            [sys.executable, "-c", ECHO_BOT, server.token, server.base_url],
            cwd=ROOT,
            stderr=subprocess.DEVNULL,
        )
        try:
            driver = Driver(server)
            await driver._step(9, lambda: server.add_text(9, "hello"))
            users = [
                (lambda stop, uid=200_000 + i: driver.echo_user(uid, stop))
                for i in range(args.citizens)
            ]
            elapsed = await measure(driver, users, args.seconds, args.warmup)
        finally:
            bot.terminate()
            bot.wait(timeout=30)
    rate = driver.steps / elapsed
    print(f"bare PTB echo bot: {rate:.0f} updates/s, p95 {1000 * p(driver.latencies, 0.95):.1f} ms")
    return rate


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--citizens", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--database", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--no-echo", action="store_true", help="skip the echo-bot baseline")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--profile", help="write a cProfile of the bot process to this file")
    args = parser.parse_args()
    steps, _p95, _filings = await run_bot_bench(args)
    if not args.no_echo:
        echo = await run_echo_bench(args)
        print(f"pakn steps/s as a share of the bare echo bot's updates/s: {steps / echo:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
