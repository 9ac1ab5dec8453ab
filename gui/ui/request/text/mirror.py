"""A Python copy of the editor's text, kept up to date edit by edit (plain Python, no Qt).

``QPlainTextEdit.toPlainText()`` copies the whole document out of Qt: 100-170 ms for a 28 MB
body of 823 k lines, on the Qt thread, before every validation (bench_editor: typing stalled at
p99 93 ms). The editor keeps this copy instead, from each ``contentsChange`` of its document.

The copy is a rope: chunks of about ``CHUNK`` characters, so an edit copies one chunk, not 28 MB
(a whole-string splice took 5-30 ms), and a reader can hand the chunks to other work without
joining them into one string first.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate

__all__ = ["CHUNK", "TextRope"]

CHUNK = 64 * 1024
"""Chunk size in characters: an edit copies about this much; a 28 MB text is ~450 chunks."""


class TextRope:
    """A text as a list of chunks; ``replace`` edits it in place."""

    def __init__(self, text: str = "") -> None:
        self._chunks: list[str] = []
        self._starts: list[int] = []
        self._length = 0
        self.set(text)

    def set(self, text: str) -> None:
        """Replace the whole text."""
        self._chunks = _split(text)
        self._length = len(text)
        self._index()

    def __len__(self) -> int:
        return self._length

    def chunks(self) -> tuple[str, ...]:
        """The text's chunks in order (an immutable copy: the rope may change meanwhile)."""
        return tuple(self._chunks)

    def text(self) -> str:
        return "".join(self._chunks)

    def replace(self, start: int, end: int, new: str) -> None:
        """Replace ``text[start:end]`` by ``new`` (offsets in code points, within the text)."""
        if not 0 <= start <= end <= self._length:
            raise ValueError(f"range {start}..{end} outside a text of {self._length}")
        if not self._chunks:
            self.set(new)
            return
        starts, chunks = self._starts, self._chunks
        first = bisect_right(starts, start) - 1
        last = max(bisect_right(starts, end) - 1, first)
        merged = chunks[first][: start - starts[first]] + new + chunks[last][end - starts[last] :]
        chunks[first : last + 1] = _split(merged) if len(merged) > 2 * CHUNK else [merged]
        if not chunks[first]:
            del chunks[first]
        self._length += len(new) - (end - start)
        self._index()

    def _index(self) -> None:
        self._starts = list(accumulate((len(chunk) for chunk in self._chunks[:-1]), initial=0))


def _split(text: str) -> list[str]:
    return [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)]
