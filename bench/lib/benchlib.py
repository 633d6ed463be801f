# SPDX-License-Identifier: MIT
"""Shared plumbing for the groundctl-vs-PM2 benchmarks (Python 3 standard library only).

Every benchmark script does the same things: make a private temp dir, start groundctl or a PM2
with a private PM2_HOME, wait (with a deadline) until the app serves, measure, and stop exactly
what it started, by PID, whatever happens. This module holds those pieces.

Conventions:
- progress goes to stderr (log()); the single machine-readable result is the last stdout line
  (emit()), which bench/run-all collects.
- nothing ever talks to anything but 127.0.0.1.
"""

import atexit
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_DIR = os.path.dirname(BENCH_DIR)
APP_DIR = os.path.join(REPO_DIR, "tests", "fixtures", "app")
PM2_BIN = os.path.join(BENCH_DIR, "node_modules", "pm2", "bin", "pm2")
HOST = "127.0.0.1"


def log(*parts):
    print(f"[{time.strftime('%H:%M:%S')}]", *parts, file=sys.stderr, flush=True)


def emit(result):
    """Prints the benchmark's result as one JSON line on stdout (what run-all reads)."""
    print(json.dumps(result, sort_keys=True), flush=True)


def groundctl_bin():
    """The release binary: $GROUNDCTL, else build/release, else the fallback build/bench."""
    candidates = [os.environ.get("GROUNDCTL", ""),
                  os.path.join(REPO_DIR, "build", "release", "src", "groundctl"),
                  os.path.join(REPO_DIR, "build", "bench", "src", "groundctl")]
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return c
    sys.exit("groundctl binary not found: run bench/setup (or set GROUNDCTL)")


def node_bin():
    return shutil.which("node") or sys.exit("node not found")


def require_tools(*names):
    missing = [n for n in names if not shutil.which(n)]
    if missing:
        sys.exit(f"missing tools: {' '.join(missing)}: run bench/setup")
    if not os.path.exists(PM2_BIN):
        sys.exit("PM2 not installed in bench/node_modules: run bench/setup")


def free_port():
    """A currently free loopback port. (groundctl could bind port 0 itself, but two services on
    "127.0.0.1:0" end up sharing one socket, see RESULTS.md, so the scripts pick ports here.)"""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def rss_kib(pid):
    """VmRSS of a process in KiB, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still answers kill(0); treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_until(predicate, timeout, interval=0.02, what="condition"):
    """Polls predicate() until it returns a truthy value or the deadline passes (then raises)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def http_get(port, path="/", timeout=2.0, keepalive=False):
    """One GET over a new connection. Returns (status, body) or raises OSError/TimeoutError."""
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        conn = "keep-alive" if keepalive else "close"
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: {conn}\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 "):
        raise ConnectionError(f"bad response {data[:40]!r}")
    return int(head.split()[1]), body.decode(errors="replace")


def serves(port, path="/"):
    try:
        return http_get(port, path, timeout=1.0)[0] == 200
    except OSError:
        return False


def median(values):
    return statistics.median(values) if values else None


def scrape_times(conns, n):
    """`n` interleaved GET /metrics on each keep-alive http.client connection (as Prometheus
    scrapes); per name: the list of times in ms, and the last body."""
    times = {k: [] for k in conns}
    bodies = {}
    for _ in range(n):
        for name, conn in conns.items():
            t0 = time.perf_counter()
            conn.request("GET", "/metrics")
            resp = conn.getresponse()
            body = resp.read()
            times[name].append((time.perf_counter() - t0) * 1000)
            if resp.status != 200:
                raise RuntimeError(f"{name}: /metrics answered {resp.status}")
            bodies[name] = body
    return times, bodies


def p95(values):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]


def machine_load():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


class Bench:
    """Owns a private temp dir and everything started in it; cleans up on exit or signal.

    with Bench("memory") as b:
        gc = b.groundctl(services=[...]); pm2 = b.pm2(); ...
    """

    def __init__(self, name):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=f"gcb-{name}-")
        self.procs = []        # Popen objects we spawned (each its own process group)
        self.pids = set()      # other PIDs we caused to exist (instances), killed if left over
        self.pm2_homes = []    # private PM2_HOMEs to `pm2 kill`
        # Postmasters, stopped with SIGINT (fast shutdown), not SIGTERM (smart shutdown, which
        # would wait for clients).
        self.sigint_pids = set()
        self._cleaned = False
        atexit.register(self.cleanup)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, frame):
        log(f"{self.name}: signal {signum}, cleaning up")
        self.cleanup()
        sys.exit(128 + signum)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def spawn(self, args, stdout=None, stderr=None, env=None, cwd=None):
        """Starts a process in its own process group and remembers it for cleanup."""
        out = open(stdout, "ab") if isinstance(stdout, str) else (stdout or subprocess.DEVNULL)
        err = open(stderr, "ab") if isinstance(stderr, str) else (stderr or subprocess.DEVNULL)
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                             cwd=cwd, start_new_session=True)
        self.procs.append(p)
        return p

    def popen(self, args, as_nobody=False, **kw):
        """subprocess.Popen in its own session, remembered for cleanup (stopped by PID).
        as_nobody: run as nobody:nogroup (initdb and postgres refuse to run as root)."""
        kw.setdefault("stdin", subprocess.DEVNULL)
        if as_nobody:
            kw.update(user=NOBODY, group=NOBODY, extra_groups=[])
        p = subprocess.Popen(args, start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def stop_proc(self, p, sig=signal.SIGTERM, timeout=15):
        """Signals one spawned process, waits, then SIGKILLs it if needed."""
        if p.pid in self.sigint_pids:
            sig, timeout = signal.SIGINT, max(timeout, 60)
        if p.poll() is None:
            try:
                os.kill(p.pid, sig)
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log(f"{self.name}: pid {p.pid} ignored signal {sig}, SIGKILL")
                os.kill(p.pid, signal.SIGKILL)
                p.wait()
            except ProcessLookupError:
                pass
        return p.returncode

    def cleanup(self):
        if self._cleaned:
            return
        self._cleaned = True
        for home in self.pm2_homes:
            pm2_kill(home)
        for p in reversed(self.procs):
            try:
                self.stop_proc(p)
            except Exception as e:  # noqa: BLE001 - cleanup must go on
                log(f"{self.name}: stopping pid {p.pid}: {e}")
        for pid in self.pids:
            if alive(pid):
                log(f"{self.name}: leftover pid {pid}, SIGKILL")
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if os.environ.get("BENCH_KEEP_TMP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            log(f"{self.name}: kept {self.dir}")

    # --- groundctl -----------------------------------------------------------------------------

    def groundctl(self, services, name="bench", extra=""):
        gc = Groundctl(self, services, name, extra)
        gc.start()
        return gc

    # --- PM2 -----------------------------------------------------------------------------------

    def pm2(self, tag="pm2"):
        home = self.path(tag)
        os.makedirs(home, exist_ok=True)
        self.pm2_homes.append(home)
        return Pm2(self, home)


def toml_str(s):
    return json.dumps(s)  # a JSON string is a valid TOML basic string for our inputs


class Groundctl:
    """One groundctl daemon in the foreground, with its config in the bench's temp dir."""

    def __init__(self, bench, services, name, extra):
        self.bench = bench
        self.bin = groundctl_bin()
        self.root = bench.path(f"gc-{name}")
        os.makedirs(self.root, exist_ok=True)
        self.config = os.path.join(self.root, "groundctl.toml")
        lines = ["[server]", f"name = {toml_str(name)}", 'state_dir = "state"', 'log_dir = "log"',
                 'runtime_dir = "run"', extra, ""]
        for svc in services:
            lines.append("[[service]]")
            for key, value in svc.items():
                lines.append(f"{key} = {value if isinstance(value, Raw) else json.dumps(value)}")
            lines.append("")
        with open(self.config, "w") as f:
            f.write("\n".join(lines))
        self.services = services
        self.proc = None

    def start(self, timeout=30):
        log_path = os.path.join(self.root, "daemon.log")
        self.proc = self.bench.spawn([self.bin, "-c", self.config, "daemon"],
                                     stdout=log_path, stderr=log_path)
        want = sum(int(s.get("instances", 1)) for s in self.services if s.get("restart") != "never")

        def all_running():
            if self.proc.poll() is not None:
                raise RuntimeError(f"groundctl daemon exited {self.proc.returncode}: "
                                   + open(log_path).read()[-2000:])
            try:
                ps = self.ps()
            except (subprocess.CalledProcessError, ValueError):
                return False
            return sum(1 for i in ps if i["state"] == "running") >= want
        wait_until(all_running, timeout, 0.05, "groundctl instances running")
        return self

    @property
    def pid(self):
        return self.proc.pid

    def cli(self, *args, check=True, timeout=60):
        r = subprocess.run([self.bin, "-c", self.config, *args], capture_output=True, text=True,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise subprocess.CalledProcessError(r.returncode, r.args, r.stdout, r.stderr)
        return r

    def ps(self):
        ps = json.loads(self.cli("ps", "--json").stdout)
        for inst in ps:
            if inst.get("pid"):
                self.bench.pids.add(inst["pid"])
        return ps

    def pids(self, service):
        return {i["instance"]: i["pid"] for i in self.ps()
                if i["service"] == service and i["state"] == "running"}

    def log_dir(self, service):
        return os.path.join(self.root, "log", service)

    def stop(self, timeout=30):
        ps = []
        try:
            ps = self.ps()
        except Exception:  # noqa: BLE001 - the daemon may be gone already
            pass
        rc = self.bench.stop_proc(self.proc, signal.SIGTERM, timeout)
        left = [i["pid"] for i in ps if i.get("pid") and alive(i["pid"])]
        if left:
            log(f"groundctl: instances left after daemon exit: {left}")
        return rc, left


class Raw(str):
    """A TOML value written as is (inline tables, arrays of strings)."""


# Environment variables that change how fast node starts and that groundctl's clean environment
# does not pass on (NODE_EXTRA_CA_CERTS makes every node process load a CA bundle: ~50 ms). PM2
# hands its daemon's whole environment to the apps, so the PM2 daemon is started without them.
NOISY_ENV = ("NODE_EXTRA_CA_CERTS",)


class Pm2:
    """PM2 7 from bench/node_modules with a private PM2_HOME (never the user's ~/.pm2)."""

    def __init__(self, bench, home):
        self.bench = bench
        self.home = home
        self.env = {k: v for k, v in os.environ.items() if k not in NOISY_ENV}
        self.env["PM2_HOME"] = home

    def cli(self, *args, check=True, timeout=120, full_env=False):
        """Runs the pm2 CLI. full_env: with the caller's whole environment (npm may need
        NODE_EXTRA_CA_CERTS to reach the registry)."""
        env = dict(os.environ, PM2_HOME=self.home) if full_env else self.env
        # Its own process group, so that an interrupted `pm2 install` takes its npm along.
        p = subprocess.Popen([node_bin(), PM2_BIN, *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            out, err = p.communicate(timeout=timeout)
        except BaseException:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
            raise
        r = subprocess.CompletedProcess(p.args, p.returncode, out, err)
        if check and r.returncode != 0:
            raise subprocess.CalledProcessError(r.returncode, r.args, r.stdout, r.stderr)
        self._remember_god()
        return r

    def _remember_god(self):
        pid = self.god_pid()
        if pid:
            self.bench.pids.add(pid)

    def god_pid(self):
        try:
            with open(os.path.join(self.home, "pm2.pid")) as f:
                return int(f.read().strip())
        except (FileNotFoundError, ValueError):
            return None

    def start_app(self, name, port, mode, instances, script="server.js", cwd=APP_DIR, env=None,
                  timeout=60, extra=None):
        """Starts the app from an ecosystem file and waits until it serves and PM2 says online."""
        app = {"name": name, "script": script, "cwd": cwd, "exec_mode": mode,
               "instances": instances, "wait_ready": True, "listen_timeout": 10000,
               "kill_timeout": 10000, "env": dict(env or {}, PORT=str(port), HOST=HOST),
               "autorestart": True}
        if extra:
            app.update(extra)
        eco = os.path.join(self.home, f"{name}.config.json")
        with open(eco, "w") as f:
            json.dump({"apps": [app]}, f)
        self.cli("start", eco)

        def online():
            procs = [p for p in self.jlist() if p["name"] == name]
            return (len(procs) == instances
                    and all(p["pm2_env"]["status"] == "online" for p in procs)
                    and (port is None or serves(port)))
        wait_until(online, timeout, 0.1, f"PM2 app {name} online")

    def jlist(self):
        out = self.cli("jlist").stdout
        # PM2 may print warnings before the JSON: take the last line that parses.
        for line in reversed(out.strip().splitlines()):
            try:
                procs = json.loads(line)
            except ValueError:
                continue
            for p in procs:
                if p.get("pid"):
                    self.bench.pids.add(p["pid"])
            return procs
        raise ValueError(f"pm2 jlist: unreadable output {out[:200]!r}")

    def pids(self, name):
        """instance index -> pid of the online processes of app `name` (runs `pm2 jlist`)."""
        return {p["pm2_env"].get("NODE_APP_INSTANCE", p["pm_id"]): p["pid"]
                for p in self.jlist() if p["name"] == name and p["pm2_env"]["status"] == "online"}

    def pid_files(self, name):
        """pm_id -> pid from PM2_HOME/pids/NAME-ID.pid: cheap to poll (no node start),
        but written at spawn, before the app is ready."""
        found = []
        pid_dir = os.path.join(self.home, "pids")
        for entry in os.listdir(pid_dir):
            m = re.fullmatch(re.escape(name) + r"-(\d+)\.pid", entry)
            if m:
                try:
                    with open(os.path.join(pid_dir, entry)) as f:
                        found.append((int(m.group(1)), int(f.read().strip())))
                except (FileNotFoundError, ValueError):
                    pass
        for _, pid in found:
            self.bench.pids.add(pid)
        return dict(found)


def pm2_kill(home):
    """`pm2 kill` for one private PM2_HOME, then SIGKILL its God daemon by PID if still there."""
    pid_file = os.path.join(home, "pm2.pid")
    god = None
    try:
        with open(pid_file) as f:
            god = int(f.read().strip())
    except (FileNotFoundError, ValueError):
        pass
    if god is None and not os.path.exists(os.path.join(home, "rpc.sock")):
        return
    env = dict(os.environ, PM2_HOME=home)
    try:
        subprocess.run([node_bin(), PM2_BIN, "kill"], env=env, capture_output=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        log(f"pm2 kill timed out for {home}")
    if god and alive(god):
        try:
            wait_until(lambda: not alive(god), 5, 0.05, "PM2 God daemon exit")
        except TimeoutError:
            log(f"PM2 God daemon {god} still alive, SIGKILL")
            os.kill(god, signal.SIGKILL)


# --- a private PostgreSQL 15 server ------------------------------------------------------------

PG_BIN = "/usr/lib/postgresql/15/bin"
NOBODY = 65534  # uid and gid (nogroup): initdb and postgres refuse to run as root
# tests/support/postgres.cc's settings: no TCP listener, nothing waits for the disk.
PG_SETTINGS = ["listen_addresses=", "fsync=off", "full_page_writes=off",
               "synchronous_commit=off", "shared_buffers=32MB", "max_connections=40"]
PG_CLIENT_ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "PGTZ": "UTC"}

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """In the child, after setuid: SIGINT (postgres' fast shutdown) if this script dies."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGINT)


def ensure_nobody_dir(path, mode=0o700):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, mode)
    os.chown(path, NOBODY, NOBODY)
    return path


def run_checked(b, args, what, as_nobody=False, timeout=600, env=None, cwd=None):
    """Runs a command to its end (killed after `timeout`); its stdout, or RuntimeError with the
    tail of its output."""
    p = b.popen(args, as_nobody=as_nobody, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True, env=env or PG_CLIENT_ENV, cwd=cwd)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        b.stop_proc(p, signal.SIGKILL)
        raise RuntimeError(f"{what}: timed out after {timeout} s")
    if p.returncode != 0:
        raise RuntimeError(f"{what}: exit {p.returncode}: {err[-2000:]}{out[-500:]}")
    return out


class Postgres:
    """A private PostgreSQL 15 cluster started the way tests/support/postgres.cc does it: initdb
    and postgres from PG_BIN as `nobody`, trust auth, superuser `postgres`, a Unix socket in
    the bench's temp dir (`sock`, port 5432) and no TCP listener. Stopped by PID with SIGINT
    (fast shutdown), by stop() or the bench's cleanup, and by the kernel should this script
    die first. Needs root, and the bench's temp dir passable by others (chmod 0711)."""

    def __init__(self, b, settings=PG_SETTINGS, conf_extra="", name="pg"):
        """settings: `-c` options (on the command line, which ALTER SYSTEM cannot override);
        conf_extra: appended to postgresql.conf (what ALTER SYSTEM may change later)."""
        self.b = b
        self.root = ensure_nobody_dir(b.path(name), 0o711)
        self.data = b.path(name, "data")
        self.sock = ensure_nobody_dir(b.path(name, "run"), 0o755)
        ensure_nobody_dir(self.data)
        run_checked(b, [f"{PG_BIN}/initdb", "-D", self.data, "-U", "postgres", "-A", "trust",
                        "-E", "UTF8", "--locale=C", "--no-sync"], "initdb", as_nobody=True,
                    cwd=self.root)
        if conf_extra:
            with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
                f.write(conf_extra)
        argv = [f"{PG_BIN}/postgres", "-D", self.data, "-k", self.sock]
        for s in settings:
            argv += ["-c", s]
        self.log_path = b.path(name, "postgres.log")
        with open(self.log_path, "ab") as logf:
            self.proc = b.popen(argv, as_nobody=True, stdout=logf, stderr=logf,
                                env=PG_CLIENT_ENV, cwd=self.root, preexec_fn=_die_with_parent)
        b.sigint_pids.add(self.proc.pid)
        deadline = time.monotonic() + 60
        while True:
            try:
                if self.psql("postgres", "SELECT 1").strip() == "1":
                    break
            except RuntimeError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                with open(self.log_path) as f:
                    raise RuntimeError("postgres did not start: " + f.read()[-2000:])
            time.sleep(0.1)

    @property
    def pid(self):
        return self.proc.pid

    def conn_args(self):
        return ["-h", self.sock, "-p", "5432", "-U", "postgres", "--no-password"]

    def psql(self, db, sql, timeout=900):
        return run_checked(self.b, ["/usr/bin/psql", "-X", "-q", "-A", "-t", "-v",
                                    "ON_ERROR_STOP=1", *self.conn_args(), "-d", db, "-c", sql],
                           f"psql {sql[:60]!r}", timeout=timeout)

    def psql_async(self, db, sql):
        return self.b.popen(["/usr/bin/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                             *self.conn_args(), "-d", db, "-c", sql],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=PG_CLIENT_ENV)

    def version(self):
        return self.psql("postgres", "SHOW server_version").strip()

    def stop(self):
        return self.b.stop_proc(self.proc, signal.SIGINT, 60)


# --- wrk ---------------------------------------------------------------------------------------

WRK_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def parse_wrk(text):
    """Requests, duration, req/s and error counts from wrk's summary."""
    res = {"requests": None, "seconds": None, "rps": None, "connect": 0, "read": 0, "write": 0,
           "timeout": 0, "non2xx": 0}
    m = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", text)
    if m:
        res["requests"] = int(m.group(1))
        scale = {"ms": 0.001, "s": 1, "m": 60}[m.group(3)]
        res["seconds"] = float(m.group(2)) * scale
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        res["rps"] = float(m.group(1))
    m = WRK_ERRORS.search(text)
    if m:
        res.update(connect=int(m.group(1)), read=int(m.group(2)), write=int(m.group(3)),
                   timeout=int(m.group(4)))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        res["non2xx"] = int(m.group(1))
    res["errors"] = res["connect"] + res["read"] + res["write"] + res["timeout"] + res["non2xx"]
    return res


def wrk_args(port, threads, conns, seconds, close=False, path="/"):
    args = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{seconds}s", "--timeout", "5s"]
    if close:
        args += ["-H", "Connection: close"]
    return args + [f"http://{HOST}:{port}{path}"]


def run_wrk(port, threads, conns, seconds, close=False):
    r = subprocess.run(wrk_args(port, threads, conns, seconds, close), capture_output=True,
                       text=True, timeout=seconds + 30)
    res = parse_wrk(r.stdout)
    res["raw"] = r.stdout
    return res
