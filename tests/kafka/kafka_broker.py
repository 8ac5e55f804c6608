"""A real single-node Kafka 3.9.1 broker (KRaft, broker + controller in one JVM) on free
127.0.0.1 ports, for the Kafka suite. The jars come from scripts/setup.sh (.cache/kafka/lib).
The broker keeps its ports and log directory across restart(), so clients ride it out."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KAFKA_LIB = os.path.join(REPO, ".cache", "kafka", "lib")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class KafkaBroker:
    def __init__(self, workdir: str):
        self.workdir = workdir
        self.port = free_port()
        self.controller_port = free_port()
        while self.controller_port == self.port:
            self.controller_port = free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.log_dir = os.path.join(workdir, "data")
        self.properties = os.path.join(workdir, "server.properties")
        self.log_file = os.path.join(workdir, "broker.log")
        self.proc: subprocess.Popen | None = None
        with open(self.properties, "w") as f:
            f.write("\n".join([
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                f"listeners=PLAINTEXT://127.0.0.1:{self.port},"
                f"CONTROLLER://127.0.0.1:{self.controller_port}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name=PLAINTEXT",
                f"log.dirs={self.log_dir}",
                "num.partitions=1",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=4",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=4",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=false",
                # 5 MB poison values must reach the consumer (and its dead-letter file).
                "message.max.bytes=8388608",
                "replica.fetch.max.bytes=8388608",
                "",
            ]))
        self._java = ["java", "-Xmx512m", "-Xms128m", "-XX:+UseSerialGC",
                      f"-Dlog4j.configuration=file:{self._log4j()}", "-cp",
                      os.path.join(KAFKA_LIB, "*")]
        subprocess.run(self._java + ["kafka.tools.StorageTool", "format", "-t",
                                     uuid.uuid4().hex[:22], "-c", self.properties],
                       check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def _log4j(self) -> str:
        path = os.path.join(self.workdir, "log4j.properties")
        with open(path, "w") as f:
            f.write("log4j.rootLogger=WARN, stderr\n"
                    "log4j.appender.stderr=org.apache.log4j.ConsoleAppender\n"
                    "log4j.appender.stderr.Target=System.err\n"
                    "log4j.appender.stderr.layout=org.apache.log4j.PatternLayout\n"
                    "log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n\n")
        return path

    def start(self, timeout: float = 60) -> None:
        assert self.proc is None
        log = open(self.log_file, "ab")
        self.proc = subprocess.Popen(self._java + ["kafka.Kafka", self.properties],
                                     stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        from confluent_kafka.admin import AdminClient
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"broker exited with {self.proc.returncode}; see {self.log_file}")
            try:
                # A plain connect first: librdkafka logs every refused connection.
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                admin = AdminClient({"bootstrap.servers": self.bootstrap})
                md = admin.list_topics(timeout=2)
                if md.brokers:
                    return
            except Exception as e:  # not listening yet
                last = e
            time.sleep(0.3)
        raise RuntimeError(f"broker not ready after {timeout} s ({last}); see {self.log_file}")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    # --- client helpers -------------------------------------------------------------------

    def create_topic(self, name: str, partitions: int = 1, **config: str) -> str:
        from confluent_kafka.admin import AdminClient, NewTopic
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        futures = admin.create_topics([NewTopic(name, num_partitions=partitions,
                                                replication_factor=1, config=config)])
        futures[name].result(timeout=30)
        # Metadata propagates asynchronously; wait until every partition has a leader.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            md = admin.list_topics(topic=name, timeout=5).topics.get(name)
            if md is not None and md.error is None and len(md.partitions) == partitions and all(
                    p.leader >= 0 for p in md.partitions.values()):
                return name
            time.sleep(0.2)
        raise RuntimeError(f"topic {name} has no leaders")

    def produce(self, topic: str, messages, partition: int | None = None) -> None:
        """Produces (key, value) pairs (bytes or str) and waits until all are acknowledged."""
        from confluent_kafka import Producer
        producer = Producer({"bootstrap.servers": self.bootstrap, "acks": "all",
                             "enable.idempotence": True, "linger.ms": 5,
                             "message.max.bytes": 8388608})
        errors = []

        def on_delivery(err, msg):
            if err is not None:
                errors.append(err)

        for key, value in messages:
            kwargs = {"key": key, "value": value, "on_delivery": on_delivery}
            if partition is not None:
                kwargs["partition"] = partition
            while True:
                try:
                    producer.produce(topic, **kwargs)
                    break
                except BufferError:
                    producer.poll(0.1)
            producer.poll(0)
        left = producer.flush(60)
        assert left == 0 and not errors, f"produce failed: {left} left, errors {errors[:3]}"

    def consume_committed(self, topic: str, idle_seconds: float = 3.0) -> list:
        """Every message of `topic` visible to a read_committed consumer, read from the start
        until `idle_seconds` pass without a new one and every partition is at its end."""
        from confluent_kafka import Consumer, TopicPartition
        consumer = Consumer({"bootstrap.servers": self.bootstrap,
                             "group.id": "check-" + uuid.uuid4().hex,
                             "isolation.level": "read_committed",
                             "enable.auto.commit": False, "auto.offset.reset": "earliest",
                             "enable.partition.eof": True})
        md = consumer.list_topics(topic, timeout=10).topics[topic]
        tps = [TopicPartition(topic, p, 0) for p in md.partitions]
        consumer.assign(tps)
        out = []
        at_end = set()
        last = time.monotonic()
        while True:
            msg = consumer.poll(0.5)
            if msg is None:
                if len(at_end) == len(tps) and time.monotonic() - last > idle_seconds:
                    break
                continue
            if msg.error():
                if msg.error().code() == -191:  # _PARTITION_EOF
                    at_end.add(msg.partition())
                    continue
                raise RuntimeError(str(msg.error()))
            at_end.discard(msg.partition())
            last = time.monotonic()
            out.append(msg)
        consumer.close()
        return out


def session_broker(tmp_path_factory):
    """The body of every suite's session-scoped `kafka` fixture: one broker per pytest run,
    stopped at the end. Missing jars are a failure, never a skip: run scripts/setup.sh."""
    import pytest  # noqa: PLC0415 (the benchmarks import this module without pytest)
    if not os.path.isdir(KAFKA_LIB) or not any(n.startswith("kafka_2.13-3.9.1")
                                                for n in os.listdir(KAFKA_LIB)):
        pytest.fail(f"Kafka jars not found in {KAFKA_LIB}: run scripts/setup.sh", pytrace=False)
    broker = KafkaBroker(str(tmp_path_factory.mktemp("kafka")))
    broker.start()
    yield broker
    broker.stop()
