"""Evaluate the FAQ matcher on a labelled set and compare with the targets.

Usage::

    .venv/bin/python bench/faq_eval.py [--data PATH] [--corpus DIR ...] [--show-errors]

``--data`` defaults to ``bench/data/faq_heldout.jsonl`` (one JSON object a line:
``{"q": "...", "id": "topic_id" | null}``, ``null`` meaning out of scope). The thresholds
come from ``config.toml``'s ``[faq]`` section unless given on the command line.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from faq.corpus import default_corpus_dir, load_corpus  # noqa: E402
from faq.matcher import FaqMatcher, evaluate, read_labelled  # noqa: E402


def faq_settings(config_path: Path) -> dict[str, object]:
    """The ``[faq]`` table of ``config_path`` (empty when the file or table is missing)."""
    if not config_path.is_file():
        return {}
    with config_path.open("rb") as handle:
        table = tomllib.load(handle).get("faq", {})
    return dict(table) if isinstance(table, dict) else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "data" / "faq_heldout.jsonl")
    parser.add_argument("--corpus", type=Path, action="append", help="corpus directory")
    parser.add_argument("--config", type=Path, default=ROOT / "config.toml")
    parser.add_argument("--answer-threshold", type=float)
    parser.add_argument("--answer-margin", type=float)
    parser.add_argument("--suggest-threshold", type=float)
    parser.add_argument("--show-errors", action="store_true", help="list every failure")
    args = parser.parse_args(argv)

    settings = faq_settings(args.config)
    for key in ("answer_threshold", "answer_margin", "suggest_threshold"):
        value = getattr(args, key)
        if value is not None:
            settings[key] = value
    corpus = load_corpus(args.corpus or [default_corpus_dir()])
    matcher = FaqMatcher.from_config(corpus, settings)
    items = read_labelled(args.data.read_text(encoding="utf-8").splitlines())
    result = evaluate(matcher, items)

    print(f"data: {args.data}")
    print(
        f"corpus: {len(corpus.topics)} topics; thresholds: answer >= "
        f"{matcher.answer_threshold:.2f}, margin >= {matcher.answer_margin:.2f}, "
        f"suggest >= {matcher.suggest_threshold:.2f}"
    )
    print(
        f"questions: {len(items)} ({result.in_scope} in scope, {result.out_of_scope} out of scope)"
    )
    print(
        f"in scope: {result.answered_correct} answered right, {result.answered_wrong} answered "
        f"wrong, {result.suggested} suggested ({result.suggested_hit} with the right topic), "
        f"{result.none_in_scope} none"
    )
    print(
        f"out of scope: {result.answered_out_of_scope} answered, "
        f"{result.suggested_out_of_scope} suggested, "
        f"{result.out_of_scope - result.answered_out_of_scope - result.suggested_out_of_scope} none"
    )
    for label, figure, met in result.targets():
        print(f"  {label}: {figure}  {'TARGET MET' if met else 'BELOW TARGET'}")
    if args.show_errors:
        print(f"\nfailures ({len(result.failures)}):")
        for failure in result.failures:
            print("  " + failure.describe())
    return 0 if result.all_targets_met else 1


if __name__ == "__main__":
    raise SystemExit(main())
