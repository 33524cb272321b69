"""Measuring a chat's health from the store (read-only queries on one connection).

Windows are whole UTC days (``firekeeper.areas.lifecycle.queries.day_of``): "the last 30
days" is today and the 29 days before; "daily" is today and yesterday, so a
measurement just after midnight still sees a day's worth of posting.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from firekeeper.areas.lifecycle.pure.features import ChatActivity
from firekeeper.areas.lifecycle.pure.health import decline
from firekeeper.areas.lifecycle.queries import activity_days, day_of, poster_days
from firekeeper.domain.chats import ChatRecord
from firekeeper.domain.health import HealthMetrics
from firekeeper.store.models import members

WEEKS = 8  # weekly message counts looked at for the trend, falling weeks and decline


def _days(now: datetime, then: datetime | None) -> int | None:
    return None if then is None else max(0, int((now - then).total_seconds() // 86_400))


def _share(part: int, whole: int) -> float | None:
    return None if whole <= 0 else round(part / whole, 3)


def measure(
    conn: Connection,
    chat_pk: int,
    chat: ChatRecord,
    activity: ChatActivity | None,
    now: datetime,
) -> HealthMetrics:
    today = day_of(now)
    a = activity or ChatActivity()
    # silence is measured from when Firekeeper started watching, never from a creation
    # date long before it (nobody knows who spoke then)
    first_seen = a.first_seen_at or now
    m = members
    person = sa.and_(m.c.chat_pk == chat_pk, sa.not_(m.c.is_bot))

    posters = conn.execute(
        sa.select(sa.func.count()).where(person, m.c.is_member, m.c.message_count > 0)
    ).scalar_one()

    p = poster_days
    per_user = conn.execute(
        sa.select(p.c.user_id, sa.func.sum(p.c.messages), sa.func.max(p.c.day))
        .where(p.c.chat_pk == chat_pk, p.c.day >= today - 29, p.c.day <= today)
        .group_by(p.c.user_id)
    ).all()
    monthly = len(per_user)
    daily = sum(1 for row in per_user if row[2] >= today - 1)
    counts = sorted((int(row[1]) for row in per_user), reverse=True)
    top3 = _share(sum(counts[:3]), sum(counts))
    owner = chat.owner_id
    others = sum(1 for row in per_user if row[0] != owner)
    by_owner = sum(int(row[1]) for row in per_user if owner and row[0] == owner)
    owner_share = _share(by_owner, sum(counts)) if owner else None

    d = activity_days
    by_day = {
        int(row.day): row
        for row in conn.execute(
            sa.select(d).where(
                d.c.chat_pk == chat_pk, d.c.day >= today - 7 * WEEKS, d.c.day <= today
            )
        )
    }

    def total(column: str, first: int, last: int = today) -> int:
        return sum(int(getattr(by_day[k], column)) for k in by_day if first <= k <= last)

    weeks = [total("messages", today - 7 * i - 6, today - 7 * i) for i in range(WEEKS)]
    prev21 = sum(weeks[1:4])
    falling = 0
    while falling < 4 and weeks[falling] < weeks[falling + 1]:
        falling += 1
    # the trend reads whole days only, the weeks that ended last midnight: today has
    # barely begun at a round just after midnight, and a week of six days and a few
    # hours looked like a drop of up to a seventh to every group (a false "falling")
    whole = [total("messages", today - 7 * i - 7, today - 7 * i - 1) for i in range(WEEKS)]
    # whole weeks watched: a week partly before Firekeeper saw the chat counts as unknown
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    trend = decline(whole, (_days(midnight, first_seen) or 0) // 7)
    on, off = total("on_topic", today - 29), total("off_topic", today - 29)

    cohort_rows = conn.execute(
        sa.select(m.c.first_joined_at, m.c.left_at, m.c.is_member).where(
            person,
            m.c.first_joined_at >= now - timedelta(days=37),
            m.c.first_joined_at <= now - timedelta(days=7),
        )
    ).all()
    kept = sum(
        1
        for joined, left, current in cohort_rows
        if current or left is None or left - joined >= timedelta(days=7)
    )
    joiners = conn.execute(
        sa.select(sa.func.count(), sa.func.count().filter(m.c.message_count > 0)).where(
            person, m.c.joined_at >= now - timedelta(days=30)
        )
    ).one()

    last_message = a.last_human_message_at or chat.last_message_at
    spoke = last_message is not None
    silent = _days(now, last_message if spoke else first_seen)
    owner_at = a.last_owner_message_at or (first_seen if chat.owner_id else None)
    admin_at = a.last_admin_message_at or first_seen
    return HealthMetrics(
        measured_at=now,
        member_count=chat.member_count,
        posters=int(posters),
        poster_share=_share(int(posters), chat.member_count),
        daily_active_posters=daily,
        monthly_active_posters=monthly,
        retention_cohort=len(cohort_rows),
        joiner_retention=_share(kept, len(cohort_rows)),
        joins_30d=total("joins", today - 29),
        leaves_30d=total("leaves", today - 29),
        joiners_posted_share=_share(int(joiners[1]), int(joiners[0])),
        top3_share=top3,
        messages_7d=weeks[0],
        messages_prev_21d=prev21,
        activity_trend=None if prev21 == 0 else round(weeks[0] / (prev21 / 3), 2),
        weeks_falling=falling,
        days_since_last_message=silent,
        days_since_owner_spoke=_days(now, owner_at),
        days_since_admin_spoke=_days(now, admin_at),
        off_topic_share=_share(off, on + off),
        scored_messages_30d=on + off,
        new_themes_30d=total("theme_expansions", today - 29),
        notices_flagged_30d=total("notices_flagged", today - 29),
        age_days=_days(now, chat.created_at or first_seen),
        ever_spoke=spoke,
        messages_usual_week=trend.usual_week,
        activity_drop_percent=trend.drop_percent,
        activity_declining=trend.declining,
        others_active_30d=others,
        owner_message_share=owner_share,
    )
