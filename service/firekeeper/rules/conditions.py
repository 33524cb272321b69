"""The ``when`` condition language: tokens, a recursive-descent parser, the AST.

Grammar (keywords are lower case)::

    expr       := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | atom
    atom       := "(" expr ")" | "known" "(" field ")" | comparison | field
    comparison := operand op operand                       op: == != < <= > >=
                | field ["not"] "in" "[" literal ("," literal)* "]"
                | field "contains" ["any"] (string | "[" string ("," string)* "]")
                | field "matches" string
    operand    := field | number | duration | string | "true" | "false"
    field      := a dotted path: a vocabulary path or params.<name>

Durations are an integer and a unit: ``45s 30m 6h 14d 2w`` (seconds). Strings
use double or single quotes with the escapes ``\\\\ \\" \\' \\n \\t``; any
other backslash is kept as written, so ``matches "\\d+"`` reaches RE2 as ``\\d+``.
``contains [..]`` needs every string; ``contains any [..]`` needs one.

Every node carries ``pos``, the 0-based offset in the condition text, so an
error points at the exact spot. Parentheses and ``not`` nest at most
``MAX_DEPTH`` deep, so neither the parser nor any later stage walking the
tree recurses without bound. Types are checked by ``firekeeper.rules.checker``.
"""

from __future__ import annotations

from dataclasses import dataclass

Scalar = int | float | str | bool

KEYWORDS = frozenset(
    {"and", "or", "not", "in", "contains", "any", "matches", "known", "true", "false"}
)
COMPARISONS = ("==", "!=", "<=", ">=", "<", ">")
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_MAX_NUMBER = 2**53
MAX_DEPTH = 32  # parentheses and `not` nested in one condition


@dataclass(frozen=True, slots=True)
class FieldRef:
    path: str
    pos: int


@dataclass(frozen=True, slots=True)
class Const:
    value: Scalar
    kind: str  # number | duration | string | bool
    pos: int


Operand = FieldRef | Const


@dataclass(frozen=True, slots=True)
class Compare:
    left: Operand
    op: str
    right: Operand
    pos: int


@dataclass(frozen=True, slots=True)
class InList:
    field: FieldRef
    values: tuple[Const, ...]
    negated: bool
    pos: int


@dataclass(frozen=True, slots=True)
class Contains:
    field: FieldRef
    needles: tuple[Const, ...]
    any_of: bool
    pos: int


@dataclass(frozen=True, slots=True)
class Matches:
    field: FieldRef
    pattern: Const
    pos: int


@dataclass(frozen=True, slots=True)
class Known:
    field: FieldRef
    pos: int


@dataclass(frozen=True, slots=True)
class IsTrue:
    """A bare boolean field used as a condition."""

    field: FieldRef
    pos: int


@dataclass(frozen=True, slots=True)
class Not:
    operand: Condition
    pos: int


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Condition, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Condition, ...]
    pos: int


Condition = Compare | InList | Contains | Matches | Known | IsTrue | Not | And | Or


class ConditionError(Exception):
    """A problem at ``pos`` (0-based) inside a condition's text."""

    def __init__(self, message: str, pos: int, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.hint = hint


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # name, number, duration, string, op, punct, a keyword, or end
    text: str
    pos: int
    value: Scalar | None = None


_PUNCT = "()[],"
_MISTAKES = {"=": "==", "&&": "and", "||": "or", "!": "not", "&": "and", "|": "or"}
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t"}


def _is_name_start(c: str) -> bool:
    return c.isascii() and (c.isalpha() or c == "_")


def _is_name_char(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c == "_")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n":
            i += 1
        elif c in _PUNCT:
            tokens.append(Token("punct", c, i))
            i += 1
        elif text.startswith(("==", "!=", "<=", ">="), i):
            tokens.append(Token("op", text[i : i + 2], i))
            i += 2
        elif c in "<>":
            tokens.append(Token("op", c, i))
            i += 1
        elif c in "\"'":
            i = _string(text, i, tokens)
        elif c.isdigit() or (c == "-" and i + 1 < n and text[i + 1].isdigit()):
            i = _number(text, i, tokens)
        elif _is_name_start(c):
            i = _name(text, i, tokens)
        else:
            two = text[i : i + 2]
            wrong = two if two in _MISTAKES else c
            if wrong in _MISTAKES:
                raise ConditionError(
                    f"unexpected {wrong!r}", i, f"write `{_MISTAKES[wrong]}` instead"
                )
            raise ConditionError(f"unexpected character {c!r}", i)
    tokens.append(Token("end", "", n))
    return tokens


def _string(text: str, start: int, out: list[Token]) -> int:
    quote, i = text[start], start + 1
    chars: list[str] = []
    while i < len(text):
        c = text[i]
        if c == quote:
            out.append(Token("string", text[start : i + 1], start, "".join(chars)))
            return i + 1
        if c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            chars.append(_ESCAPES.get(nxt, c + nxt))  # "\d" stays "\d" for patterns
            i += 2
            continue
        if ord(c) < 32 and c not in "\t":
            raise ConditionError("control character in a string", i, "use \\n or \\t")
        chars.append(c)
        i += 1
    raise ConditionError("unterminated string", start, f"close it with {quote}")


def _number(text: str, start: int, out: list[Token]) -> int:
    i = start + 1
    while i < len(text) and text[i].isdigit():
        i += 1
    is_float = False
    if i + 1 < len(text) and text[i] == "." and text[i + 1].isdigit():
        is_float = True
        i += 1
        while i < len(text) and text[i].isdigit():
            i += 1
    end = i
    while end < len(text) and _is_name_char(text[end]):
        end += 1
    literal, suffix = text[start:i], text[i:end]
    if suffix:
        if suffix not in DURATION_UNITS:
            raise ConditionError(
                f"unknown duration unit {suffix!r} in {text[start:end]!r}",
                i,
                "durations are a whole number and one of s, m, h, d, w, e.g. 14d or 6h",
            )
        if is_float:
            raise ConditionError(
                f"durations are whole numbers: {text[start:end]!r}",
                start,
                "use a smaller unit, e.g. 90m instead of 1.5h",
            )
        seconds = int(literal) * DURATION_UNITS[suffix]
        _check_range(seconds, start)
        out.append(Token("duration", text[start:end], start, seconds))
        return end
    value: int | float = float(literal) if is_float else int(literal)
    _check_range(value, start)
    out.append(Token("number", literal, start, value))
    return end


def _check_range(value: float, pos: int) -> None:
    if abs(value) >= _MAX_NUMBER:
        raise ConditionError("number out of range", pos, "numbers must be below 2**53")


def _name(text: str, start: int, out: list[Token]) -> int:
    i = start
    while True:
        while i < len(text) and _is_name_char(text[i]):
            i += 1
        if i + 1 < len(text) and text[i] == "." and _is_name_start(text[i + 1]):
            i += 1
            continue
        break
    word = text[start:i]
    if word in KEYWORDS:
        value: Scalar | None = {"true": True, "false": False}.get(word)
        out.append(Token(word, word, start, value))
    else:
        out.append(Token("name", word, start))
    return i


def parse(text: str) -> Condition:
    """Parse a condition; raises ConditionError at the first syntax error."""
    parser = _Parser(tokenize(text))
    if parser.peek().kind == "end":
        raise ConditionError(
            "empty condition", 0, "leave `when` out for a rule that always applies"
        )
    node = parser.expr()
    tok = parser.peek()
    if tok.kind != "end":
        joinable = tok.kind in ("name", "not", "known") or tok.text == "("
        hint = "join conditions with `and` or `or`" if joinable else ""
        if tok.kind == "name" and parser.peek(-1).kind == "number":
            hint = "write a duration as one word, like 14d, 6h, 30m or 45s"
        raise ConditionError(f"unexpected {_describe(tok)}", tok.pos, hint)
    return node


def _describe(tok: Token) -> str:
    if tok.kind == "end":
        return "end of condition"
    return f"{tok.text!r}"


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.depth = 0

    def descend(self, tok: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConditionError(
                f"condition nested deeper than {MAX_DEPTH} levels",
                tok.pos,
                "remove redundant parentheses and `not`s, or split the rule",
            )

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        tok = self.peek()
        self.i += 1
        return tok

    def expect(self, text: str, what: str) -> Token:
        tok = self.peek()
        if tok.text != text or tok.kind == "string":
            raise ConditionError(f"expected {what}, found {_describe(tok)}", tok.pos)
        return self.take()

    def expr(self) -> Condition:
        return self.or_()

    def or_(self) -> Condition:
        first = self.and_()
        items = [first]
        while self.peek().kind == "or":
            self.take()
            items.append(self.and_())
        return first if len(items) == 1 else Or(tuple(items), first.pos)

    def and_(self) -> Condition:
        first = self.not_()
        items = [first]
        while self.peek().kind == "and":
            self.take()
            items.append(self.not_())
        return first if len(items) == 1 else And(tuple(items), first.pos)

    def not_(self) -> Condition:
        if self.peek().kind == "not":
            tok = self.take()
            self.descend(tok)
            node = Not(self.not_(), tok.pos)
            self.depth -= 1
            return node
        return self.atom()

    def atom(self) -> Condition:
        tok = self.peek()
        if tok.kind == "punct" and tok.text == "(":
            self.take()
            self.descend(tok)
            node = self.expr()
            self.expect(")", "')'")
            self.depth -= 1
            return node
        if tok.kind == "known":
            self.take()
            self.expect("(", "'(' after known")
            field = self.field()
            self.expect(")", "')'")
            return Known(field, tok.pos)
        if tok.kind == "name":
            return self.after_field(self.field())
        if tok.kind in ("number", "duration", "string", "true", "false"):
            left = self.literal()
            op = self.peek()
            if op.kind != "op":
                raise ConditionError(
                    f"expected a comparison operator after {tok.text}, found {_describe(op)}",
                    op.pos,
                    "a constant alone is not a condition",
                )
            self.take()
            return Compare(left, op.text, self.operand(), tok.pos)
        raise ConditionError(f"expected a condition, found {_describe(tok)}", tok.pos)

    def field(self) -> FieldRef:
        tok = self.peek()
        if tok.kind != "name":
            raise ConditionError(f"expected a field, found {_describe(tok)}", tok.pos)
        self.take()
        return FieldRef(tok.text, tok.pos)

    def after_field(self, field: FieldRef) -> Condition:
        tok = self.peek()
        if tok.kind == "op":
            self.take()
            return Compare(field, tok.text, self.operand(), field.pos)
        if tok.kind == "not" and self.peek(1).kind == "in":
            self.take()
            self.take()
            return InList(field, self.literal_list(strings_only=False), True, field.pos)
        if tok.kind == "not":
            raise ConditionError("expected `in` after `not`", self.peek(1).pos)
        if tok.kind == "in":
            self.take()
            return InList(field, self.literal_list(strings_only=False), False, field.pos)
        if tok.kind == "contains":
            self.take()
            any_of = self.peek().kind == "any"
            if any_of:
                self.take()
            if self.peek().kind == "string":
                needles: tuple[Const, ...] = (self.literal(),)
            else:
                needles = self.literal_list(strings_only=True)
            return Contains(field, needles, any_of, field.pos)
        if tok.kind == "matches":
            self.take()
            pattern = self.peek()
            if pattern.kind != "string":
                raise ConditionError(
                    f"expected a quoted pattern after matches, found {_describe(pattern)}",
                    pattern.pos,
                )
            return Matches(field, self.literal(), field.pos)
        return IsTrue(field, field.pos)

    def operand(self) -> Operand:
        if self.peek().kind == "name":
            return self.field()
        return self.literal()

    def literal(self) -> Const:
        tok = self.peek()
        kinds = {"number": "number", "duration": "duration", "string": "string"}
        if tok.kind in kinds and tok.value is not None:
            self.take()
            return Const(tok.value, kinds[tok.kind], tok.pos)
        if tok.kind in ("true", "false") and tok.value is not None:
            self.take()
            return Const(tok.value, "bool", tok.pos)
        raise ConditionError(f"expected a value, found {_describe(tok)}", tok.pos)

    def literal_list(self, *, strings_only: bool) -> tuple[Const, ...]:
        what = "strings" if strings_only else "values"
        start = self.peek()
        if not (start.kind == "punct" and start.text == "["):
            expected = "a string or a list" if strings_only else "a list"
            raise ConditionError(
                f'expected {expected} like ["a", "b"], found {_describe(start)}', start.pos
            )
        self.take()
        items = [self.literal()]
        while self.peek().text == "," and self.peek().kind == "punct":
            self.take()
            items.append(self.literal())
        self.expect("]", f"',' or ']' in a list of {what}")
        if strings_only:
            for item in items:
                if item.kind != "string":
                    raise ConditionError("contains takes strings", item.pos, 'quote it: "..."')
        return tuple(items)
