"""The FAQ as the bot uses it: the corpus, its matcher, the commune's facts, and reloading
when the corpus files change (no restart needed)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from faq.corpus import Corpus, Topic, check_corpus, default_corpus_dir, load_corpus, render_answer
from faq.matcher import FaqDecision, FaqMatcher

log = logging.getLogger(__name__)


class FaqService:
    def __init__(
        self,
        directories: Sequence[Path],
        facts: Mapping[str, str],
        *,
        answer_threshold: float,
        answer_margin: float,
        suggest_threshold: float,
        clear_lead_threshold: float,
        clear_lead_margin: float,
    ) -> None:
        self.directories = [default_corpus_dir(), *directories]
        self.facts = dict(facts)
        self.thresholds = {
            "answer_threshold": answer_threshold,
            "answer_margin": answer_margin,
            "suggest_threshold": suggest_threshold,
            "clear_lead_threshold": clear_lead_threshold,
            "clear_lead_margin": clear_lead_margin,
        }
        self._lock = threading.Lock()
        self._fingerprint = self._files_fingerprint()
        self.corpus: Corpus = load_corpus(self.directories)
        self.matcher = FaqMatcher.build(self.corpus, **self.thresholds)

    def _files_fingerprint(self) -> tuple[tuple[str, float, int], ...]:
        files = sorted(p for d in self.directories if d.is_dir() for p in d.glob("*.toml"))
        return tuple((str(p), p.stat().st_mtime, p.stat().st_size) for p in files)

    def reload_if_changed(self) -> bool:
        """Rebuild from the corpus files if any changed; a broken corpus keeps the old one."""
        fingerprint = self._files_fingerprint()
        if fingerprint == self._fingerprint:
            return False
        try:
            corpus = load_corpus(self.directories)
            problems = check_corpus(corpus)
            if problems:
                raise ValueError("; ".join(problems[:5]))
            matcher = FaqMatcher.build(corpus, **self.thresholds)
        except Exception as error:
            log.error("FAQ corpus changed but is broken, keeping the old one: %s", error)
            self._fingerprint = fingerprint
            return False
        with self._lock:
            self.corpus, self.matcher, self._fingerprint = corpus, matcher, fingerprint
        log.info("FAQ corpus reloaded: %d topics", len(corpus.topics))
        return True

    def match(self, question: str) -> FaqDecision:
        return self.matcher.match(question)

    def topic(self, topic_id: str) -> Topic | None:
        return self.corpus.topics.get(topic_id)

    def answer(self, topic: Topic) -> str:
        return render_answer(topic, self.facts)
