"""Turn the HTML body of an email into readable plain text with the standard library parser."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Content of these elements is never shown to a reader.
_HIDDEN = frozenset({"script", "style", "head", "title", "template", "noscript", "xml"})
_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt",
        "fieldset", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tr", "ul",
    }
)  # fmt: skip
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base"})
_SPACES = re.compile(r"[ \t\r\n\f\v]+")


def html_to_text(html: str) -> str:
    """Return the readable text of ``html``: blocks on their own lines, no script/style content.

    Block quotes are prefixed with "> " per level so quoted history can be trimmed like plain
    text; list items start with "- "; a link whose text differs from its address is followed by
    the address in parentheses.
    """
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return parser.text()


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._lines: list[str] = []
        self._current: list[str] = []
        self._hidden_depth = 0
        self._quote_depth = 0
        self._pre_depth = 0
        self._links: list[str | None] = []
        self._link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            if tag not in _VOID:
                self._hidden_depth += 1
            return
        if self._hidden_depth:
            return
        if tag == "br":
            self._break(force=True)
        elif tag in _BLOCK:
            self._break()
            if tag == "blockquote":
                self._quote_depth += 1
            elif tag == "pre":
                self._pre_depth += 1
            elif tag == "li":
                self._current.append("- ")
            elif tag == "hr":
                self._current.append("---")
                self._break()
        elif tag == "a":
            self._links.append(dict(attrs).get("href"))
            self._link_text.append("")
        elif tag in ("td", "th") and self._current and self._current[-1].strip():
            self._current.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden_depth = max(0, self._hidden_depth - 1)
            return
        if self._hidden_depth:
            return
        if tag in _BLOCK:
            self._break()
            if tag in ("p", "table", "ul", "ol"):
                self._break(force=True)  # a blank line after a paragraph, as a reader expects
            if tag == "blockquote":
                self._quote_depth = max(0, self._quote_depth - 1)
            elif tag == "pre":
                self._pre_depth = max(0, self._pre_depth - 1)
        elif tag == "a" and self._links:
            href = self._links.pop()
            text = self._link_text.pop().strip()
            if href and href.startswith(("http://", "https://")) and text and text != href:
                self._current.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if self._hidden_depth:
            return
        data = data.replace("\xa0", " ")
        if self._pre_depth:
            lines = data.split("\n")
            for i, line in enumerate(lines):
                if i:
                    self._break(force=True)
                self._current.append(line)
        else:
            text = _SPACES.sub(" ", data)
            if not self._current or self._current[-1].endswith(" "):
                text = text.lstrip(" ")
            self._current.append(text)
        if self._link_text:
            self._link_text[-1] += data

    def _break(self, *, force: bool = False) -> None:
        line = "".join(self._current).rstrip()
        self._current = []
        if not line and not force:
            return
        prefix = "> " * self._quote_depth
        self._lines.append((prefix + line).rstrip() if line else prefix.rstrip())

    def text(self) -> str:
        self._break()
        out: list[str] = []
        for line in self._lines:
            if not line.strip("> ") and out and not out[-1].strip("> "):
                continue  # at most one blank line in a row
            out.append(line)
        return "\n".join(out).strip("\n")
