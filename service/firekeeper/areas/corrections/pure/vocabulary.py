"""The fields the corrections area adds to the fact, for rules to read: admins' reports
(``features``; docs/screening.md). ``firekeeper.area_registry`` assembles them with the
core's and every area's into the vocabulary the checker types rules against.
"""

from __future__ import annotations

from firekeeper.rules.vocabulary import MSG, Field

# fmt: off
# (a table: one field a line reads best)
FIELDS: tuple[Field, ...] = (
    Field("message.reported_spam_match", "bool", "the text is the same as, or a near-duplicate of, a message an admin of this tenant reported as spam", MSG),
    Field("message.reported_ham_match", "bool", "the text is the same as, or a near-duplicate of, a message an admin of this tenant said was not spam (and matches none reported as spam)", MSG),
)
# fmt: on
