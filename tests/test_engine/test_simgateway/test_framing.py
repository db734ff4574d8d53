"""Framing and handshake parsing."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.broker.simgateway.framing import (
    UNSET_DOUBLE,
    UNSET_INTEGER,
    FrameDecoder,
    FramingError,
    encode_frame,
    field_text,
    parse_version_offer,
    split_fields,
)


def test_field_text_follows_tws_rules() -> None:
    assert [field_text(v) for v in (True, False, None, 7, 2.5, 3.0)] == [
        "1",
        "0",
        "",
        "7",
        "2.5",
        "3",
    ]
    assert field_text(UNSET_DOUBLE) == "" and field_text(UNSET_INTEGER) == ""
    assert field_text(float("inf")) == "Infinite"


def test_frame_is_length_prefixed_and_nul_terminated() -> None:
    frame = encode_frame([9, 1, 17])
    assert frame == struct.pack(">I", 7) + b"9\x001\x0017\x00"


@given(
    st.lists(
        st.lists(
            st.text(
                alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
                max_size=12,
            ),
            max_size=6,
        ),
        max_size=5,
    ),
    st.integers(min_value=1, max_value=7),
)
def test_decoder_reassembles_frames_split_anywhere(messages: list[list[str]], chunk: int) -> None:
    data = b"".join(encode_frame(msg) for msg in messages)
    decoder = FrameDecoder()
    out = []
    for i in range(0, len(data), chunk):
        out += decoder.feed(data[i : i + chunk])
    assert [split_fields(p) for p in out] == messages
    assert decoder.pending == 0


def test_oversized_frame_is_refused() -> None:
    with pytest.raises(FramingError, match="exceeds"):
        FrameDecoder(max_frame_bytes=10).feed(struct.pack(">I", 11) + b"x" * 11)


def test_version_offer_parsing() -> None:
    offer = parse_version_offer("v157..178 +PACEAPI")
    assert (offer.min_version, offer.max_version, offer.options) == (157, 178, "+PACEAPI")
    assert parse_version_offer("v100").max_version == 100
    for bad in ("157..178", "vX..Y", "v178..157"):
        with pytest.raises(FramingError):
            parse_version_offer(bad)
