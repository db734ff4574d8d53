"""TWS API socket framing: 4-byte big-endian length prefix, ``\\0``-terminated text fields.

The layout mirrors ``ib_async.client.Client`` (``_prefix``, ``send`` and ``_onSocketHasData``)
without importing it: the gateway must stay a protocol peer, not a client in disguise.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

HEADER = struct.Struct(">I")
API_SIGN = b"API\0"
MAX_FRAME_BYTES = 16 * 1024 * 1024
UNSET_DOUBLE = 1.7976931348623157e308
UNSET_INTEGER = 2**31 - 1

Field = str | int | float | bool | None


class FramingError(ValueError):
    """The byte stream does not follow the TWS framing rules."""


def field_text(value: Field) -> str:
    """Encode one server-side field: ints plain, bools ``"0"/"1"``, unset and None as ``""``."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[return-value]
    if value is None:
        return ""
    if kind is bool:
        return "1" if value else "0"
    if kind is int:
        return "" if value == UNSET_INTEGER else str(value)
    if kind is float:
        assert isinstance(value, float)
        if value == UNSET_DOUBLE:
            return ""
        if math.isinf(value):
            return "Infinite"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, str):  # a Block or another str subclass: already encoded text
        return str(value)
    raise TypeError(f"cannot encode {value!r} ({kind.__name__}) as a TWS field")


class Block(str):
    """Several fields already encoded and joined by ``\0`` (no trailing ``\0``).

    Builders use blocks for long runs of constant fields (openOrder has ~100) so a frame is
    encoded with one join instead of one conversion per constant.
    """


def block(values: Iterable[Field]) -> Block:
    return Block("\0".join(_texts(values)))


def encode_payload(fields: Iterable[Field]) -> bytes:
    """Join fields into one message body, every field terminated by ``\0``."""
    parts = _texts(fields)
    return ("\0".join(parts) + "\0").encode() if parts else b""


def _texts(fields: Iterable[Field]) -> list[str]:
    """``field_text`` of every field, with inline fast paths for plain str and int."""
    return [
        v  # type: ignore[misc]
        if (t := type(v)) is str
        else ""
        if v is None
        else ("1" if v else "0")
        if t is bool
        else (str(v) if t is int and v != UNSET_INTEGER else field_text(v))
        for v in fields
    ]


def encode_frame(fields: Iterable[Field]) -> bytes:
    """A complete frame: length prefix followed by the ``\\0``-terminated fields."""
    payload = encode_payload(fields)
    return HEADER.pack(len(payload)) + payload


def prefix(payload: bytes) -> bytes:
    """Length-prefix a raw payload (the handshake's version string has no ``\\0``)."""
    return HEADER.pack(len(payload)) + payload


def split_fields(payload: bytes) -> list[str]:
    """Split a message body into its fields, dropping the empty tail after the last ``\\0``."""
    text = payload.decode(errors="backslashreplace")
    fields = text.split("\0")
    if fields and fields[-1] == "":
        fields.pop()
    return fields


class FrameDecoder:
    """Incremental decoder: feed socket bytes, get complete payloads back."""

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        self._buffer = bytearray()
        self._max = max_frame_bytes

    def feed(self, data: bytes) -> list[bytes]:
        """Append ``data`` and return every complete frame payload now available."""
        self._buffer += data
        payloads: list[bytes] = []
        while len(self._buffer) >= HEADER.size:
            (length,) = HEADER.unpack_from(self._buffer)
            if length > self._max:
                raise FramingError(
                    f"frame length {length} exceeds the {self._max}-byte limit; "
                    "the peer is not speaking the TWS API protocol"
                )
            end = HEADER.size + length
            if len(self._buffer) < end:
                break
            payloads.append(bytes(self._buffer[HEADER.size : end]))
            del self._buffer[:end]
        return payloads

    @property
    def pending(self) -> int:
        """Bytes buffered but not yet part of a complete frame."""
        return len(self._buffer)


@dataclass(frozen=True)
class VersionRange:
    """The client's ``v<min>..<max>`` offer, plus any connect options (e.g. ``+PACEAPI``)."""

    min_version: int
    max_version: int
    options: str = ""


def parse_version_offer(text: str) -> VersionRange:
    """Parse the handshake payload ``"v157..178"`` or ``"v157..178 +PACEAPI"``.

    Raises ``FramingError`` naming the text when it is not a version range.
    """
    head, _, options = text.partition(" ")
    if not head.startswith("v"):
        raise FramingError(f"handshake version offer {text!r} does not start with 'v'")
    body = head[1:]
    low, sep, high = body.partition("..")
    try:
        lo = int(low)
        hi = int(high) if sep else lo
    except ValueError:
        raise FramingError(
            f"handshake version offer {text!r} is not 'v<min>..<max>' with integers"
        ) from None
    if hi < lo:
        raise FramingError(f"handshake version offer {text!r} has max < min")
    return VersionRange(lo, hi, options.strip())


def fields_of(frames: Sequence[bytes]) -> list[list[str]]:
    """Decode many payloads at once (a convenience for tests and tools)."""
    return [split_fields(p) for p in frames]
