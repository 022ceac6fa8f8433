"""Content-Encoding decoded a piece at a time (``ingest.decoding``): every encoding the fetcher
accepts round-trips, however the bytes are chunked, and no step yields more than a piece."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.decoding import PIECE, DecodingError, StreamDecoder, UnsupportedEncodingError


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": zlib.compress,
}


def decode(header: str, blob: bytes, chunk: int) -> bytes:
    decoder = StreamDecoder(header)
    pieces = [p for i in range(0, len(blob), chunk) for p in decoder.feed(blob[i : i + chunk])]
    assert all(0 < len(p) <= PIECE for p in pieces)
    return b"".join(pieces)


@settings(max_examples=40, deadline=None)
@given(
    data=st.binary(max_size=3000).map(lambda b: b * 100),
    names=st.lists(st.sampled_from(sorted(ENCODERS)), max_size=3),
    chunk=st.integers(1, 5000),
)
def test_every_stack_of_encodings_round_trips(data: bytes, names: list[str], chunk: int) -> None:
    blob = data
    for name in names:  # applied in the order the header lists them
        blob = ENCODERS[name](blob)
    assert decode(", ".join(names), blob, chunk) == data


def test_raw_deflate_several_gzip_members_and_identity() -> None:
    data = b"The bridge reopened on Monday. " * 5000
    assert decode("deflate", raw_deflate(data), 700) == data
    assert decode("gzip", gzip.compress(data[:100]) + gzip.compress(data[100:]), 50) == data
    assert decode("identity", data, 4096) == data
    assert decode("", data, 4096) == data


def test_unknown_and_broken_encodings_are_one_line_errors() -> None:
    with pytest.raises(UnsupportedEncodingError, match="unsupported content encoding 'br'"):
        StreamDecoder("gzip, br")
    with pytest.raises(DecodingError, match="cannot decode the gzip body"):
        decode("gzip", b"not gzip at all", 100)


def test_a_bomb_yields_one_piece_at_a_time() -> None:
    bomb = gzip.compress(gzip.compress(bytes(50 * 1024 * 1024)))
    pieces = StreamDecoder("gzip, gzip").feed(bomb)
    total = 0
    for piece in pieces:
        assert len(piece) <= PIECE
        total += len(piece)
        if total > 1024 * 1024:
            break
    assert total <= 1024 * 1024 + PIECE
