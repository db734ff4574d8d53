"""Kafka-specific behaviour of the bus (beyond the conformance suite), on the Tansu test broker."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition

from engine.bus import select_bus
from engine.bus.kafka import KafkaBus, KafkaBusError, KafkaSettings, open_kafka_bus
from engine.bus.memory import partition_for
from engine.config import BusConfig, load_config
from tests.support.kafka_broker import (  # noqa: F401 (kafka_broker is a fixture)
    BrokerUnavailable,
    TansuBroker,
    free_port,
    kafka_broker,
    start_tansu,
)
from tests.test_engine.test_bus.conformance import bar, drain, run
from tests.test_engine.test_bus.test_conformance_kafka import kafka_settings

pytestmark = [pytest.mark.kafka, pytest.mark.integration]


def _prefix() -> str:
    return f"k{uuid.uuid4().hex[:10]}."


def _raw_read(broker: TansuBroker, topic: str, n: int, partitions: int = 1) -> list[object]:
    """Read ``n`` messages of a Kafka topic with a plain client (what another service sees)."""
    raw = Consumer(
        {"bootstrap.servers": broker.bootstrap, "group.id": f"raw-{uuid.uuid4().hex}"}
        | {"auto.offset.reset": "earliest", "enable.auto.commit": False}
    )
    raw.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    out: list[object] = []
    for _ in range(100):
        if len(out) >= n:
            break
        out.extend(m for m in raw.consume(n, 0.1) if m.error() is None)
    raw.close()
    return out


def test_topics_keys_headers_and_partitions_on_the_broker(kafka_broker: TansuBroker) -> None:  # noqa: F811
    """Topics carry the prefix, keys are the symbol, the partition is CRC32(key) like the
    embedded bus, and the stored value is the validated JSON."""
    prefix = _prefix()

    async def scenario() -> None:
        async with KafkaBus(kafka_settings(kafka_broker, prefix, 4)) as bus:
            assert bus.partitions("market_events") == 4
            res = await bus.publish(
                "market_events", bar("NVDA", 0), key="NVDA", headers=(("trace", "abc"),)
            )
            assert res.ok and res.partition == partition_for("NVDA", 4, 0)

    run(scenario())
    (msg,) = _raw_read(kafka_broker, prefix + "market_events", 1, 4)
    assert msg.key() == b"NVDA"  # type: ignore[attr-defined]
    assert msg.partition() == partition_for("NVDA", 4, 0)  # type: ignore[attr-defined]
    assert json.loads(msg.value())["symbol"] == "NVDA"  # type: ignore[attr-defined]
    assert ("trace", b"abc") in msg.headers()  # type: ignore[attr-defined]


def test_dead_letters_carry_the_errors_in_payload_and_headers(kafka_broker: TansuBroker) -> None:  # noqa: F811
    prefix = _prefix()

    async def scenario() -> None:
        async with KafkaBus(kafka_settings(kafka_broker, prefix)) as bus:
            res = await bus.publish("market_events", bar("AAPL", 0, low=500.0), key="AAPL")
            assert res.routed_to_dlq and res.offset == 0

    run(scenario())
    (msg,) = _raw_read(kafka_broker, prefix + "dlq_market_events", 1)
    headers = dict(msg.headers())  # type: ignore[attr-defined]
    assert headers["dlq.stage"] == b"publish" and headers["dlq.topic"] == b"market_events"
    letter = json.loads(msg.value())  # type: ignore[attr-defined]
    assert letter["topic"] == "market_events"
    assert any(e["path"] == "low" for e in letter["errors"])


def test_publish_nowait_then_flush_delivers_everything(kafka_broker: TansuBroker) -> None:  # noqa: F811
    async def scenario() -> None:
        async with KafkaBus(kafka_settings(kafka_broker, _prefix(), 2)) as bus:
            results = [
                bus.publish_nowait("market_events", bar(sym, i), key=sym)
                for i in range(200)
                for sym in ("AAPL", "MSFT")
            ]
            assert all(r.offset == -1 and r.partition in (0, 1) for r in results)
            bad = bus.publish_nowait("market_events", b"{}")
            assert bad.routed_to_dlq and bad.topic == "dlq_market_events"
            await bus.flush()
            assert bus.metrics.published["market_events"] == 400
            consumer = bus.subscribe("market_events", "g")
            got = await drain(consumer, 400, timeout=10)
            assert len(got) == 400
            per_key: dict[str | None, list[int]] = {}
            for rec in got:
                per_key.setdefault(rec.key, []).append(rec.offset)
            assert all(v == sorted(v) and len(v) == 200 for v in per_key.values())
            await consumer.commit()
            for p in range(2):
                assert consumer.committed(p) == bus.end_offset("market_events", p) == 200
                assert bus.committed("g", "market_events", p) == 200

    run(scenario())


def test_settings_come_from_the_config_file_and_environment(tmp_path: Path) -> None:
    cfg_file = tmp_path / "algotrade.yaml"
    cfg_file.write_text(
        "bus:\n  backend: kafka\n  partitions: 6\n  kafka_replication_factor: 3\n"
        "  kafka_security:\n    security.protocol: SASL_SSL\n    sasl.mechanism: PLAIN\n"
    )
    env = {
        "ALGOTRADE_BUS__KAFKA_BOOTSTRAP": "k1:9092,k2:9092",
        "ALGOTRADE_BUS__KAFKA_TOPIC_PREFIX": "prod.",
        "ALGOTRADE_BUS__KAFKA_SECURITY": "{security.protocol: SASL_SSL, sasl.password: s3cret}",
    }
    cfg = load_config(cfg_file, env)
    s = KafkaSettings.from_config(cfg.bus)
    assert s.bootstrap_servers == "k1:9092,k2:9092" and s.topic_prefix == "prod."
    assert s.partitions == 6 and s.replication_factor == 3
    assert s.security == {"security.protocol": "SASL_SSL", "sasl.password": "s3cret"}
    assert s.common()["sasl.password"] == "s3cret"
    assert s.topic_name("order_intents") == "prod.order_intents"
    assert "s3cret" not in json.dumps(cfg.masked_dict())  # the password is masked on display
    assert cfg.masked_dict(show_sensitive=True)["bus"]["kafka_security"]["sasl.password"] == (
        "s3cret"
    )
    bus = select_bus(cfg.bus, tmp_path)
    assert isinstance(bus, KafkaBus) and bus.settings.bootstrap_servers == "k1:9092,k2:9092"


def test_an_unreachable_broker_fails_start_with_the_address() -> None:
    port = free_port()  # nothing listens there

    async def scenario() -> None:
        bus = open_kafka_bus(
            BusConfig(backend="kafka", kafka_bootstrap=f"127.0.0.1:{port}"), request_timeout_s=1.0
        )
        with pytest.raises(KafkaBusError, match=f"127.0.0.1:{port}.*kafka_bootstrap"):
            await bus.start()
        with pytest.raises(RuntimeError, match="start"):
            await bus.publish("market_events", bar("AAPL", 0), key="AAPL")

    run(scenario())


def test_existing_topics_are_reused_and_missing_ones_refused(kafka_broker: TansuBroker) -> None:  # noqa: F811
    prefix = _prefix()

    async def scenario() -> None:
        no_create = KafkaBus(
            KafkaSettings(
                bootstrap_servers=kafka_broker.bootstrap,
                topic_prefix=prefix,
                create_topics=False,
                request_timeout_s=5.0,
            )
        )
        with pytest.raises(KafkaBusError, match="does not exist"):
            await no_create.start()
        async with KafkaBus(kafka_settings(kafka_broker, prefix, 3)) as bus:
            await bus.publish("market_events", bar("AAPL", 0), key="AAPL")
        # a second bus configured with 1 partition follows the broker's 3
        async with KafkaBus(kafka_settings(kafka_broker, prefix, 1)) as again:
            assert again.partitions("market_events") == 3

    run(scenario())


def test_a_new_member_knows_the_committed_offset_before_it_joins(
    kafka_broker: TansuBroker,  # noqa: F811
) -> None:
    """``committed()`` right after ``subscribe`` (a restoring plane's probe) asks the broker."""

    async def scenario() -> None:
        async with KafkaBus(kafka_settings(kafka_broker, _prefix())) as bus:
            for i in range(5):
                bus.publish_nowait("market_events", bar("AAPL", i), key="AAPL")
            await bus.flush()
            first = bus.subscribe("market_events", "strategy")
            got = await drain(first, 5)
            await first.commit({0: got[2].next_offset})
            await first.close()
            probe = bus.subscribe("market_events", "strategy")
            assert probe.committed(0) == 3  # before any poll, i.e. before the group join
            assert probe.position(0) == 3
            await probe.close()

    run(scenario())


def test_a_broker_that_cannot_start_is_reported_not_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fixture turns this error into a test failure with the broker's own output."""
    fake = tmp_path / "tansu"
    fake.write_text("#!/bin/sh\necho 'listener address in use' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CALF_TANSU_BIN", str(fake))
    with pytest.raises(BrokerUnavailable, match=r"exited with code 3(.|\n)*address in use"):
        start_tansu(tmp_path)
