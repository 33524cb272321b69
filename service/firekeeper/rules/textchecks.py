"""Every built-in check that reads user text, listed in one place. Pure.

Message texts, bios, entry answers, display names and notices reach these
functions (through the screening and lifecycle areas and ``build_fact``).
``tests/rules/test_text_timing.py`` runs each one on adversarial texts of
growing size and fails when one grows faster than linearly, and it fails too
when a module compiles patterns (``firekeeper.rules.linear``) without a check
here: a new check on user text is added to :data:`CHECKS`, or, for a check of a
governance area, to its features' ``TEXT_CHECKS`` (``firekeeper.area_registry``
assembles them all).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from firekeeper.rules import features, house_rules, promo, spam_model, unmask, value
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

CHECKS: tuple[Check, ...] = (
    Check("links", features.__name__, features.find_links),
    Check("text_shape", features.__name__, features.shape),
    Check("unmask", unmask.__name__, unmask.unmask),
    Check("promo_signals", promo.__name__, promo.signals),
    Check("house_rules", house_rules.__name__, house_rules.outside_prohibitions),
    Check("value_words", value.__name__, value.words),
    Check("question", value.__name__, value.is_question),
    Check("fold", "firekeeper.rules.textmatch", fold),
    Check("spam_score", spam_model.__name__, lambda text: spam_model.spam_score(_SPAM_MODEL, text)),
)
