"""The Kafka backend of the bus: the same topics, contracts and DLQs as the embedded bus, on
Apache Kafka (or any Kafka-protocol broker) through confluent-kafka (librdkafka).

Delivery contract (what is true when a call returns):

``await publish(...)``
    the message was validated, produced with ``enable.idempotence=true`` and ``acks=all``, and the
    broker acknowledged it: :class:`~engine.bus.protocol.PublishResult` carries its partition and
    offset. An invalid message goes to the topic's dead-letter topic instead (never raises).
``publish_nowait(...)``
    validated and queued in the producer; the partition is known, the offset is not yet (``-1``,
    ``ok`` is False until then). Use it for high-rate market events, then ``await flush()``.
``await flush()``
    every message queued so far was acknowledged by the broker (``acks=all``); a delivery failure
    raises :class:`KafkaBusError` here.
``await consumer.commit()``
    the group's offsets are committed synchronously (after any dead letter the consumer wrote was
    acknowledged, so a committed offset never skips a poisoned record whose letter was lost).

Keys are symbols; the partition is CRC32(key) mod partitions, the same function as the embedded
bus and librdkafka's ``consistent`` partitioner, so one symbol's messages stay in order. Records
without a key go round-robin.

Threads: a producer poll thread serves delivery callbacks (which only note offsets and failures)
and has the event loop take them in, in batches; every blocking librdkafka call (consume, commit,
flush, admin) runs in a worker thread so the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer as _RawConsumer
from confluent_kafka import KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from pydantic import BaseModel

from contracts.topics import dlq_topic
from contracts.validation import ValidationResult
from engine.bus import codec
from engine.bus.dlq import build_letter
from engine.bus.kafka_consumer import KafkaBusError, KafkaConsumer, check_error, fetch
from engine.bus.memory import Clock, partition_for, system_clock
from engine.bus.metrics import BusMetrics
from engine.bus.protocol import Headers, PublishResult, Record

if TYPE_CHECKING:
    from engine.config import BusConfig

__all__ = ["KafkaBus", "KafkaBusError", "KafkaConsumer", "KafkaSettings", "open_kafka_bus"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


@dataclass(frozen=True)
class KafkaSettings:
    """Everything the Kafka backend needs; :meth:`from_config` reads it from ``bus.*``.

    ``security`` is passed to every client as is (``security.protocol``, ``sasl.mechanism``,
    ``sasl.username``, ``sasl.password``, ``ssl.ca.location`` …). ``producer``/``consumer`` are
    extra librdkafka settings for tuning (they win over the defaults here).
    """

    bootstrap_servers: str = "127.0.0.1:9092"
    topic_prefix: str = ""
    partitions: int = 1
    replication_factor: int = 1
    client_id: str = "algotrade"
    session_timeout_ms: int = 10000
    security: Mapping[str, str] = field(default_factory=dict)
    linger_ms: float = 2.0
    fetch_wait_max_ms: int = 100
    join_timeout_s: float = 30.0
    replay_idle_s: float = 0.3
    request_timeout_s: float = 15.0
    create_topics: bool = True
    producer: Mapping[str, Any] = field(default_factory=dict)
    consumer: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: BusConfig, **overrides: Any) -> KafkaSettings:
        """The settings of ``config.bus`` (``kafka_*`` fields and ``partitions``)."""
        values: dict[str, Any] = {
            "bootstrap_servers": config.kafka_bootstrap,
            "topic_prefix": config.kafka_topic_prefix,
            "partitions": config.partitions,
            "replication_factor": config.kafka_replication_factor,
            "client_id": config.kafka_client_id,
            "session_timeout_ms": config.kafka_session_timeout_ms,
            "security": {k: v.get_secret_value() for k, v in config.kafka_security.items()},
        }
        values.update(overrides)
        return cls(**values)

    def common(self) -> dict[str, Any]:
        """Settings shared by the producer, the consumers and the admin client."""
        return {
            "bootstrap.servers": self.bootstrap_servers,
            "client.id": self.client_id,
            **dict(self.security),
        }

    def topic_name(self, topic: str) -> str:
        """The Kafka topic name of bus topic ``topic``."""
        return self.topic_prefix + topic


class KafkaBus:
    """The bus on Kafka; see the module docstring for the delivery contract."""

    def __init__(self, settings: KafkaSettings, *, clock: Clock = system_clock) -> None:
        self.settings = settings
        self.clock = clock
        self.metrics = BusMetrics()
        self._names = {t: settings.topic_name(t) for t in codec.ALL_TOPICS}
        self._parts: dict[str, int] = dict.fromkeys(codec.ALL_TOPICS, settings.partitions)
        self._rr: dict[str, int] = dict.fromkeys(codec.ALL_TOPICS, 0)
        self._ends: dict[tuple[str, int], int] = {}
        self._queued: dict[str, tuple[PublishResult, ...]] = {}
        """The (immutable) results of ``publish_nowait`` per topic and partition, made once."""
        self._ackers: dict[str, tuple[Callable[[KafkaError | None, Message], None], ...]] = {}
        """Delivery callbacks of messages without a future, per topic and partition."""
        self._acked: list[tuple[tuple[str, int], list[int]]] = []
        """Per (Kafka topic, partition): offsets acknowledged since the event loop last looked."""
        self._resolve_scheduled = False
        self._ts_ms, self._ts = 0, _EPOCH  # the last record timestamp decoded, as a datetime
        self._producer: Producer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done: deque[tuple[asyncio.Future[tuple[int, int]] | None, Any, str, int, int]] = (
            deque()
        )
        self._poller: threading.Thread | None = None
        self._stop = threading.Event()
        self._consumers: list[KafkaConsumer] = []
        self._meta: _RawConsumer | None = None
        self._started = False
        self._closed = False
        self.delivery_errors: list[str] = []
        """Deliveries the broker refused (``publish_nowait`` and dead letters); ``flush`` raises."""

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Create the topics (if allowed), learn their partition counts, start the producer."""
        if self._started:
            return
        self._loop = asyncio.get_running_loop()
        conf: dict[str, Any] = {
            **self.settings.common(),
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": self.settings.linger_ms,
            "batch.num.messages": 10000,
            "queue.buffering.max.messages": 1_000_000,
            "message.timeout.ms": int(self.settings.request_timeout_s * 1000) * 2,
            **dict(self.settings.producer),
        }
        # the producer first: its idempotence handshake (ProducerId) overlaps the topic set-up
        self._producer = Producer(conf)
        try:
            if self.settings.create_topics:
                await self._run(self._ensure_topics)
            else:
                await self._run(self._read_partitions)
        except BaseException:
            self._producer = None
            raise
        self._queued = {
            t: tuple(PublishResult(t, p, -1) for p in range(n)) for t, n in self._parts.items()
        }
        self._ackers = {
            t: tuple(self._acker(self._names[t], p) for p in range(n))
            for t, n in self._parts.items()
        }
        self._stop.clear()
        self._poller = threading.Thread(target=self._poll_loop, name="kafka-producer-poll")
        self._poller.daemon = True
        self._poller.start()
        self._started = True

    async def close(self) -> None:
        """Flush the producer, close every consumer (leaving its group, committing nothing)."""
        if self._closed:
            return
        self._closed = True
        for consumer in list(self._consumers):
            await consumer.close()
        if self._meta is not None:
            meta, self._meta = self._meta, None
            await self._run(meta.close)
        if self._producer is not None:
            producer = self._producer
            await self._run(producer.flush, self.settings.request_timeout_s)
            self._stop.set()
            if self._poller is not None:
                await self._run(self._poller.join)
            self._resolve()

    async def __aenter__(self) -> KafkaBus:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    def _admin(self) -> AdminClient:
        return AdminClient(self.settings.common())

    def _ensure_topics(self) -> None:
        s = self.settings
        admin = self._admin()
        wanted = [
            NewTopic(self._names[t], s.partitions, s.replication_factor) for t in codec.ALL_TOPICS
        ]
        futures = admin.create_topics(wanted, request_timeout=s.request_timeout_s)
        for name, fut in futures.items():
            try:
                fut.result(timeout=s.request_timeout_s)
            except KafkaException as exc:
                err = exc.args[0]
                if isinstance(err, KafkaError) and err.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                    continue
                raise KafkaBusError(
                    f"cannot create Kafka topic {name!r} on {s.bootstrap_servers} "
                    f"(partitions={s.partitions}, replication={s.replication_factor}): {exc}; "
                    "check bus.kafka_bootstrap, the broker's ACLs and bus.kafka_replication_factor"
                ) from exc
            except Exception as exc:  # timeouts: the broker is unreachable
                raise KafkaBusError(
                    f"cannot reach Kafka at {s.bootstrap_servers} to create {name!r}: {exc}; "
                    "check bus.kafka_bootstrap (ALGOTRADE_BUS__KAFKA_BOOTSTRAP) and security"
                ) from exc
        self._read_partitions(admin)

    def _read_partitions(self, admin: AdminClient | None = None) -> None:
        s = self.settings
        admin = admin or self._admin()
        try:
            meta = admin.list_topics(timeout=s.request_timeout_s)
        except KafkaException as exc:
            raise KafkaBusError(
                f"cannot reach Kafka at {s.bootstrap_servers}: {exc}; check bus.kafka_bootstrap"
            ) from exc
        for topic, name in self._names.items():
            info = meta.topics.get(name)
            if info is None or info.error is not None or not info.partitions:
                raise KafkaBusError(
                    f"Kafka topic {name!r} does not exist on {s.bootstrap_servers}; create it "
                    f"(e.g. with {s.partitions} partitions) or let the bus create its topics"
                )
            self._parts[topic] = len(info.partitions)

    # -- the producer poll thread ---------------------------------------------------------------
    def _poll_loop(self) -> None:
        producer = self._producer
        assert producer is not None
        while not self._stop.is_set():
            producer.poll(0.05)
            self._dispatch()

    def _acker(self, name: str, partition: int) -> Callable[[KafkaError | None, Message], None]:
        """The delivery callback of messages to ``name``/``partition`` without a future: it only
        notes the acknowledged offset (the event loop keeps the highest) or the failure."""
        offsets: list[int] = []
        self._acked.append(((name, partition), offsets))
        note, done = offsets.append, self._done

        def on_delivery(err: KafkaError | None, msg: Message) -> None:
            if err is None:
                note(msg.offset() or 0)
            else:
                done.append((None, err, name, partition, 0))

        return on_delivery

    def _drain_done(self) -> list[Any]:
        out = []
        done = self._done
        while True:
            try:
                out.append(done.popleft())
            except IndexError:
                return out

    def _dispatch(self) -> None:
        """(Any thread, after serving delivery callbacks.) Have the event loop take the delivery
        reports in: one call for everything that arrived meanwhile."""
        if self._resolve_scheduled or not (self._done or any(o for _, o in self._acked)):
            return
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        self._resolve_scheduled = True
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(self._resolve)

    def _resolve(self) -> None:
        """(Event loop.) Apply the delivery reports: highest acknowledged offsets, futures,
        failures. The only reader of the offset lists: it takes what is there and deletes
        exactly that (callbacks on other threads only ever append)."""
        self._resolve_scheduled = False  # before reading: a report after this schedules again
        ends = self._ends
        for key, offsets in self._acked:
            if offsets:
                taken = offsets[:]
                del offsets[: len(taken)]
                end = max(taken) + 1
                if end > ends.get(key, 0):
                    ends[key] = end
        for fut, err, name, partition, offset in self._drain_done():
            if err is not None:
                msg = f"delivery to {name}[{partition}] failed: {err.str()}"
                if fut is None:
                    self.delivery_errors.append(msg)
                elif not fut.done():
                    fut.set_exception(KafkaBusError(msg))
                continue
            key = (name, partition)
            if offset + 1 > ends.get(key, 0):
                ends[key] = offset + 1
            if fut is not None and not fut.done():
                fut.set_result((partition, offset))

    # -- publishing -----------------------------------------------------------------------------
    def _require_open(self, what: str) -> Producer:
        if self._closed:
            raise RuntimeError(f"{what}: the bus is closed")
        if self._producer is None:
            raise RuntimeError(f"{what}: call `await bus.start()` first (it connects to Kafka)")
        return self._producer

    def _produce(
        self,
        topic: str,
        raw: bytes,
        key: str | None,
        headers: Headers,
        future: asyncio.Future[tuple[int, int]] | None,
    ) -> int:
        producer = self._producer
        if producer is None or self._closed:
            producer = self._require_open(f"publish to {topic!r}")
        counter = self._rr[topic]
        self._rr[topic] = counter + 1
        parts = self._parts[topic]
        p = 0 if parts == 1 else partition_for(key, parts, counter)
        name = self._names[topic]
        key_bytes = None if key is None else key.encode()
        if future is None:
            on_delivery = self._ackers[topic][p]
        else:
            done = self._done

            def on_delivery(err: KafkaError | None, msg: Message) -> None:
                done.append((future, err, name, p, msg.offset() or 0))

        kwargs: dict[str, Any] | None = None
        if headers or self.clock is not system_clock:
            # librdkafka stamps a record with the wall clock itself; any other clock is explicit
            kwargs = {"timestamp": int(self.clock().timestamp() * 1000)}
            if headers:
                kwargs["headers"] = [(k, v.encode()) for k, v in headers]
        while True:
            try:
                if kwargs is None:
                    producer.produce(name, raw, key_bytes, p, on_delivery)
                else:
                    producer.produce(name, raw, key_bytes, p, on_delivery, **kwargs)
                return p
            except BufferError:  # the local queue is full: let librdkafka send, then retry
                producer.poll(0.01)
                self._dispatch()

    async def publish(
        self,
        topic: str,
        message: BaseModel | Mapping[str, Any] | bytes | str,
        *,
        key: str | None = None,
        headers: Headers = (),
    ) -> PublishResult:
        """Validate ``message``, produce it and wait for the broker's acknowledgement."""
        codec.check_topic(topic)
        raw = codec.encode_if_valid(topic, message)
        if raw is None:
            raw, result = codec.encode_valid(topic, message)
            if not result.is_valid:
                return await self._dead_letter(topic, raw, result, key, None)
        fut: asyncio.Future[tuple[int, int]] = asyncio.get_running_loop().create_future()
        self._produce(topic, raw, key, headers, fut)
        partition, offset = await fut
        self.metrics.published[topic] += 1
        return PublishResult(topic, partition, offset)

    def publish_nowait(
        self,
        topic: str,
        message: BaseModel | Mapping[str, Any] | bytes | str,
        *,
        key: str | None = None,
        headers: Headers = (),
    ) -> PublishResult:
        """Validate and queue ``message`` without waiting for the broker (offset ``-1``).

        An invalid message is dead-lettered the same way (also without waiting). Call
        ``await flush()`` to know everything queued reached the broker.
        """
        fast = codec.fast_validator(topic) if isinstance(message, bytes) else None
        if fast is not None and isinstance(message, bytes):
            # the hot path (market events as raw JSON): codec.valid_model, inlined
            try:
                model = fast[0](message)
            except Exception:  # invalid: the full path below dead-letters it with the reasons
                model = None
            if model is not None and model.event_type in fast[1]:  # type: ignore[attr-defined]
                p = self._produce(topic, message, key, headers, None)
                self.metrics.published[topic] += 1
                return self._queued[topic][p]
        codec.check_topic(topic)
        raw = codec.encode_if_valid(topic, message)
        if raw is None:
            raw, result = codec.encode_valid(topic, message)
            if not result.is_valid:
                return self._dead_letter_nowait(topic, raw, result, key, None)
        p = self._produce(topic, raw, key, headers, None)
        self.metrics.published[topic] += 1
        return self._queued[topic][p]

    async def _dead_letter(
        self,
        topic: str,
        raw: bytes,
        result: ValidationResult,
        key: str | None,
        origin: tuple[str, int, int] | None,
    ) -> PublishResult:
        """Route an invalid message of ``topic`` to its DLQ and wait for the ack; never raises
        for the message itself."""
        built = build_letter(self.metrics, topic, raw, result, origin, self.clock)
        if isinstance(built, PublishResult):
            return built
        letter, hdrs = built
        target = dlq_topic(topic)
        fut: asyncio.Future[tuple[int, int]] = asyncio.get_running_loop().create_future()
        self._produce(target, letter, key, hdrs, fut)
        partition, offset = await fut
        self.metrics.dlq[topic] += 1
        self.metrics.published[target] += 1
        return PublishResult(target, partition, offset, True, result.errors)

    def _dead_letter_nowait(
        self,
        topic: str,
        raw: bytes,
        result: ValidationResult,
        key: str | None,
        origin: tuple[str, int, int] | None,
    ) -> PublishResult:
        built = build_letter(self.metrics, topic, raw, result, origin, self.clock)
        if isinstance(built, PublishResult):
            return built
        letter, hdrs = built
        target = dlq_topic(topic)
        p = self._produce(target, letter, key, hdrs, None)
        self.metrics.dlq[topic] += 1
        self.metrics.published[target] += 1
        return PublishResult(target, p, -1, True, result.errors)

    async def flush(self) -> None:
        """Wait until every message queued so far was acknowledged (``acks=all``)."""
        producer = self._require_open("flush")
        left = await self._run(producer.flush, self.settings.request_timeout_s)
        self._resolve()  # every report of a flushed message was served: take them in now
        await asyncio.sleep(0)  # let the awaiting publishers resume
        if left:
            raise KafkaBusError(
                f"flush: {left} message(s) still unacknowledged after "
                f"{self.settings.request_timeout_s:g} s; is Kafka at "
                f"{self.settings.bootstrap_servers} reachable?"
            )
        if self.delivery_errors:
            errors, self.delivery_errors = self.delivery_errors, []
            raise KafkaBusError(f"{len(errors)} message(s) were not delivered: {errors[0]}")

    # -- consuming ------------------------------------------------------------------------------
    def subscribe(self, topic: str, group: str) -> KafkaConsumer:
        """A member of consumer group ``group`` on ``topic`` (Kafka assigns its partitions).

        The first ``poll`` waits for the group join (up to ``join_timeout_s``), then resumes at
        the group's committed offsets (or the beginning). Commits are manual.
        """
        codec.check_topic(topic)
        self._require_open(f"subscribe to {topic!r}")
        consumer = KafkaConsumer(self, topic, group)
        self._consumers.append(consumer)
        return consumer

    def _forget(self, consumer: KafkaConsumer) -> None:
        with contextlib.suppress(ValueError):
            self._consumers.remove(consumer)

    def consumer_config(self, group: str) -> dict[str, Any]:
        """librdkafka settings of a consumer in ``group`` (manual commits, earliest reset).

        The Kafka group id is ``topic_prefix + group``, so two deployments with different
        prefixes on one cluster never join (and rebalance) each other's groups.
        """
        s = self.settings
        return {
            **s.common(),
            "group.id": s.topic_prefix + group,  # groups are cluster-wide: isolate them too
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": s.session_timeout_ms,
            "heartbeat.interval.ms": max(100, s.session_timeout_ms // 5),
            "fetch.wait.max.ms": max(100, s.fetch_wait_max_ms),
            **dict(s.consumer),
        }

    def decode(self, topic: str, msg: Message, group: str | None) -> Record | None:
        """Validate a fetched message; invalid → DLQ (for a consumer group) and None."""
        return self._decode(topic, msg, group, msg.partition() or 0, msg.offset() or 0)

    def _decode(
        self, topic: str, msg: Message, group: str | None, partition: int, offset: int
    ) -> Record | None:
        raw = msg.value() or b""
        key_raw = msg.key()
        key = key_raw.decode() if isinstance(key_raw, bytes) else key_raw
        model = codec.valid_model(topic, raw)
        if model is None:
            result = codec.validate(topic, raw)
            if not result.is_valid or result.validated_data is None:
                if group is not None:
                    self._dead_letter_nowait(topic, raw, result, key, (group, partition, offset))
                else:
                    self.metrics.replay_skipped[topic] += 1
                return None
            model = result.validated_data
        _, ts = msg.timestamp()
        if ts != self._ts_ms:  # records of one batch mostly share their millisecond
            self._ts_ms, self._ts = ts, _EPOCH + max(ts, 0) * _MS
        headers = msg.headers()
        return Record(
            topic, partition, offset, key, self._ts, model, _headers(headers) if headers else ()
        )

    def _decode_batch(
        self,
        topic: str,
        msgs: list[Message],
        group: str,
        positions: dict[int, int],
        dead: dict[int, set[int]],
    ) -> tuple[list[Record], bool]:
        """A consumer's batch: the valid records, ``positions`` moved past every message and the
        dead-lettered offsets noted in ``dead`` (True if there were any). :meth:`_decode` per
        message, inlined for valid ones (the hot path); anything else takes the full path."""
        out: list[Record] = []
        append = out.append
        fast = codec.fast_validator(topic)
        validate, allowed = fast if fast is not None else (None, frozenset[str]())
        ts_ms, ts_dt = self._ts_ms, self._ts
        dead_seen = False
        for msg in msgs:
            err = msg.error()
            if err is not None:
                check_error(err, f"consume {self._names[topic]}")
                continue
            p = msg.partition() or 0
            off = msg.offset() or 0
            positions[p] = off + 1
            if validate is None:
                model = None
            else:
                try:
                    model = validate(msg.value() or b"")
                except Exception:  # invalid: the full path dead-letters it with the reasons
                    model = None
            if model is None or model.event_type not in allowed:  # type: ignore[attr-defined]
                record = self._decode(topic, msg, group, p, off)
                if record is None:
                    dead.setdefault(p, set()).add(off)
                    dead_seen = True
                else:
                    append(record)
                continue
            key_raw = msg.key()
            _, ts = msg.timestamp()
            if ts != ts_ms:
                ts_ms, ts_dt = ts, _EPOCH + max(ts, 0) * _MS
            headers = msg.headers()
            append(
                Record(
                    topic,
                    p,
                    off,
                    key_raw.decode() if isinstance(key_raw, bytes) else key_raw,
                    ts_dt,
                    model,
                    _headers(headers) if headers else (),
                )
            )
        self._ts_ms, self._ts = ts_ms, ts_dt
        return out, dead_seen

    def committed(self, group: str, topic: str, partition: int = 0) -> int:
        """The committed offset of ``group`` on ``topic``/``partition`` (0 if none).

        Blocks while it asks the broker (a brief round trip; call it at start-up, not per record).
        """
        codec.check_topic(topic)
        raw = _RawConsumer(self.consumer_config(group))
        try:
            (tp,) = raw.committed(
                [TopicPartition(self._names[topic], partition)],
                timeout=self.settings.request_timeout_s,
            )
        finally:
            raw.close()
        return max(0, tp.offset)

    def partitions(self, topic: str) -> int:
        """Partition count of ``topic`` (as found on the broker at start)."""
        codec.check_topic(topic)
        return self._parts[topic]

    def end_offset(self, topic: str, partition: int = 0) -> int:
        """The offset after the last record this bus saw acknowledged on ``topic``/``partition``,
        or the broker's high watermark if that is larger (blocks for a brief round trip)."""
        codec.check_topic(topic)
        local = self._ends.get((self._names[topic], partition), 0)
        if self._meta is None:  # one client for every watermark query, closed with the bus
            self._meta = _RawConsumer(self.consumer_config(f"{self.settings.client_id}-meta"))
        high = _high_watermark(
            self._meta, self._names[topic], partition, self.settings.request_timeout_s
        )
        return max(local, high)

    async def replay(
        self, topic: str, from_offset: int = 0, *, partition: int | None = None
    ) -> AsyncIterator[Record]:
        """Every valid record of ``topic`` from ``from_offset`` (per partition), partition after
        partition, until the partition has been idle for ``replay_idle_s`` past the broker's
        high watermark. Uses no consumer group and commits nothing."""
        codec.check_topic(topic)
        self._require_open(f"replay {topic!r}")
        parts = range(self._parts[topic]) if partition is None else (partition,)
        name = self._names[topic]
        group = f"{self.settings.client_id}-replay-{uuid.uuid4().hex}"
        raw = _RawConsumer(self.consumer_config(group))
        loop = asyncio.get_running_loop()
        idle = self.settings.replay_idle_s
        try:
            for p in parts:
                start = max(0, from_offset)
                await loop.run_in_executor(None, raw.assign, [TopicPartition(name, p, start)])
                high = await loop.run_in_executor(
                    None, _high_watermark, raw, name, p, self.settings.request_timeout_s
                )
                end = max(high, self._ends.get((name, p), 0))
                position = start
                while True:
                    batch = await loop.run_in_executor(None, fetch, raw, 500, idle)
                    if not batch and position >= end:
                        break
                    for msg in batch:
                        err = msg.error()
                        if err is not None:
                            check_error(err, f"replay {name}[{p}]")
                            continue
                        off = msg.offset() or 0
                        if off < start:
                            continue
                        position = off + 1
                        record = self.decode(topic, msg, None)
                        if record is not None:
                            yield record
        finally:
            await loop.run_in_executor(None, raw.close)


def _headers(raw: Any) -> Headers:
    if not raw:
        return ()
    items = raw.items() if isinstance(raw, dict) else raw
    return tuple((str(k), v.decode() if isinstance(v, bytes) else str(v or "")) for k, v in items)


def _high_watermark(raw: _RawConsumer, name: str, partition: int, timeout: float) -> int:
    """The broker's high watermark of ``name``/``partition`` (0 when it cannot say)."""
    try:
        _, high = raw.get_watermark_offsets(TopicPartition(name, partition), timeout=timeout)
    except KafkaException:
        return 0
    return int(high)


def open_kafka_bus(config: BusConfig, *, clock: Clock = system_clock, **overrides: Any) -> KafkaBus:
    """The Kafka bus per ``config`` (call ``await bus.start()``); ``overrides`` tune
    :class:`KafkaSettings` fields."""
    return KafkaBus(KafkaSettings.from_config(config, **overrides), clock=clock)
