"""Evaluate the routing classifier on a labelled set and compare with the targets.

Usage::

    .venv/bin/python bench/routing_eval.py [--data PATH] [--config PATH] [--show-errors]

``--data`` defaults to ``bench/data/routing_eval.jsonl``: one JSON object a line,
``{"text": "...", "kind": "...", "category": "...", "unit": "..."}``. The classifier uses the
default keyword file and the units and categories of ``config.toml`` (read with tomllib, so
this script does not depend on the bot's configuration loader). The exit code is 0 whether
or not the targets are met; each figure is followed by TARGET MET or BELOW TARGET.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.rules.routing import (  # noqa: E402
    KeywordTable,
    RoutingClassifier,
    RoutingDecision,
    default_keyword_path,
)

UNIT_TARGET = 0.90
CATEGORY_TARGET = 0.80
FIELDS = ("kind", "category", "unit")


def routing_settings(config_path: Path) -> tuple[dict[str, str], str, float]:
    """Category → unit mapping, complaint unit and min_confidence from ``config_path``."""
    with config_path.open("rb") as handle:
        config = tomllib.load(handle)
    units = {str(unit["id"]) for unit in config.get("units", [])}
    category_units: dict[str, str] = {}
    for category in config.get("categories", []):
        unit = str(category["unit"])
        if units and unit not in units:
            raise SystemExit(f"{config_path}: category {category['id']} has unknown unit {unit}")
        category_units[str(category["id"])] = unit
    complaint_unit = str(config.get("deadlines", {}).get("complaint_unit", "van_phong"))
    min_confidence = float(config.get("routing", {}).get("min_confidence", 0.55))
    return category_units, complaint_unit, min_confidence


def read_rows(path: Path) -> list[dict[str, str]]:
    """The labelled lines of ``path`` (blank lines skipped)."""
    rows: list[dict[str, str]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            missing = [key for key in ("text", *FIELDS) if key not in row]
            if missing:
                raise SystemExit(f"{path}:{number}: missing {', '.join(missing)}")
            rows.append({key: str(row[key]) for key in ("text", *FIELDS)})
    return rows


def verdict(value: float, target: float | None) -> str:
    if target is None:
        return ""
    return "  TARGET MET" if value >= target else "  BELOW TARGET"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "data" / "routing_eval.jsonl")
    parser.add_argument("--config", type=Path, default=ROOT / "config.toml")
    parser.add_argument("--show-errors", action="store_true", help="print every wrong text")
    args = parser.parse_args(argv)

    if not args.data.is_file():
        print(f"no evaluation file at {args.data}")
        return 0
    category_units, complaint_unit, min_confidence = routing_settings(args.config)
    classifier = RoutingClassifier(
        KeywordTable.load([default_keyword_path()]),
        category_units,
        complaint_unit=complaint_unit,
    )
    rows = read_rows(args.data)
    if not rows:
        print(f"{args.data} holds no texts")
        return 0

    started = time.perf_counter()
    decisions: list[RoutingDecision] = [classifier.classify(row["text"]) for row in rows]
    elapsed = time.perf_counter() - started

    correct = Counter[str]()
    confusions: dict[str, Counter[tuple[str, str]]] = {field: Counter() for field in FIELDS}
    confident = confident_right = 0
    errors: list[str] = []
    for row, decision in zip(rows, decisions, strict=True):
        got = {"kind": decision.kind, "category": decision.category, "unit": decision.unit}
        for field in FIELDS:
            if got[field] == row[field]:
                correct[field] += 1
            else:
                confusions[field][(row[field], got[field])] += 1
        if classifier.is_confident(decision, min_confidence):
            confident += 1
            confident_right += got["category"] == row["category"] and got["unit"] == row["unit"]
        if any(got[field] != row[field] for field in FIELDS):
            errors.append(
                f"  {row['text']}\n"
                f"    expected {row['kind']}/{row['category']}/{row['unit']}, got "
                f"{decision.kind}/{decision.category}/{decision.unit} "
                f"(confidence {decision.confidence:.2f})"
            )

    total = len(rows)
    print(f"routing evaluation: {args.data}")
    print(f"texts: {total}")
    for field, label, target in (
        ("unit", "unit accuracy", UNIT_TARGET),
        ("category", "category accuracy", CATEGORY_TARGET),
        ("kind", "kind accuracy", None),
    ):
        share = correct[field] / total
        goal = f" (target {target:.0%})" if target is not None else ""
        print(f"{label}: {share:.2%} ({correct[field]}/{total}){goal}{verdict(share, target)}")
    print(
        f"confident (≥ {min_confidence:.2f}): {confident}/{total}; "
        f"category and unit right among them: {confident_right}/{confident or 1}"
    )
    print(f"mean time per text: {elapsed / total * 1000:.3f} ms")
    for field in FIELDS:
        pairs = confusions[field].most_common(8)
        if not pairs:
            continue
        print(f"most frequent {field} confusions (expected → got):")
        for (expected, got_value), count in pairs:
            print(f"  {count:3d}  {expected} → {got_value}")
    if args.show_errors and errors:
        print("errors:")
        print("\n".join(errors))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
