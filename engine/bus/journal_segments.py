"""Journal as fsync'd, append-only segment files of length + CRC framed entries.

File layout: ``<dir>/00000000000000000000.seg``, ``…0001.seg``, … written strictly in order; a new
segment starts when the current one passes ``segment_bytes``. Every entry is one frame::

    u32 payload_length | u32 crc32(payload) | payload

Payload of a record (kind 1)::

    u8 1 | u32 partition | i64 offset | i64 timestamp_us | u16 len(topic) | i32 len(key) (-1 = no key)
    | u32 len(headers) | topic | key | headers (JSON [[name, value], ...]) | value (the rest)

Payload of an offset commit (kind 2)::

    u8 2 | u32 partition | i64 next_offset | u16 len(group) | u16 len(topic) | group | topic

Recovery reads every frame; an incomplete frame or a CRC mismatch in the **last** segment is a torn
write and is truncated away (and reported); the same in an earlier segment is corruption and raises
:class:`~engine.bus.journal.JournalCorruptError`.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from engine.bus.journal import (
    JournalCorruptError,
    JournalKind,
    JournalRecord,
    OffsetKey,
    RecoveryReport,
    SyncMode,
)

_FRAME = struct.Struct("<II")
_RECORD = struct.Struct("<BIqqHiI")
_COMMIT = struct.Struct("<BIqHH")
_KIND_RECORD = 1
_KIND_COMMIT = 2
_SUFFIX = ".seg"


def encode_record(record: JournalRecord) -> bytes:
    """One framed record (header + payload)."""
    topic = record.topic.encode()
    key = b"" if record.key is None else record.key.encode()
    headers = json.dumps(record.headers).encode() if record.headers else b""
    payload = b"".join(
        (
            _RECORD.pack(
                _KIND_RECORD,
                record.partition,
                record.offset,
                record.timestamp_us,
                len(topic),
                -1 if record.key is None else len(key),
                len(headers),
            ),
            topic,
            key,
            headers,
            record.value,
        )
    )
    return _FRAME.pack(len(payload), zlib.crc32(payload)) + payload


def encode_commit(group: str, topic: str, partition: int, offset: int) -> bytes:
    """One framed offset commit."""
    g, t = group.encode(), topic.encode()
    payload = _COMMIT.pack(_KIND_COMMIT, partition, offset, len(g), len(t)) + g + t
    return _FRAME.pack(len(payload), zlib.crc32(payload)) + payload


class SegmentJournal:
    """Append-only segment files; see the module docstring for the format and guarantees."""

    kind: JournalKind = "segments"

    def __init__(
        self, path: Path, *, sync: SyncMode = "normal", segment_bytes: int = 64 * 1024 * 1024
    ) -> None:
        if segment_bytes < 4096:
            raise ValueError(f"segment_bytes={segment_bytes} is too small; use at least 4096")
        self.path = path
        self.sync_mode: SyncMode = sync
        self.segment_bytes = segment_bytes
        self._fd: int | None = None
        self._segment_index = 0
        self._segment_size = 0
        self._recovered = False

    # -- recovery -------------------------------------------------------------------------------
    def _segments(self) -> list[Path]:
        return sorted(p for p in self.path.glob(f"*{_SUFFIX}") if p.stem.isdigit())

    def recover(self) -> RecoveryReport:
        """Read all segments back; truncate a torn tail of the last one."""
        self.path.mkdir(parents=True, exist_ok=True)
        records: list[JournalRecord] = []
        offsets: dict[OffsetKey, int] = {}
        torn = 0
        notes: list[str] = []
        segments = self._segments()
        for i, seg in enumerate(segments):
            data = seg.read_bytes()
            good = self._scan(data, records, offsets)
            if good < len(data):
                if i != len(segments) - 1:
                    raise JournalCorruptError(
                        f"bus journal segment {seg} is damaged at byte {good} of {len(data)} and is "
                        "not the last segment (this is not a torn write); restore it from a backup "
                        "or move the journal directory away to start an empty one"
                    )
                torn = len(data) - good
                with open(seg, "r+b") as fh:
                    fh.truncate(good)
                    fh.flush()
                    os.fsync(fh.fileno())
                notes.append(f"{seg.name}: cut off a torn tail of {torn} bytes at byte {good}")
        if segments:
            self._segment_index = int(segments[-1].stem)
        self._open_segment(self._segment_index)
        self._recovered = True
        return RecoveryReport(records, offsets, torn, tuple(notes))

    @staticmethod
    def _scan(data: bytes, records: list[JournalRecord], offsets: dict[OffsetKey, int]) -> int:
        """Decode frames into ``records``/``offsets``; return the byte position of the good end.

        Hot loop of a restart (a million records per few seconds): strings that repeat (topics,
        keys) are decoded once and shared.
        """
        pos, end = 0, len(data)
        view = memoryview(data)
        header = _FRAME.size
        rec_size = _RECORD.size
        unpack_frame, unpack_record = _FRAME.unpack_from, _RECORD.unpack_from
        crc32 = zlib.crc32
        strings: dict[bytes, str] = {}
        append = records.append
        while pos + header <= end:
            length, crc = unpack_frame(data, pos)
            start = pos + header
            stop = start + length
            if length == 0 or stop > end or crc32(view[start:stop]) != crc:
                break
            kind = data[start]
            if kind == _KIND_RECORD:
                _, partition, offset, ts, t_len, k_len, h_len = unpack_record(data, start)
                p = start + rec_size
                raw = data[p : p + t_len]
                topic = strings.get(raw) or strings.setdefault(raw, raw.decode())
                p += t_len
                key: str | None = None
                if k_len >= 0:
                    raw = data[p : p + k_len]
                    key = strings.get(raw) or strings.setdefault(raw, raw.decode())
                    p += k_len
                headers: tuple[tuple[str, str], ...] = ()
                if h_len:
                    headers = tuple((str(k), str(v)) for k, v in json.loads(data[p : p + h_len]))
                    p += h_len
                append(JournalRecord(topic, partition, offset, ts, key, data[p:stop], headers))
            elif kind == _KIND_COMMIT:
                _, partition, offset, g_len, t_len = _COMMIT.unpack_from(data, start)
                p = start + _COMMIT.size
                group = data[p : p + g_len].decode()
                topic = data[p + g_len : p + g_len + t_len].decode()
                offsets[(group, topic, partition)] = offset
            else:
                break
            pos = stop
        return pos

    # -- writing --------------------------------------------------------------------------------
    def _open_segment(self, index: int) -> None:
        if self._fd is not None:
            os.fsync(self._fd)
            os.close(self._fd)
        seg = self.path / f"{index:020d}{_SUFFIX}"
        created = not seg.exists()
        self._fd = os.open(seg, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._segment_index = index
        self._segment_size = os.fstat(self._fd).st_size
        if created:
            _fsync_dir(self.path)

    def _write(self, blob: bytes) -> None:
        if not self._recovered:
            raise RuntimeError("SegmentJournal.recover() must be called before writing")
        if not blob:
            return
        if self._segment_size and self._segment_size + len(blob) > self.segment_bytes:
            self._open_segment(self._segment_index + 1)
        assert self._fd is not None
        view = memoryview(blob)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self._segment_size += len(blob)
        if self.sync_mode == "full":
            os.fsync(self._fd)

    def append(self, records: Sequence[JournalRecord]) -> None:
        """Write ``records`` with a single ``write`` call."""
        self._write(b"".join(map(encode_record, records)))

    def commit_offsets(
        self, group: str, topic: str, offsets: Mapping[int, int], records: Sequence[JournalRecord]
    ) -> None:
        """Pending records first, then one commit frame per partition, in one ``write``."""
        blob = b"".join(map(encode_record, records)) + b"".join(
            encode_commit(group, topic, p, o) for p, o in sorted(offsets.items())
        )
        self._write(blob)

    def sync(self) -> None:
        """fsync the current segment (earlier ones were fsync'd when they were closed)."""
        if self._fd is not None:
            os.fsync(self._fd)

    def close(self) -> None:
        """fsync and close."""
        if self._fd is not None:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
