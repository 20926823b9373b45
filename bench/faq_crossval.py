"""K-fold check of the FAQ matcher on the corpus' own question variants.

Usage::

    .venv/bin/python bench/faq_crossval.py [--folds 5] [--seed 1] [--corpus DIR ...]

Each topic's question variants are dealt into ``--folds`` folds; for each fold the index is
built without that fold's variants (titles and answers stay) and the held-out variants are
asked. The figures tell how the matcher copes with wording it has not seen, without the risk
of tuning on a dev set until it scores well there and nowhere else. They are lower than on a
set of real questions: many variants are deliberately terse or odd. Compare runs before and
after a change to the scoring, the phrase tables or the thresholds.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from faq.corpus import Corpus, default_corpus_dir, load_corpus  # noqa: E402
from faq.matcher import FaqMatcher, evaluate  # noqa: E402


def folds_of(corpus: Corpus, folds: int, seed: int) -> list[tuple[Corpus, list[tuple[str, str]]]]:
    """(corpus without the fold's variants, the fold's (question, topic id) pairs) per fold."""
    rng = random.Random(seed)
    assignment: dict[tuple[str, int], int] = {}
    for topic_id, topic in corpus.topics.items():
        order = list(range(len(topic.questions)))
        rng.shuffle(order)
        for rank, index in enumerate(order):
            assignment[(topic_id, index)] = rank % folds
    result = []
    for fold in range(folds):
        topics = {}
        held: list[tuple[str, str]] = []
        for topic_id, topic in corpus.topics.items():
            kept = []
            for index, question in enumerate(topic.questions):
                if assignment[(topic_id, index)] == fold:
                    held.append((question, topic_id))
                else:
                    kept.append(question)
            topics[topic_id] = dataclasses.replace(topic, questions=tuple(kept))
        result.append((Corpus(topics=topics, groups=corpus.groups), held))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corpus", type=Path, action="append", help="corpus directory")
    parser.add_argument("--config", type=Path, default=ROOT / "config.toml")
    args = parser.parse_args(argv)

    settings: dict[str, object] = {}
    if args.config.is_file():
        with args.config.open("rb") as handle:
            table = tomllib.load(handle).get("faq", {})
        settings = dict(table) if isinstance(table, dict) else {}
    corpus = load_corpus(args.corpus or [default_corpus_dir()])
    totals = {"in": 0, "right": 0, "wrong": 0, "suggested": 0, "hit": 0, "none": 0, "top1": 0}
    for fold_corpus, held in folds_of(corpus, args.folds, args.seed):
        matcher = FaqMatcher.from_config(fold_corpus, settings)
        result = evaluate(matcher, held)
        totals["in"] += result.in_scope
        totals["right"] += result.answered_correct
        totals["wrong"] += result.answered_wrong
        totals["suggested"] += result.suggested
        totals["hit"] += result.suggested_hit
        totals["none"] += result.none_in_scope
        for question, expected in held:
            ranked = matcher.rank(question, limit=1)
            totals["top1"] += bool(ranked) and ranked[0][0] == expected
    n = max(totals["in"], 1)
    print(f"corpus: {len(corpus.topics)} topics, {totals['in']} variants, {args.folds} folds")
    print(
        f"answered right {totals['right'] / n:.1%}, answered wrong {totals['wrong'] / n:.1%}, "
        f"suggested {totals['suggested']} ({totals['hit']} with the right topic), "
        f"none {totals['none']}; best-ranked topic right {totals['top1'] / n:.1%}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
