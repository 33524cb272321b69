"""What counts as value a group has delivered: substantive posts and answered questions. Pure.

The article: members stay once they "really experienced the benefits" and
"paid groups must first have free accumulation or proof of value". The
engine measures that proof as ``chat.value_delivered`` =
``chat.substantive_posts`` + ``chat.answered_questions``:

- a **substantive post** is a new message (not an edit, not a forward) of at
  least :data:`SUBSTANTIVE_WORDS` words that is not a promotion. Words are
  runs of letters or digits; a CJK ideograph, kana or hangul run counts one
  word per two characters (Chinese has no spaces, and a two-character word is
  typical). Forwards are left out: the article's example of no value is an
  owner who only re-posts "articles that can be found everywhere".
- an **answered question** is a question (a message with ``?``/``？`` or one
  that opens with a question word: how, what, why, 怎么, 为什么, 请问, как,
  почему, подскажите, ...) that someone else replied to with at least
  :data:`ANSWER_WORDS` words, not a promotion. Each question counts once.
  Replies are matched by the platform's reply-to id, so a platform that does
  not say what a message replies to delivers substantive posts only.
"""

from __future__ import annotations

from firekeeper.rules import features, linear

SUBSTANTIVE_WORDS = 20
ANSWER_WORDS = 3

_LATIN_WORD = linear.tokens(r"[^\W\d_]{2,}|\d+")  # read after CJK became spaces
_CJK = linear.tokens(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_QUESTION_WORDS = linear.compile(
    r"^\s*(?:(?:how|what|why|when|where|which|who|can\s+(?:anyone|someone|you)|does\s+anyone"
    r"|is\s+there|anyone\s+know|any\s+(?:idea|tips)|как|что|почему|зачем|где|когда|какой|какая"
    r"|какие|кто|подскажите|посоветуйте|есть\s+ли)\b"
    r"|怎么|怎样|如何|为什么|为啥|请问|有没有|谁知道|哪里|哪个|能不能)",
    ignore_case=True,
)


def words(text: str) -> int:
    """Words in a text (its first ``SCANNED_CHARS`` code points): runs of two or more
    letters, numbers, and CJK characters / 2. Counted once per text, whichever of the
    checks below asks first (``features.of``)."""
    return features.of(text).once(_words)


def _words(text: str) -> int:
    text = linear.scanned(text)
    cjk = len(_CJK.findall(text))
    return len(_LATIN_WORD.findall(_CJK.sub(" ", text))) + (cjk + 1) // 2


def is_question(text: str) -> bool:
    stripped = linear.scanned(text).strip()
    if not stripped or words(stripped) < 2:
        return False
    return "?" in stripped or "？" in stripped or bool(_QUESTION_WORDS.search(stripped))


def substantive(text: str, *, promotion: bool, is_forward: bool, is_edit: bool) -> bool:
    if promotion or is_forward or is_edit:
        return False
    return words(text) >= SUBSTANTIVE_WORDS


def answers(text: str, *, promotion: bool) -> bool:
    """Long enough, and not an ad, to count as an answer when it replies to a question."""
    return not promotion and words(text) >= ANSWER_WORDS
