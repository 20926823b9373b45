"""FAQ corpus and matcher: answer common questions about grassroots democracy and the bot."""

from faq.corpus import (
    KNOWN_PLACEHOLDERS,
    MISSING_FACT_TEXT,
    REQUIRED_TOPIC_IDS,
    Corpus,
    CorpusError,
    Topic,
    TopicGroup,
    check_corpus,
    default_corpus_dir,
    load_corpus,
    render_answer,
)
from faq.matcher import FaqDecision, FaqEvaluation, FaqMatcher, evaluate, read_labelled

__all__ = [
    "KNOWN_PLACEHOLDERS",
    "MISSING_FACT_TEXT",
    "REQUIRED_TOPIC_IDS",
    "Corpus",
    "CorpusError",
    "FaqDecision",
    "FaqEvaluation",
    "FaqMatcher",
    "Topic",
    "TopicGroup",
    "check_corpus",
    "default_corpus_dir",
    "evaluate",
    "load_corpus",
    "read_labelled",
    "render_answer",
]
