"""Under load: gunicorn with the production settings on 127.0.0.1, driven by wrk.

gunicorn runs as config/gunicorn.conf.py chooses (2 x cores + 1 workers, 2 threads each),
with DEBUG=false, a SECRET_KEY, ALLOWED_HOSTS=127.0.0.1 and SECURE_SSL_REDIRECT=false
(plain http on loopback), on a free port. Each target gets a short warm-up run, then a
measured one; wrk's own `done` hook reports requests/s, p50, p99 and the errors (non-2xx/3xx
answers and socket errors). Every figure is also given as a fraction of /healthz's
requests/s, which measures the server and the machine rather than the app.

    python -m bench.load --engine sqlite --size 2m --duration 15
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from bench.common import PYTHON, ROOT, base_env, emit_json, read_json, run_measured, section, table
from bench.data import add_dataset_args, collect_static, dataset_args, dataset_from

HOST = "127.0.0.1"
WRK_TIMEOUT = "30s"  # gunicorn's worker timeout: a slower answer is a failure anyway

DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH-WRK {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _headers_lua(headers: dict[str, str]) -> str:
    return "".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in headers.items())


def get_script(headers: dict[str, str]) -> str:
    return _headers_lua(headers) + DONE


def conquest_script(token: str, member_id: str, run: str) -> str:
    """POST /v1/activities with an externalId no other request of any thread has."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body_head = json.dumps(
        {
            "activityTypeKey": "api:message",
            "memberId": member_id,
            "title": "Message in #general",
            "message": "Posted by the load benchmark.",
        }
    )[:-1]
    return (
        _headers_lua(headers)
        + 'wrk.method = "POST"\n'
        + "local threads = 0\n"
        + "function setup(thread)\n  threads = threads + 1\n  thread:set('tid', threads)\nend\n"
        + "local n = 0\n"
        + "request = function()\n  n = n + 1\n"
        + f"  local body = {json.dumps(body_head)} .. "
        + f'string.format(\', "externalId": "bench-load-{run}-%d-%d"}}\', tid, n)\n'
        + "  return wrk.format(nil, nil, nil, body)\nend\n"
        + DONE
    )


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("[load] installing wrk (apt-get install -y wrk)", file=sys.stderr, flush=True)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or "wrk"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """gunicorn -c config/gunicorn.conf.py config.wsgi, on a free loopback port."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.env = env | {"BIND": f"{HOST}:{self.port}", "ALLOWED_HOSTS": HOST}
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer /healthz:\n{self.log_tail()}")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def log_tail(self, lines: int = 40) -> str:
        self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def workers(self) -> int:
        """As config/gunicorn.conf.py counts them (restarts after max_requests aside)."""
        return int(self.env.get("WEB_CONCURRENCY", os.cpu_count() * 2 + 1))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def login(base: str, username: str, password: str) -> str:
    """Sign in through the login page as a browser would; the session cookie's value.

    The cookies are Secure (DEBUG=false), which cookie jars keep from plain http, so they
    are read from the headers here."""
    opener = urllib.request.build_opener(_NoRedirect)
    with opener.open(f"{base}/login/", timeout=10) as page:
        html = page.read().decode()
        cookies = _cookies(page.headers.get_all("Set-Cookie") or [])
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    data = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token}
    ).encode()
    request = urllib.request.Request(
        f"{base}/login/",
        data=data,
        headers={"Cookie": f"csrftoken={cookies['csrftoken']}", "Referer": f"{base}/login/"},
    )
    try:
        opener.open(request, timeout=10)
        raise RuntimeError("the login did not redirect: wrong password?")
    except urllib.error.HTTPError as answer:
        if answer.code != 302:
            raise
        return _cookies(answer.headers.get_all("Set-Cookie") or [])["sessionid"]


def _cookies(headers: list[str]) -> dict[str, str]:
    found = {}
    for header in headers:
        name, _, rest = header.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


def wrk(url: str, script: str, *, seconds: float, threads: int, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script)
    try:
        args = [
            ensure_wrk(),
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            f"--timeout={WRK_TIMEOUT}",
            "-s",
            file.name,
            url,
        ]
        done = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60)
    finally:
        os.unlink(file.name)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH-WRK ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    figures = json.loads(line.removeprefix("BENCH-WRK "))
    socket_errors = sum(figures[k] for k in ("connect", "read", "write", "timeout"))
    return {
        "requests": figures["requests"],
        "rps": figures["requests"] / (figures["duration_us"] / 1e6),
        "p50_ms": figures["p50_us"] / 1000,
        "p99_ms": figures["p99_us"] / 1000,
        "errors": figures["status"] + socket_errors,
        "status_errors": figures["status"],
        "socket_errors": socket_errors,
    }


def run(dataset, *, seconds: float, warmup: float, threads: int, connections: int, log=print):
    ensure_wrk()
    collect_static(dataset.data_dir)
    subjects = read_json(
        run_measured(
            [PYTHON, "-m", "bench.fixtures", *dataset_args(dataset), "--tokens"], base_env()
        ).stdout
    )
    run_id = uuid.uuid4().hex[:8]
    log_path = dataset.data_dir / f"gunicorn-{dataset.engine}-{dataset.size.label}.log"
    results = {}
    session = None
    try:
        with Server(dataset.env(), log_path) as server:
            session = login(server.base, subjects["username"], "demo")  # demo.DEMO_PASSWORD
            cookie = {"Cookie": f"sessionid={session}"}
            bearer = {"Authorization": f"Bearer {subjects['read_token']}"}
            invent = (
                f"/orgs/{subjects['workspace_id']}/contacts/{subjects['whale_id']}/activities"
                "?take=50"
            )
            targets = [
                ("healthz", "/healthz", get_script({})),
                ("contact-page", f"/contacts/{subjects['normal_id']}/", get_script(cookie)),
                ("contact-page-whale", f"/contacts/{subjects['whale_id']}/", get_script(cookie)),
                ("invent-first", invent, get_script(bearer)),
                (
                    "conquest-create",
                    "/v1/activities",
                    conquest_script(subjects["write_token"], subjects["normal_id"], run_id),
                ),
            ]
            for name, path, script in targets:
                url = server.base + path
                if warmup:
                    wrk(url, script, seconds=warmup, threads=threads, connections=connections)
                results[name] = wrk(
                    url, script, seconds=seconds, threads=threads, connections=connections
                )
                results[name]["path"] = path
                log(
                    f"[load] {dataset.name} {name}: {results[name]['rps']:,.0f} req/s, "
                    f"{results[name]['errors']} errors"
                )
                if results[name]["errors"]:
                    log(server.log_tail(10))
            workers = server.workers()
    finally:
        run_measured(
            [PYTHON, "-m", "bench.fixtures", *dataset_args(dataset), "--cleanup"]
            + (["--session", session] if session else []),
            base_env(),
        )
    health = results["healthz"]["rps"]
    for figures in results.values():
        figures["of_healthz"] = figures["rps"] / health
    return {
        "workers": workers,
        "threads": threads,
        "connections": connections,
        "seconds": seconds,
        "results": results,
    }


def render(name: str, load: dict, command: str) -> str:
    rows = [
        [key, r["rps"], r["p50_ms"], r["p99_ms"], r["errors"], f"{r['of_healthz']:.1%}"]
        for key, r in load["results"].items()
    ]
    body = table(["target", "req/s", "p50 ms", "p99 ms", "errors", "of healthz"], rows)
    note = (
        f"gunicorn: {load['workers']} workers x 2 threads; wrk: {load['threads']} threads, "
        f"{load['connections']} connections, {load['seconds']:g} s per target"
    )
    return section(f"Under load: {name}", body + "\n" + note, command)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dataset_args(parser)
    parser.add_argument("--duration", type=float, default=15, help="seconds per target")
    parser.add_argument("--warmup", type=float, default=2, help="seconds, before each target")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args(argv)
    dataset = dataset_from(args)
    dataset.ensure(log=lambda m: print(m, file=sys.stderr))
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    load = run(
        dataset,
        seconds=args.duration,
        warmup=args.warmup,
        threads=args.threads,
        connections=args.connections,
        log=log,
    )
    command = (
        f".venv/bin/python -m bench.load {' '.join(dataset_args(dataset))} "
        f"--duration {args.duration:g}"
    )
    print(render(dataset.name, load, command))
    emit_json({"dataset": dataset.name, **load})
    return 0


if __name__ == "__main__":
    sys.exit(main())
