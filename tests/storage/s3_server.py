"""s3proxy 4.1.0 (Apache-2.0) as the real S3 server of the tests: filesystem-backed, AWS
Signature V2/V4, on a free 127.0.0.1 port, one per pytest session. It honours
`If-None-Match: *` (412), multipart uploads and paginated ListObjectsV2."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
S3PROXY_JAR = os.path.join(ROOT, ".cache", "s3proxy", "s3proxy-4.1.0-jar-with-dependencies.jar")
IDENTITY = "lakelog-test"
CREDENTIAL = "lakelog-test-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class S3Server:
    def __init__(self, workdir: str):
        self.workdir = workdir
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        os.makedirs(os.path.join(workdir, "data"), exist_ok=True)
        self.properties = os.path.join(workdir, "s3proxy.properties")
        with open(self.properties, "w") as f:
            f.write(f"s3proxy.endpoint={self.endpoint}\n"
                    "s3proxy.authorization=aws-v2-or-v4\n"
                    f"s3proxy.identity={IDENTITY}\n"
                    f"s3proxy.credential={CREDENTIAL}\n"
                    "jclouds.provider=filesystem-nio2\n"
                    f"jclouds.filesystem.basedir={os.path.join(workdir, 'data')}\n")
        self.logback = os.path.join(workdir, "logback.xml")
        with open(self.logback, "w") as f:
            f.write('<configuration><appender name="STDERR" '
                    'class="ch.qos.logback.core.ConsoleAppender"><target>System.err</target>'
                    '<encoder><pattern>%d %level %logger{0} %msg%n</pattern></encoder></appender>'
                    '<root level="WARN"><appender-ref ref="STDERR"/></root></configuration>\n')

    def env(self, bucket: str) -> dict:
        """What the AWS SDKs (and lakelog) read, for this server and bucket."""
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("AWS_"):
                del env[k]
        env.update(AWS_ACCESS_KEY_ID=IDENTITY, AWS_SECRET_ACCESS_KEY=CREDENTIAL,
                   AWS_REGION="us-east-1", AWS_ENDPOINT_URL=self.endpoint,
                   AWS_ALLOW_HTTP="true", LAKELOG_S3_BUCKET=bucket,
                   AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_CONFIG_FILE=os.devnull)
        return env

    def storage_options(self) -> dict:
        """delta-rs storage_options for this server (no lock: it has conditional PUT)."""
        return {"AWS_ACCESS_KEY_ID": IDENTITY, "AWS_SECRET_ACCESS_KEY": CREDENTIAL,
                "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": self.endpoint,
                "AWS_ALLOW_HTTP": "true"}

    def start(self, timeout: float = 60) -> None:
        self.log = open(os.path.join(self.workdir, "s3proxy.log"), "ab")
        self.proc = subprocess.Popen(
            ["java", f"-Dlogback.configurationFile={self.logback}", "-Xmx512m", "-jar",
             S3PROXY_JAR, "--properties", self.properties],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"s3proxy exited with {self.proc.returncode}; see "
                                   f"{self.workdir}/s3proxy.log")
            try:
                urllib.request.urlopen(self.endpoint + "/", timeout=1)
                return
            except urllib.error.HTTPError:
                return  # it answers (403 to an unsigned request)
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("s3proxy did not start")

    def create_bucket(self, name: str) -> None:
        # The filesystem provider keeps each bucket as a directory of its base directory.
        os.makedirs(os.path.join(self.workdir, "data", name), exist_ok=True)

    def restart(self, down_seconds: float = 0) -> None:
        """Stops the server and starts it again on the same port and data, `down_seconds`
        later."""
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()
