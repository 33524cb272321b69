"""A real pipeline on a throwaway SQLite store, for tests, replay and explain.

The pipeline is built by ``firekeeper.wiring.build_pipeline``, so it has every
governance area the service has. Its clock is set by the caller (the time of
the event being evaluated), so a run is deterministic.

State kept through the Screening API (a chat's screening settings, the tenant
blocklist) is written with the functions the API calls (``ScreeningAdmin``);
the phishing list is handed to the areas as the service hands it (``AreaContext``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType

from firekeeper.area_package import AreaContext
from firekeeper.areas.corrections import queries as corrections_q
from firekeeper.areas.corrections.area import CorrectionsArea
from firekeeper.areas.corrections.package import PACKAGE as CORRECTIONS
from firekeeper.areas.screening.admin import ScreeningAdmin
from firekeeper.domain.chats import (
    ChannelTheme,
    ChatKey,
    ChatRecord,
    ChatRegistration,
    MemberRecord,
    StateChanges,
    Theme,
)
from firekeeper.domain.decisions import Decision
from firekeeper.domain.events import Event, Platform
from firekeeper.domain.screening import BlockEntry, BlockKind, ChatScreening
from firekeeper.learned.artefact import shipped
from firekeeper.pipeline import Pipeline, RulesetHolder
from firekeeper.rules.compiler import RulesetIndex
from firekeeper.store import create_store
from firekeeper.tools.suite import DEFAULT_START, ChatState, MemberState
from firekeeper.wiring import area_set, build_pipeline


def _ago(now: datetime, seconds: int | None) -> datetime | None:
    return None if seconds is None else now - timedelta(seconds=seconds)


def param_text(value: object) -> str:
    """A parameter override as the YAML scalar text RegisterChat takes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def member_record(m: MemberState, start: datetime) -> MemberRecord:
    joined = _ago(start, m.tenure)
    return MemberRecord(
        user_id=m.id,
        display_name=m.name or m.id,
        is_bot=m.bot,
        role=m.role,
        is_member=not m.left,
        joined_at=joined,
        first_joined_at=joined,
        left_at=start if m.left else None,
        inviter_id=m.inviter,
        message_count=m.message_count,
        last_seen_at=_ago(start, m.last_seen),
        invited_count=m.invited_count,
        account_created_at=_ago(start, m.account_age),
    )


class Sandbox:
    """A pipeline on a fresh temporary SQLite store; close it (or use ``with``)."""

    def __init__(self, index: RulesetIndex, store_dir: Path | None = None) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if store_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="firekeeper-")
            store_dir = Path(self._tmp.name)
        self.store = create_store(f"sqlite:///{store_dir / 'firekeeper.db'}")
        self.store.migrate()
        self.rulesets = RulesetHolder(index)
        self.now = DEFAULT_START
        self.admin = ScreeningAdmin(self.store, clock=lambda: self.now)
        self.phishing: frozenset[str] = frozenset()
        self.corrections: CorrectionsArea
        self.pipeline = self._build()

    def _build(self) -> Pipeline:
        context = AreaContext(phishing_domains=self.phishing, spam_model=shipped())
        areas = area_set(self.rulesets, context)
        self.corrections = areas.of(CORRECTIONS)
        return build_pipeline(self.store, self.rulesets, clock=lambda: self.now, areas=areas)

    def use_phishing(self, domains: Collection[str]) -> None:
        """Evaluate with this phishing list from now on (as FIREKEEPER_PHISHING_DOMAINS)."""
        wanted = frozenset(domains)
        if wanted != self.phishing:
            self.phishing = wanted
            self.pipeline = self._build()

    @contextmanager
    def blocklist(
        self, tenant: str, users: Sequence[tuple[Platform, str]], domains: Sequence[str]
    ) -> Iterator[None]:
        """The tenant's blocklist holds these entries inside the ``with``, and not after it.

        Raises InvalidEvent as AddBlocklistEntries would.
        """
        entries = [BlockEntry(BlockKind.USER, user, platform) for platform, user in users]
        entries += [BlockEntry(BlockKind.DOMAIN, d) for d in domains]
        if not entries:
            yield
            return
        self.admin.add_blocklist(tenant, entries)
        try:
            yield
        finally:
            self.admin.remove_blocklist(tenant, entries)

    @contextmanager
    def reported(self, key: ChatKey, samples: Sequence[tuple[str, str]]) -> Iterator[None]:
        """The tenant holds these ``(label, text)`` samples, as admins' corrections of
        chat ``key`` store them, inside the ``with``, and not after it."""
        if not samples:
            yield
            return
        with self.store.chat_transaction(key) as tx:
            ids = corrections_q.seed_samples(tx.connection, key, samples, self.now)
        self.corrections.cache.invalidate(key.tenant)
        try:
            yield
        finally:
            with self.store.chat_transaction(key) as tx:
                corrections_q.remove(tx.connection, ids)
            self.corrections.cache.invalidate(key.tenant)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.store.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    @property
    def index(self) -> RulesetIndex:
        return self.rulesets.index

    def seed(
        self,
        key: ChatKey,
        ruleset: str,
        chat: ChatState,
        members: Sequence[MemberState],
        start: datetime,
    ) -> ChatRecord:
        """Register the chat on ``ruleset`` ("": its kind's default), write its members
        and its screening settings.

        Raises UnknownRuleset or InvalidParam as RegisterChat would, InvalidEvent as
        SetChatScreening would.
        """
        kind = chat.kind or (self.index.get(ruleset).kind if ruleset else "unspecified")
        current = sum(1 for m in members if not m.left)
        theme = Theme()
        if chat.theme is not None:
            t = chat.theme
            channels = tuple(
                ChannelTheme(c.channel_id, tuple(c.keywords), tuple(c.phrases), tuple(c.examples))
                for c in t.channels
            )
            theme = Theme(
                tuple(t.keywords), tuple(t.phrases), tuple(t.languages), channels, tuple(t.examples)
            )
        self.pipeline.register_chat(
            ChatRegistration(
                key=key,
                ruleset=ruleset,
                kind=kind,
                theme=theme,
                created_at=_ago(start, chat.age),
                params={name: param_text(v) for name, v in chat.params.items()},
                title=chat.title or "",
                member_count=chat.member_count if chat.member_count is not None else current,
                owner_id=chat.owner or "",
                language=chat.language or "",
            )
        )
        with self.store.chat_transaction(key) as tx:
            record = replace(
                tx.chat,
                message_count=chat.message_count or 0,
                last_message_at=_ago(start, chat.last_message),
            )
            tx.apply(StateChanges(record, tuple(member_record(m, start) for m in members)))
        if chat.screening is not None:
            s = chat.screening
            self.admin.set_settings(
                ChatScreening(key, tuple(s.allowed_domains), tuple(s.entry_patterns))
            )
        return record

    def evaluate(self, event: Event) -> Decision:
        self.now = event.envelope.occurred_at
        return self.pipeline.evaluate(event)

    def chat(self, key: ChatKey) -> ChatRecord | None:
        return self.store.get_chat(key)
