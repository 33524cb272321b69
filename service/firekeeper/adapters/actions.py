"""A decision's actions -> the platform calls that carry them out (as data).

``calls_for`` keeps the decision's order: calls for the first action come
first. Each platform module documents its calls and fallbacks; a fallback call
has ``fallback=True`` and a note starting with ``fallback:`` that says what the
platform lacks and what is done instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from firekeeper.adapters.base import PlatformCall, UnmappableAction
from firekeeper.adapters.calls import CallContext
from firekeeper.adapters.discord_actions import discord_calls
from firekeeper.adapters.telegram_actions import telegram_calls
from firekeeper.adapters.wecom_actions import wecom_calls
from firekeeper.domain.decisions import Action, Decision
from firekeeper.domain.events import Platform

ActionMapper = Callable[[Action, CallContext], list[PlatformCall]]

MAPPERS: dict[Platform, ActionMapper] = {
    Platform.TELEGRAM: telegram_calls,
    Platform.DISCORD: discord_calls,
    Platform.WECOM: wecom_calls,
}


def calls_for_action(
    platform: Platform | str, action: Action, context: CallContext
) -> list[PlatformCall]:
    """The calls that carry out one action on ``platform``."""
    return _mapper(platform)(action, context)


def calls_for(
    platform: Platform | str, decision: Decision, context: CallContext
) -> list[PlatformCall]:
    """The calls that carry out every action of ``decision``, in order; the adapter's own
    texts in the decision's language unless ``context`` names one."""
    mapper = _mapper(platform)
    if decision.language and not context.language:
        context = replace(context, language=decision.language)
    return [call for action in decision.actions for call in mapper(action, context)]


def _mapper(platform: Platform | str) -> ActionMapper:
    try:
        key = Platform(platform)
    except ValueError:
        raise UnmappableAction(f"unknown platform {platform!r}") from None
    if key not in MAPPERS:
        known = ", ".join(sorted(p.value for p in MAPPERS))
        raise UnmappableAction(f"no action mapping for {key.value}; mapped platforms: {known}")
    return MAPPERS[key]
