"""Content-Encoding decoded piece by piece, so a decompression bomb is stopped at the size cap.

httpx decodes each network chunk whole: 687 bytes of ``gzip, gzip`` become 300 MB in memory
before any size check can run. The fetcher reads the raw bytes (``Response.iter_raw``) and
decodes them here, with zlib's ``max_length``: no call yields more than :data:`PIECE` bytes, so
the caller counts decoded bytes as they come and stops at its cap, and memory stays within a
small multiple of that cap whatever the ratio and however many encodings are stacked.

gzip (one or more members), deflate (zlib-wrapped or raw, as httpx accepts) and identity are
decoded; any other encoding (``br``, ``zstd``, ``compress``: the fetcher does not ask for them) is
an :class:`UnsupportedEncodingError`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from index.types import NewsQuoteError

__all__ = ["PIECE", "DecodingError", "StreamDecoder", "UnsupportedEncodingError"]

PIECE = 64 * 1024  # the most one step of one decoder yields


class DecodingError(NewsQuoteError):
    """The body is not valid for its Content-Encoding."""


class UnsupportedEncodingError(DecodingError):
    """A Content-Encoding the fetcher cannot decode."""


class _Inflater:
    """One gzip or deflate layer, yielding at most :data:`PIECE` bytes at a time."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._gzip = encoding == "gzip"
        self._fresh = True  # deflate: nothing decoded yet, so the raw form may still be tried
        self._ended = False  # the stream ended: what follows is ignored
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16 if self._gzip else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decoded bytes of ``data`` (and of what earlier calls left pending)."""
        while not self._ended:
            out = self._step(data)
            if out:
                yield out
            if self._zlib.eof:
                data = self._next_member()
                continue
            data = self._zlib.unconsumed_tail
            if not data and len(out) < PIECE:  # input used up and no output pending
                return

    def _step(self, data: bytes) -> bytes:
        try:
            out = self._zlib.decompress(data, PIECE)
        except zlib.error as exc:
            if self._fresh and not self._gzip:  # "deflate" sent as raw deflate, as httpx allows
                self._fresh = False
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                return self._step(data)
            raise DecodingError(f"cannot decode the {self.encoding} body ({exc})") from None
        self._fresh = False
        return out

    def _next_member(self) -> bytes:
        """The start of the next gzip member; anything else after the end is ignored."""
        rest = self._zlib.unused_data
        if self._gzip and rest.startswith(b"\x1f\x8b"):
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)
            return rest
        self._ended = True
        return b""


class StreamDecoder:
    """Decodes a body sent with ``Content-Encoding: <header>`` as its raw bytes arrive."""

    def __init__(self, header: str) -> None:
        names = [n.strip().lower() for n in header.split(",") if n.strip()]
        layers = []
        for name in reversed(names):  # the last encoding applied is the first to undo
            if name in ("identity", ""):
                continue
            if name in ("gzip", "x-gzip"):
                layers.append(_Inflater("gzip"))
            elif name == "deflate":
                layers.append(_Inflater("deflate"))
            else:
                raise UnsupportedEncodingError(f"unsupported content encoding {name[:40]!r}")
        self._layers = layers

    @property
    def note(self) -> str:
        """`` once decompressed`` when the body is encoded, else nothing (for messages)."""
        return " once decompressed" if self._layers else ""

    def feed(self, raw: bytes) -> Iterator[bytes]:
        """The decoded bytes of ``raw``, in pieces of at most :data:`PIECE` bytes (lazily: a
        caller that stops iterating stops the decoding)."""
        return self._through(raw, 0)

    def _through(self, data: bytes, depth: int) -> Iterator[bytes]:
        if depth == len(self._layers):
            if data:
                yield data
            return
        for piece in self._layers[depth].feed(data):
            yield from self._through(piece, depth + 1)
