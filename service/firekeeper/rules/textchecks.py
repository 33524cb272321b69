"""Every built-in check that reads user text, listed in one place. Pure.

Message texts, bios, entry answers, display names and notices reach these
functions (through the screening and lifecycle areas and ``build_fact``).
``tests/rules/test_text_timing.py`` runs each one on adversarial texts of
growing size and fails when one grows faster than linearly, and it fails too
when a module compiles patterns (``firekeeper.rules.linear``) without a check
here: a new check on user text is added to :data:`CHECKS`, or, for a check of a
governance area, to its features' ``TEXT_CHECKS`` (``firekeeper.areas.registry``
assembles them all).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from firekeeper.rules import (
    announcements,
    features,
    house_rules,
    lifecycle,
    promo,
    spam_model,
    theme_vocab,
    topic,
    unmask,
    value,
)
from firekeeper.rules.textmatch import fold


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    module: str  # the module whose patterns and scans it exercises
    run: Callable[[str], object]


# the learned score's features, read uncut (the shipped model reads its first 1000 characters)
_SPAM_MODEL = spam_model.SpamModel(
    "timing", 12, 1, 3, 100_000, 0.0, (0.01,) * 4096, {}, ("en", "ru", "zh-Hans")
)
_THEME = topic.compile_theme(
    ("reading", "books", "novel"),
    ("读书会", "book club"),
    ("Which translation are you reading?", "这周读到第三章了，结尾太意外"),
)

CHECKS: tuple[Check, ...] = (
    Check("links", features.__name__, features.find_links),
    Check("text_shape", features.__name__, features.shape),
    Check("unmask", unmask.__name__, unmask.unmask),
    Check("promo_signals", promo.__name__, promo.signals),
    Check("topic_score", topic.__name__, lambda text: topic.score(text, _THEME)),
    Check("social", topic.__name__, topic.is_social),
    Check("theme_features", theme_vocab.__name__, lambda text: theme_vocab.features(fold(text))),
    Check("announces_activity", topic.__name__, topic.announces_activity),
    Check("opens_section", topic.__name__, topic.opens_section),
    Check("notice", announcements.__name__, announcements.check),
    Check("house_rules", house_rules.__name__, house_rules.outside_prohibitions),
    Check("value_words", value.__name__, value.words),
    Check("question", value.__name__, value.is_question),
    Check("repeat_key", lifecycle.__name__, lifecycle.text_key),
    Check("fold", "firekeeper.rules.textmatch", fold),
    Check("spam_score", spam_model.__name__, lambda text: spam_model.spam_score(_SPAM_MODEL, text)),
)
