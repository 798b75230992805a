"""Load benchmark of ``forewarn serve`` on this machine (127.0.0.1 only).

For each server configuration asked for (default: one HTTP worker with one scan process
per core, which is ``forewarn serve``'s default; one HTTP worker per core scanning in a
thread each; one HTTP worker scanning in one thread):

1. **Capacity**: the CPU time of one scan of bench/corpus/story-2500.txt, measured
   in-process over N sequential scans (read, scan, JSON, as the endpoint does); what the
   cores allow is ``cores / cpu-seconds per scan`` scans a second.
2. **Steady load**: 16 concurrent clients POST the story to /v1/scan for 60 s:
   throughput, p50/p99 latency, errors. Target: no errors, throughput at least 80% of
   what the cores allow.
3. **Overload**: 64 concurrent clients for 30 s. The server should shed with quick
   ``503`` + ``Retry-After`` (clients retry after a short pause, not after Retry-After:
   impatient clients are the hard case) and keep answering /healthz, probed 10 times a
   second throughout.
4. **Recovery**: 16 clients again for 20 s; throughput compared with step 2.

Also the server's peak memory: VmHWM of the server process and each of its children
(/proc/<pid>/status), and, for each phase, the CPU used by the server, by this client and
by every other process on the machine (other work on a shared machine shows there). Every
loop is bounded in requests and time, and only 127.0.0.1 is ever contacted.

    python bench/bench_service.py
    python bench/bench_service.py --configs 1x2 --steady 20 --overload 10 --recovery 10
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import multiprocessing
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STORY = ROOT / "bench" / "corpus" / "story-2500.txt"
HOST = "127.0.0.1"
MAX_REQUESTS = 50_000  # per phase, whatever the duration


@dataclass
class Phase:
    name: str
    clients: int
    seconds: float
    ok: list[float] = field(default_factory=list)
    shed: list[float] = field(default_factory=list)
    shed_without_retry_after: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    health: list[float] = field(default_factory=list)
    health_errors: int = 0
    elapsed: float = 0.0
    server_cpu: float = 0.0  # CPU seconds the server's processes used
    client_cpu: float = 0.0  # CPU seconds this benchmark process used
    machine_cpu: float = 0.0  # CPU seconds every process on the machine used

    @property
    def throughput(self) -> float:
        return len(self.ok) / self.elapsed if self.elapsed else 0.0

    def error_count(self) -> int:
        return sum(self.errors.values())


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


# --- capacity ---------------------------------------------------------------------------------


def scan_cpu_seconds(story: str, runs: int) -> tuple[float, float]:
    """CPU seconds and wall seconds of one scan (median of ``runs``), as the endpoint does."""
    from forewarn.ingest import read_text
    from forewarn.scanner import Scanner

    def once() -> None:
        report = Scanner().scan_work(read_text(story, "<text>"))
        json.dumps(report.filtered(0.5).to_dict(evidence=False))

    once()  # loads the model
    cpu, wall = [], []
    for _ in range(runs):
        c, w = time.process_time(), time.perf_counter()
        once()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return statistics.median(cpu), statistics.median(wall)


# --- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start_server(workers: int, port: int, extra: list[str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "forewarn", "serve", "--host", HOST, "--port", str(port),
               "--workers", str(workers), "--no-access-log", "--log-level", "warning", *extra]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    ready = 0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise SystemExit(f"the server exited ({proc.returncode}):\n{err}")
        try:
            # every worker must have loaded its model: ask until enough distinct answers
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                response = conn.getresponse()
                health = json.loads(response.read() or b"{}")
            finally:
                conn.close()
            if response.status == 200 and health.get("model_loaded"):
                ready += 1
                if ready >= 3 and len(descendants(proc.pid)) >= (workers if workers > 1 else 0):
                    # a worker accepts only once its model is loaded; give the others time
                    time.sleep(3 if workers > 1 else 0)
                    return proc
        except (OSError, http.client.HTTPException, ValueError):
            pass
        time.sleep(0.3)
    stop_server(proc)
    raise SystemExit("the server did not become ready in 120 s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (uvicorn's workers and helpers)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            continue
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    out, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent]
        out.extend(children)
        frontier.extend(children)
    return out


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of one process, in MB."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# --- load -------------------------------------------------------------------------------------


class Connection:
    """A minimal HTTP/1.1 keep-alive client over asyncio streams: a load generator that
    costs little CPU, so that the machine's cores go to the server."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, data: bytes) -> tuple[int, dict[str, str]]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        assert self.reader is not None
        try:
            self.writer.write(data)
            await self.writer.drain()
            head = await self.reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name:
                    headers[name.strip().lower()] = value.strip()
            await self.reader.readexactly(int(headers.get("content-length", "0")))
        except BaseException:
            self.close()
            raise
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def probe_health(port: int, seconds: float, out: Any) -> None:
    """GET /healthz ten times a second for ``seconds``; send (latencies, failures)."""
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                latencies.append(time.perf_counter() - started)
            else:
                failures += 1
        except (OSError, http.client.HTTPException):
            failures += 1
            conn.close()
            conn = http.client.HTTPConnection(HOST, port, timeout=30)
        time.sleep(0.1)
    conn.close()
    out.send((latencies, failures))


async def run_phase(port: int, phase: Phase, body: bytes, backoff: float) -> Phase:
    request = (b"POST /v1/scan HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
               + body)
    deadline = time.perf_counter() + phase.seconds
    sent = 0

    async def worker() -> None:
        nonlocal sent
        conn = Connection(port)
        try:
            while time.perf_counter() < deadline and sent < MAX_REQUESTS:
                sent += 1
                started = time.perf_counter()
                try:
                    status, headers = await asyncio.wait_for(conn.request(request), 120)
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                        TimeoutError, ValueError, IndexError) as exc:
                    key = type(exc).__name__
                    phase.errors[key] = phase.errors.get(key, 0) + 1
                    await asyncio.sleep(0.1)
                    continue
                took = time.perf_counter() - started
                if status == 200:
                    phase.ok.append(took)
                elif status == 503:
                    phase.shed.append(took)
                    if not headers.get("retry-after"):
                        phase.shed_without_retry_after += 1
                    await asyncio.sleep(backoff)
                else:
                    phase.errors[str(status)] = phase.errors.get(str(status), 0) + 1
        finally:
            conn.close()

    # /healthz is probed from a process of its own, so that its latency is the server's,
    # not this busy client's
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    prober = context.Process(target=probe_health, args=(port, phase.seconds, sender))
    prober.start()
    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(phase.clients)))
    phase.elapsed = time.perf_counter() - began
    phase.health, phase.health_errors = receiver.recv()
    prober.join(10)
    return phase


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> float:
    """CPU seconds the whole machine has been busy (every core, every process)."""
    with open("/proc/stat", encoding="ascii") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def measured(server: int, phase: Phase, run: Callable[[], Phase]) -> Phase:
    """Run a phase, recording the CPU used by the server, this process and the machine."""
    pids = [server, *descendants(server)]
    server0 = sum(process_cpu(p) for p in pids)
    client0, machine0 = time.process_time(), machine_cpu()
    run()
    phase.server_cpu = sum(process_cpu(p) for p in pids) - server0
    phase.client_cpu = time.process_time() - client0
    phase.machine_cpu = machine_cpu() - machine0
    return phase


def left_to_service(phase: Phase) -> float:
    """Cores the machine left to the server and this client: all but other processes'."""
    cores = os.cpu_count() or 1
    others = max(0.0, phase.machine_cpu - phase.server_cpu - phase.client_cpu)
    return max(0.1, cores - others / phase.elapsed) if phase.elapsed else float(cores)


def report(phase: Phase, capacity: float, cpu_per_scan: float) -> str:
    ms = 1000
    cores = os.cpu_count() or 1
    others = max(0.0, phase.machine_cpu - phase.server_cpu - phase.client_cpu)
    got = phase.server_cpu / phase.elapsed if phase.elapsed else 0.0
    used_for_scans = len(phase.ok) * cpu_per_scan / phase.server_cpu if phase.server_cpu else 0
    left = left_to_service(phase) / cpu_per_scan
    lines = [
        f"  {phase.name}: {phase.clients} clients, {phase.elapsed:.0f} s",
        f"    CPU: server {got:.2f} cores, this client {phase.client_cpu / phase.elapsed:.2f},"
        f" other processes {others / phase.elapsed:.2f} (of {cores});"
        f" scans took {used_for_scans:.0%} of the server's CPU",
        f"    ok {len(phase.ok):>6}  throughput {phase.throughput:6.1f}/s"
        f" ({phase.throughput / capacity:5.0%} of what the cores allow;"
        f" {phase.throughput / left:5.0%} of what the cores left by other processes allow)"
        f"  latency p50 {percentile(phase.ok, 50) * ms:6.0f} ms"
        f"  p99 {percentile(phase.ok, 99) * ms:6.0f} ms",
        f"    errors {phase.error_count()} {phase.errors or ''}",
    ]
    if phase.shed:
        lines.append(
            f"    shed (503) {len(phase.shed):>6}  latency p50 "
            f"{percentile(phase.shed, 50) * ms:5.1f} ms  p99 {percentile(phase.shed, 99) * ms:5.1f}"
            f" ms  without Retry-After: {phase.shed_without_retry_after}")
    lines.append(
        f"    /healthz {len(phase.health)} probes  p50 {percentile(phase.health, 50) * ms:5.1f} ms"
        f"  p99 {percentile(phase.health, 99) * ms:5.1f} ms"
        f"  max {max(phase.health, default=float('nan')) * ms:5.1f} ms"
        f"  failed {phase.health_errors}")
    return "\n".join(lines)


def bench(config: str, args: argparse.Namespace, capacity: float,
          cpu_per_scan: float) -> dict[str, object]:
    workers, _, processes = config.partition("x")
    body = json.dumps({"text": STORY.read_text(encoding="utf-8")}).encode()
    port = free_port()
    extra = ["--scan-processes", processes] if processes else []
    proc = start_server(int(workers), port, [*extra, *args.server_args])

    def phase(name: str, clients: int, seconds: float) -> Phase:
        p = Phase(name, clients, seconds)
        return measured(proc.pid, p,
                        lambda: asyncio.run(run_phase(port, p, body, args.backoff)))

    try:
        steady = phase("steady", 16, args.steady)
        overload = phase("overload", 64, args.overload)
        recovery = phase("recovery", 16, args.recovery)
        pids = [proc.pid, *descendants(proc.pid)]
        peaks = {pid: peak_rss_mb(pid) for pid in pids}
    finally:
        stop_server(proc)
    print(f"\n--workers {workers}" + (f" --scan-processes {processes}" if processes else "")
          + f"  (server pid {proc.pid})")
    for p in (steady, overload, recovery):
        print(report(p, capacity, cpu_per_scan))
    print(f"  recovery throughput {recovery.throughput / max(steady.throughput, 1e-9):.0%} of "
          "steady")
    print("  peak RSS (VmHWM): " + ", ".join(f"pid {p} {mb:.0f} MB" for p, mb in peaks.items())
          + f"; total {sum(peaks.values()):.0f} MB")
    # On a machine shared with other work, "what the cores allow" is what they leave us.
    allowed = min(capacity, left_to_service(steady) / cpu_per_scan)
    met = (steady.error_count() == 0 and not steady.shed
           and steady.throughput >= 0.8 * allowed
           and overload.error_count() == 0 and overload.shed_without_retry_after == 0
           and recovery.error_count() == 0 and not recovery.shed
           and recovery.throughput >= 0.8 * steady.throughput)
    shared = " (throughput judged against the cores other processes left)" \
        if allowed < 0.95 * capacity else ""
    print(f"  targets {'MET' if met else 'NOT met'}{shared}")
    return {"config": config, "met": met, "steady": steady.throughput,
            "recovery": recovery.throughput}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cores = os.cpu_count() or 1
    parser.add_argument("--configs", default=f"1x{cores},{cores}x0,1x0",
                        help="comma-separated server configurations to try, each WORKERSxSCAN"
                        "PROCESSES (--workers, --scan-processes; 0: scan in a thread of the "
                        f"HTTP worker); default 1x{cores},{cores}x0,1x0")
    parser.add_argument("--steady", type=float, default=60.0, help="seconds of 16 clients")
    parser.add_argument("--overload", type=float, default=30.0, help="seconds of 64 clients")
    parser.add_argument("--recovery", type=float, default=20.0, help="seconds of 16 clients")
    parser.add_argument("--backoff", type=float, default=0.05,
                        help="seconds a client waits after a 503 before trying again")
    parser.add_argument("--runs", type=int, default=20, help="in-process scans to time")
    parser.add_argument("--server-args", nargs=argparse.REMAINDER, default=[],
                        help="more `forewarn serve` options (last)")
    args = parser.parse_args()
    for limit in (args.steady, args.overload, args.recovery):
        if not 0 < limit <= 600:
            parser.error("each phase lasts between 0 and 600 seconds")
    story = STORY.read_text(encoding="utf-8")
    cpu, wall = scan_cpu_seconds(story, args.runs)
    capacity = cores / cpu
    print(f"forewarn serve load benchmark ({platform.machine()}, {cores} cores, "
          f"Python {platform.python_version()})")
    print(f"one scan of {STORY.name} ({len(story.split()):,} words), in-process median of "
          f"{args.runs}: {cpu * 1000:.0f} ms CPU, {wall * 1000:.0f} ms wall")
    print(f"what the cores allow: {cores} / {cpu:.3f} s = {capacity:.1f} scans/s; "
          f"target >= {0.8 * capacity:.1f}/s")
    results = [bench(c.strip(), args, capacity, cpu) for c in args.configs.split(",")
               if c.strip()]
    best = [r for r in results if r["met"]]
    if best:
        print(f"\nconfigurations that met the targets: {', '.join(str(r['config']) for r in best)}")
    return 0 if best else 1


if __name__ == "__main__":
    sys.exit(main())
