"""Reading the console's figures back out of its HTML (the DOM's ``data-*`` marks)."""

from __future__ import annotations

from html.parser import HTMLParser


class Figures(HTMLParser):
    """Rows marked ``data-rule`` (or ``data-event``) with the text of their cells marked
    ``data-figure``; elements with an id and their text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.rows: dict[tuple[str, ...], dict[str, str]] = {}
        self.ids: dict[str, str] = {}
        self.attrs_by_id: dict[str, dict[str, str]] = {}
        self.events: list[str] = []  # data-event of rows, in order
        self.marked: list[dict[str, str]] = []  # every element's data-* attributes
        self._row: tuple[str, ...] | None = None
        self._cell: str | None = None
        self._id: list[str | None] = []
        self._text: dict[str, list[str]] = {}
        self.feed(html)
        self.ids = {k: " ".join("".join(v).split()) for k, v in self._text.items()}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        data = {k: v for k, v in a.items() if k.startswith("data-")}
        if data:
            self.marked.append({"tag": tag, **data})
        if tag == "tr" and "data-rule" in a:
            self._row = (a.get("data-ruleset", ""), a["data-rule"])
            self.rows[self._row] = {}
        elif tag == "tr" and "data-event" in a:
            self._row = (a["data-event"],)
            self.rows[self._row] = {}
            self.events.append(a["data-event"])
        if tag in ("td", "th") and "data-figure" in a:
            self._cell = a["data-figure"]
        if "id" in a:
            self._text.setdefault(a["id"], [])
            self.attrs_by_id[a["id"]] = a
        if tag not in ("input", "meta", "link", "br", "img"):
            self._id.append(a.get("id"))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._cell = None
        if tag == "tr":
            self._row = None
        if self._id:
            self._id.pop()

    def handle_data(self, data: str) -> None:
        if self._row is not None and self._cell is not None:
            row = self.rows[self._row]
            row[self._cell] = row.get(self._cell, "") + data.strip()
        for i in self._id:
            if i is not None:
                self._text[i].append(data)
