"""A store-backed service with the corrections area and API, and the real texts the tests use.

Texts come from ``../shared/fixtures/datasets/umputun_tg_spam`` (umputun/tg-spam,
data/{ham,spam}-samples.txt at e14d516e, MIT; see ``../shared/fixtures/SOURCES.md``).
In a checkout without ``../shared`` beside it the modules that import this one are
skipped, saying where the fixtures are expected; in CI (``CI`` set) they fail instead.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from firekeeper.areas.corrections.admin import CorrectionsAdmin
from firekeeper.areas.corrections.metrics import CorrectionsMetrics
from firekeeper.areas.corrections.package import PACKAGE as CORRECTIONS
from firekeeper.domain.chats import ChatKey, ChatRegistration
from firekeeper.domain.events import Actor, Envelope, Event, MessagePosted, Platform
from firekeeper.metrics import Metrics
from firekeeper.pipeline import RulesetHolder
from firekeeper.rulesets_dir import load
from firekeeper.store import Store
from firekeeper.wiring import area_set, build_pipeline, cached_areas
from tests.conftest import REPO, RULESETS
from tests.core.builders import T0

SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"
TG_SPAM = SHARED_FIXTURES / "datasets" / "umputun_tg_spam"


def require_shared(*paths: Path) -> None:
    """Skip the importing test module when a fixture is missing (a checkout without
    ``../shared``); in CI, where ``shared/`` is cloned beside the repository, fail."""
    missing = [str(p) for p in paths if not p.exists()]
    if not missing:
        return
    message = (
        f"shared fixtures not found at {', '.join(missing)}: clone the shared/ repository "
        f"beside this checkout ({SHARED_FIXTURES}; SOURCES.md there names each file)"
    )
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false"):
        raise FileNotFoundError(message)
    pytest.skip(message, allow_module_level=True)


require_shared(TG_SPAM / "ham-samples.txt", TG_SPAM / "spam-samples.txt")
KEY = ChatKey(Platform.TELEGRAM, "acme", "-100777")
INDEX = load(RULESETS)
OLGA = Actor(id="olga", display_name="Olga")  # the chat's owner


def lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def ham_line(starts: str) -> str:
    """The one line of tg-spam's ham-samples.txt that starts so."""
    (found,) = [t for t in lines(TG_SPAM / "ham-samples.txt") if t.startswith(starts)]
    return found


def spam_line(starts: str) -> str:
    """The one line of tg-spam's spam-samples.txt that starts so."""
    (found,) = [t for t in lines(TG_SPAM / "spam-samples.txt") if t.startswith(starts)]
    return found


# In tg-spam's ham samples, but our promotion signals flag it (private_contact,
# earning_pitch): a group that hires people says it is fine.
RECRUITING = ham_line("Добрый день, набираю людей для сотрудничества")
# In tg-spam's spam samples, but no promotion signal fires on it: missed.
TESTIMONIAL = spam_line("This is very legitimate and wonderful ,I know  everyone here")


class Service:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.registry = CollectorRegistry()
        self.metrics = Metrics(self.registry)
        observed = CorrectionsMetrics(self.metrics)  # the area's own, on the same registry
        # the service's caching (the sample cache checks the store every 5 s)
        areas = area_set(RulesetHolder(INDEX), cached_areas())
        self.area = areas.of(CORRECTIONS)
        self.pipeline = build_pipeline(store, RulesetHolder(INDEX), clock=lambda: T0, areas=areas)
        self.admin = CorrectionsAdmin(
            store, self.area.cache, observer=observed, clock=lambda: T0 + timedelta(hours=1)
        )
        observed.track_false_positives(self.admin.rule_report, cache_seconds=0)

    def sample(self, name: str, **labels: str) -> float | None:
        return self.registry.get_sample_value(name, labels)


def register(service: Service, *, age: timedelta = timedelta(days=1)) -> None:
    """A young chat (promotions are not welcome yet) owned by Olga, on the base ruleset."""
    service.pipeline.register_chat(
        ChatRegistration(
            key=KEY, ruleset="base", created_at=T0 - age, member_count=30, owner_id=OLGA.id
        )
    )


def post(event_id: str, who: Actor, text: str, minutes: int = 0) -> Event:
    at = T0 + timedelta(minutes=minutes)
    envelope = Envelope(event_id, KEY.platform, KEY.tenant, KEY.chat_id, at, who)
    return Event(envelope, MessagePosted(message_id=event_id, text=text))
