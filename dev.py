#!/usr/bin/env python3
"""Set-up and everyday commands, needing nothing but Python 3.11+.

    python3 dev.py run     create .venv if needed, install, run the bot (console channel
                           unless PAKN_TELEGRAM_TOKEN / PAKN_ZALO_TOKEN is set)
    python3 dev.py test    install with test tools, then lint, type-check, check the FAQ
                           corpus and run the whole test suite

Extra arguments after `test` go to pytest (e.g. `python3 dev.py test -k telegram`).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def ensure_environment(extras: str) -> None:
    """Create .venv and install the project once per version of pyproject.toml."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be started by an older Python
        sys.exit("pakn-bot needs Python 3.11 or newer.")
    if not PYTHON.exists():
        print("Creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    stamp = VENV / f".installed-{extras or 'base'}-{digest}"
    if stamp.exists():
        return
    print("Installing pakn-bot and its dependencies (first run only) …", flush=True)
    target = f".[{extras}]" if extras else "."
    subprocess.run(
        [
            str(PYTHON),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-e",
            target,
        ],
        cwd=ROOT,
        check=True,
    )
    for old in VENV.glob(f".installed-{extras or 'base'}-*"):
        old.unlink()
    stamp.touch()


def run(arguments: list[str]) -> int:
    ensure_environment("")
    return subprocess.call([str(BIN / "pakn"), "run", *arguments], cwd=ROOT)


def test(arguments: list[str]) -> int:
    ensure_environment("test")
    steps = [
        ("ruff check", [str(BIN / "ruff"), "check", "."]),
        ("ruff format --check", [str(BIN / "ruff"), "format", "--check", "."]),
        ("mypy", [str(BIN / "mypy")]),
        ("FAQ corpus check", [str(BIN / "pakn"), "faq", "check"]),
        ("pytest", [str(BIN / "pytest"), *arguments]),
    ]
    failed = []
    for name, command in steps:
        print(f"\n=== {name} ===", flush=True)
        if subprocess.call(command, cwd=ROOT) != 0:
            failed.append(name)
    if failed:
        print(f"\nFAILED: {', '.join(failed)}", flush=True)
        return 1
    print("\nAll checks passed.", flush=True)
    return 0


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "test"):
        print(__doc__)
        return 2
    command, arguments = sys.argv[1], sys.argv[2:]
    return run(arguments) if command == "run" else test(arguments)


if __name__ == "__main__":
    sys.exit(main())
