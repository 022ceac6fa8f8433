"""What a fetch run did: the counts of its summary line and one line per skip, also as JSON
(``scripts.fetch --json``: how the bot reads the outcome of an ``/add`` run in a child)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["FetchSummary", "Skip"]


@dataclass(frozen=True)
class Skip:
    """A source, entry or page that gave no article this run, and why (one line)."""

    url: str
    reason: str


@dataclass
class FetchSummary:
    """What a run did: counts for the summary line, and one line per skip or note."""

    sources: int = 0
    sources_read: int = 0
    fetched: int = 0  # article pages downloaded (HTTP 200)
    not_modified: int = 0  # article pages the server said were unchanged (HTTP 304)
    new: list[str] = field(default_factory=list)  # article ids
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # read, but worth a line
    seconds: float = 0.0

    @property
    def anything_read(self) -> bool:
        """Whether any source answered (the run did something useful)."""
        return self.sources_read > 0

    @property
    def changed(self) -> bool:
        """Whether the corpus changed (a build has something to do)."""
        return bool(self.new or self.updated)

    def line(self) -> str:
        """The one summary line."""
        not_modified = f" ({self.not_modified} not modified)" if self.not_modified else ""
        return (
            f"Fetched {self.fetched} pages from {self.sources_read} of {self.sources} sources "
            f"in {self.seconds:.1f} s: {len(self.new)} new, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged{not_modified}, {len(self.skipped)} skipped."
        )

    def lines(self) -> list[str]:
        """The summary line, then one line per skip and per note."""
        out = [self.line()]
        out += [f"  skipped {s.url}: {s.reason}" for s in self.skipped]
        out += [f"  note: {note}" for note in self.notes]
        return out

    def to_json(self) -> str:
        """The summary as one line of JSON."""
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> FetchSummary:
        """The summary :meth:`to_json` wrote.

        Raises:
            ValueError: ``text`` is not such a summary.
        """
        data: dict[str, Any] = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a fetch summary")
        skipped = [Skip(str(s["url"]), str(s["reason"])) for s in data.pop("skipped", [])]
        try:
            return cls(**data, skipped=skipped)
        except TypeError as exc:
            raise ValueError(f"not a fetch summary ({exc})") from None
