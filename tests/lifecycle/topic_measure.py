"""How well messages are judged against a group's theme: the figures behind #12 item 1.

Two sets, each split in two by position (even: dev, the part the scorer's numbers were
tuned on; odd: held out, the part reported):

- KdConv (../shared/fixtures/datasets/kdconv_zh_dialogues, thu-coai/KdConv, Apache-2.0):
  450 crowdsourced Chinese dialogues on film, music and travel, each on its domain. A
  film group's theme (tests/lifecycle/data/topic_zh_themes.yaml) should accept the film
  dialogues and flag the travel ones; split by dialogue.
- tests/lifecycle/data/topic_en.yaml: six English group themes with on- and off-topic
  messages written for this project.

With ``recent``, each group remembers its own recent on-topic vocabulary as the service
does (``topic.remember``), message by message through its stream: its own dialogues with
an off-theme dialogue after every third.

A message on the theme is *accepted* when it is not judged off topic (on topic or
neutral: a short "1988." in a film dialogue is neither); one off the theme is *flagged*
when judged off topic. Accuracy counts both; off-topic precision is the share of
flagged messages that really were off the theme (a healthy group must not be nudged).

Run ``python -m tests.lifecycle.topic_measure`` from the repository root for the table.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from firekeeper.areas.lifecycle.pure import theme_vocab, topic

REPO = Path(__file__).resolve().parents[2]
KDCONV = (
    REPO.parent / "shared" / "fixtures" / "datasets" / "kdconv_zh_dialogues" / "dialogues.jsonl"
)
DATA = Path(__file__).resolve().parent / "data"
OFF_PAIRS = {("film", "travel"), ("travel", "film"), ("music", "travel"), ("travel", "music")}


@dataclass
class Tally:
    on: int = 0
    accepted: int = 0
    recognised: int = 0  # judged on_topic
    keywordless: int = 0  # on-theme messages with no keyword hit
    keywordless_recognised: int = 0
    off: int = 0
    flagged: int = 0
    wrongly_flagged: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return (self.accepted + self.flagged) / max(1, self.on + self.off)

    @property
    def off_precision(self) -> float:
        return self.flagged / max(1, self.flagged + self.wrongly_flagged)

    def add(self, on_theme: bool, result: topic.TopicResult, keyword: float) -> None:
        if on_theme:
            self.on += 1
            self.accepted += not result.off_topic
            self.recognised += result.topic == "on_topic"
            self.wrongly_flagged += result.off_topic
            if keyword == 0:
                self.keywordless += 1
                self.keywordless_recognised += result.topic == "on_topic"
        else:
            self.off += 1
            self.flagged += result.off_topic

    def line(self, name: str) -> str:
        return (
            f"{name:<34} acc {self.accuracy:6.1%}  off-prec {self.off_precision:6.1%}  "
            f"on {self.on:5} accepted {self.accepted / max(1, self.on):6.1%} "
            f"recognised {self.recognised / max(1, self.on):6.1%} "
            f"(no keyword: {self.keywordless_recognised}/{self.keywordless})  "
            f"off {self.off:5} flagged {self.flagged / max(1, self.off):6.1%}"
        )


def _theme(spec: dict[str, list[str]], examples: bool) -> topic.CompiledTheme:
    return topic.compile_theme(
        spec.get("keywords", []),
        spec.get("phrases", []),
        spec.get("examples", []) if examples else (),
    )


def _keyword_score(text: str, spec: dict[str, list[str]]) -> float:
    result = topic.score(text, _theme(spec, examples=False))
    return result.score or 0.0


def kdconv(part: int) -> dict[str, list[list[str]]]:
    """Dialogues by domain, the ``part`` (0 dev, 1 held out) of each domain's list."""
    out: dict[str, list[list[str]]] = {}
    with KDCONV.open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    for domain in ("film", "music", "travel"):
        dialogues = [r["messages"] for r in rows if r["domain"] == domain]
        out[domain] = dialogues[part::2]
    return out


def _interleaved(own: list[list[str]], others: list[list[str]]) -> Iterator[tuple[bool, str]]:
    """A group's stream: its own dialogues, one off-theme dialogue after every third."""
    rest = iter(others)
    for i, dialogue in enumerate(own):
        yield from ((True, m) for m in dialogue)
        if i % 3 == 2:
            other = next(rest, None)
            if other is not None:
                yield from ((False, m) for m in other)


def _judge(
    stream: Iterator[tuple[bool, str]],
    theme: topic.CompiledTheme,
    spec: dict[str, list[str]],
    tally: Tally,
    recent: bool,
) -> None:
    remembered: theme_vocab.Remembered = ()
    for on_theme, text in stream:
        result = topic.score(text, theme, recent=theme_vocab.recent(remembered))
        tally.add(on_theme, result, _keyword_score(text, spec))
        if recent and result.topic == "on_topic":
            remembered = topic.remember(remembered, text, theme)


def measure_kdconv(part: int, *, examples: bool = True, recent: bool = False) -> dict[str, Tally]:
    themes = yaml.safe_load((DATA / "topic_zh_themes.yaml").read_text(encoding="utf-8"))["themes"]
    dialogues = kdconv(part)
    out: dict[str, Tally] = {"far": Tally(), "near": Tally()}
    for group, spec in themes.items():
        theme = _theme(spec, examples)
        for other in dialogues:
            if other == group:
                continue
            tally = out["far" if (group, other) in OFF_PAIRS else "near"]
            _judge(_interleaved(dialogues[group], dialogues[other]), theme, spec, tally, recent)
    return out


def measure_en(part: int, *, examples: bool = True) -> Tally:
    themes = yaml.safe_load((DATA / "topic_en.yaml").read_text(encoding="utf-8"))["themes"]
    tally = Tally()
    for spec in themes.values():
        theme = _theme(spec, examples)
        for on_theme, key in ((True, "on_theme"), (False, "off_theme")):
            for text in spec[key][part::2]:
                result = topic.score(text, theme)
                tally.add(on_theme, result, _keyword_score(text, spec))
    return tally


def main() -> None:
    for part, name in ((0, "dev"), (1, "held out")):
        print(f"== {name}")
        for examples in (False, True):
            how = "keywords + examples" if examples else "keywords only"
            print(measure_en(part, examples=examples).line(f"EN {how}"))
            for kind, tally in measure_kdconv(part, examples=examples).items():
                print(tally.line(f"KdConv {kind} {how}"))
        for kind, tally in measure_kdconv(part, recent=True).items():
            print(tally.line(f"KdConv {kind} + recent"))


if __name__ == "__main__":
    main()
