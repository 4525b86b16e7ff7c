#!/usr/bin/env python3
"""Load test of `dumpscope server` (issue 15), localhost only, bounded in time.

Three phases, each against a fresh server over a fresh --data directory:

  ingest     N concurrent uploaders (closed loop: each sends its next upload when the last one
             is answered; bench/upload_load.c's threads) for S seconds; every upload is a real minidump written by the
             library's crash handler. Reports the ingest rate and the /submit latency p50/p99.
  processed  uploads at a fixed rate (default 20/s, open loop: sent on a schedule whatever the
             answers) for S/2 seconds; then waits for the queue to drain and reports, from the
             API's own received_at/processed_at, how long each crash took from upload to
             processed (p50/p99/max).
  list       100,000 processed crashes stored (rows written straight into the SQLite index
             after the server created it, over 5,000 signatures with a skewed distribution),
             then the list pages and API routes are timed (p50/p99 of sequential requests).

Usage: service_load.py --dumpscope BIN --upload-load BIN --dumps DUMP [DUMP...] [--seconds 60] [--uploaders 50]
       [--rate 20] [--crashes 100000] [--workers 2] [--phases ingest,processed,list]
Prints one Markdown table per phase. Only the standard library.
"""
import argparse
import http.client
import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

TOKEN = "load-test-token-7e21"
BOUNDARY = "load-test-boundary-3f9a"


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[k]


class Server:
    """`dumpscope server --listen 127.0.0.1:0`, its first line read for the port."""

    def __init__(self, binary, data, workers, extra=()):
        args = [binary, "server", "--listen", "127.0.0.1:0", "--data", data, "--token", TOKEN,
                "--workers", str(workers)] + list(extra)
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        text=True)
        line = self.process.stdout.readline()
        prefix = "listening on http://127.0.0.1:"
        if not line.startswith(prefix):
            self.stop()
            raise SystemExit("the server did not start: %r" % line)
        self.port = int(line[len(prefix):].strip())

    def connection(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def form_body(dump, annotations):
    parts = []
    for key, value in annotations.items():
        parts.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                      % (BOUNDARY, key, value)).encode())
    parts.append(("--%s\r\nContent-Disposition: form-data; name=\"upload_file_minidump\"; "
                  "filename=\"crash.dmp\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                  % BOUNDARY).encode())
    parts.append(dump)
    parts.append(("\r\n--%s--\r\n" % BOUNDARY).encode())
    return b"".join(parts)


def upload(connection, body):
    """One /submit on a kept-alive connection: (seconds, crash id or None)."""
    start = time.perf_counter()
    connection.request("POST", "/submit", body=body, headers={
        "Content-Type": "multipart/form-data; boundary=" + BOUNDARY})
    response = connection.getresponse()
    text = response.read().decode(errors="replace")
    elapsed = time.perf_counter() - start
    if response.status != 200 or not text.startswith("CrashID="):
        return elapsed, None
    return elapsed, text[len("CrashID="):].strip()


def get_json(connection, path):
    connection.request("GET", path, headers={"Authorization": "Bearer " + TOKEN})
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError("GET %s: HTTP %d" % (path, response.status))
    return json.loads(body)


def bodies_of(dumps):
    bodies = []
    for index, path in enumerate(dumps):
        with open(path, "rb") as f:
            bodies.append(form_body(f.read(), {"prod": "load-test", "ver": "1.%d" % index}))
    return bodies


def phase_ingest(args, bodies, workdir):
    """The uploaders are bench/upload_load.c's threads (a C client: Python's threads would add
    their interpreter lock's waits to the latencies they measure)."""
    server = Server(args.dumpscope, os.path.join(workdir, "ingest"), args.workers)
    pairs = []
    for index, body in enumerate(bodies):
        path = os.path.join(workdir, "body-%d" % index)
        with open(path, "wb") as f:
            f.write(body)
        pairs += [path, "multipart/form-data; boundary=" + BOUNDARY]
    out = os.path.join(workdir, "ingest-latencies")
    started = time.monotonic()
    try:
        subprocess.run([args.upload_load, str(server.port), str(args.seconds),
                        str(args.uploaders), out] + pairs, check=True)
    finally:
        wall = time.monotonic() - started
        server.stop()
    latencies, failed = [], 0
    with open(out) as f:
        for line in f:
            if line.startswith("refused "):
                failed = int(line.split()[1])
            else:
                latencies.append(int(line) / 1e6)
    return {
        "uploads": len(latencies), "failed": failed, "seconds": wall,
        "rate": len(latencies) / wall, "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000, "max_ms": max(latencies) * 1000,
    }


def phase_processed(args, bodies, workdir):
    server = Server(args.dumpscope, os.path.join(workdir, "processed"), args.workers)
    seconds = max(5, args.seconds // 2)
    count = int(seconds * args.rate)
    ids, latencies, lock = [], [], threading.Lock()
    start = time.monotonic() + 0.5
    slots = list(range(count))
    slot_lock = threading.Lock()

    def sender(seed):
        rng = random.Random(seed)
        connection = server.connection()
        while True:
            with slot_lock:
                if not slots:
                    break
                slot = slots.pop(0)
            wait = start + slot / args.rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            elapsed, crash = upload(connection, rng.choice(bodies))
            with lock:
                latencies.append(elapsed)
                if crash:
                    ids.append(crash)

    # Enough senders that a slow answer never delays the schedule.
    threads = [threading.Thread(target=sender, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent_wall = time.monotonic() - start
    connection = server.connection()
    waits, pending, drain_deadline = [], set(ids), time.monotonic() + 600
    while pending and time.monotonic() < drain_deadline:
        for crash in list(pending):
            record = get_json(connection, "/api/crashes/" + crash)
            if record["status"] in ("processed", "failed"):
                pending.discard(crash)
                if record["status"] == "processed":
                    waits.append(iso_ms(record["processed_at"]) - iso_ms(record["received_at"]))
        if pending:
            time.sleep(0.5)
    server.stop()
    return {
        "sent": count, "accepted": len(ids), "send_seconds": sent_wall,
        "rate": count / sent_wall, "processed": len(waits), "unfinished": len(pending),
        "submit_p99_ms": percentile(latencies, 99) * 1000,
        "p50_s": percentile(waits, 50) / 1000, "p99_s": percentile(waits, 99) / 1000,
        "max_s": (max(waits) / 1000) if waits else float("nan"),
    }


def iso_ms(text):
    # "2026-12-05T16:55:16.123Z"
    seconds = time.mktime(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    return seconds * 1000 + int(text[20:23])


# The signature summaries from the crashes: the backfill of src/service/schema.cpp's migration.
PROCESSED = "status = 'processed' AND signature IS NOT NULL"
SUMMARY_BACKFILL = [
    "DELETE FROM signature_stats", "DELETE FROM signature_programs",
    "DELETE FROM signature_versions", "DELETE FROM signature_days",
    "INSERT INTO signature_stats (signature, count, first_ms, last_ms) SELECT signature, "
    "COUNT(*), MIN(received_at), MAX(received_at) FROM crashes WHERE " + PROCESSED +
    " GROUP BY signature",
    "INSERT INTO signature_programs (signature, program, count) SELECT signature, program, "
    "COUNT(*) FROM crashes WHERE " + PROCESSED + " AND program IS NOT NULL "
    "GROUP BY signature, program",
    "INSERT INTO signature_versions (signature, version, count) SELECT c.signature, a.value, "
    "COUNT(*) FROM crashes c JOIN annotations a ON a.crash_id = c.id WHERE c.status = "
    "'processed' AND c.signature IS NOT NULL AND a.key IN ('ver', 'version') "
    "GROUP BY c.signature, a.value",
    "INSERT INTO signature_days (signature, day, count) SELECT signature, received_at / "
    "86400000, COUNT(*) FROM crashes WHERE " + PROCESSED + " GROUP BY signature, "
    "received_at / 86400000",
]


def phase_list(args, workdir):
    data = os.path.join(workdir, "list")
    Server(args.dumpscope, data, 1).stop()  # creates the schema
    db = sqlite3.connect(os.path.join(data, "crashes.db"))
    columns = {row[1] for row in db.execute("PRAGMA table_info(crashes)")}
    rng = random.Random(15)
    signatures = ["load_%04d | frame_%d | main" % (i, i % 97) for i in range(5000)]
    programs = ["svc-%d" % i for i in range(20)]
    now_ms = int(time.time() * 1000)
    rows = []
    for i in range(args.crashes):
        # A skewed distribution: a few signatures hold most crashes, as top-crasher lists do.
        s = signatures[min(len(signatures) - 1, int(rng.paretovariate(1.2)) - 1)]
        received = now_ms - rng.randrange(14 * 86400 * 1000)
        rows.append(("%032x" % rng.getrandbits(128), "processed", received, received + 500, 1,
                     100000, "minidump", s, programs[hash(s) % len(programs)], "null-dereference"))
    names = ["id", "status", "received_at", "processed_at", "attempt", "dump_size", "format",
             "signature", "program", "crash_class"]
    names = [n for n in names if n in columns]
    db.executemany("INSERT INTO crashes (%s) VALUES (%s)" % (", ".join(names),
                                                             ", ".join("?" * len(names))),
                   [row[:len(names)] for row in rows])
    db.execute("INSERT INTO annotations (crash_id, key, value) SELECT id, 'ver', '2.1' FROM crashes")
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "signature_stats" in tables:
        # The rows went in behind the server's back: fill its signature summaries as the schema
        # migration does (src/service/schema.cpp, signature_stats.h), so the pages read them.
        for statement in SUMMARY_BACKFILL:
            db.execute(statement)
    db.commit()
    db.close()
    top = signatures[0]
    server = Server(args.dumpscope, data, 1)
    connection = server.connection()
    routes = [
        ("page: top crashers", "/"),
        ("page: a signature", "/signature?signature=" + quote(top)),
        ("page: a signature's crashes", "/crashes?signature=" + quote(top)),
        ("page: newest crashes", "/crashes"),
        ("api: /api/signatures", "/api/signatures"),
        ("api: /api/crashes (newest 100)", "/api/crashes"),
        ("api: /api/crashes?signature=", "/api/crashes?signature=" + quote(top)),
    ]
    results = []
    for round_index in range(args.list_rounds):
        for name, path in routes:
            start = time.perf_counter()
            connection.request("GET", path, headers={"Authorization": "Bearer " + TOKEN})
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - start
            if response.status != 200:
                raise RuntimeError("GET %s: HTTP %d" % (path, response.status))
            results.append((name, elapsed))
    server.stop()
    table = []
    for name, _ in routes:
        values = [e for n, e in results if n == name]
        table.append((name, percentile(values, 50) * 1000, percentile(values, 99) * 1000))
    return table


def quote(text):
    from urllib.parse import quote as q
    return q(text, safe="")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dumpscope", required=True)
    parser.add_argument("--dumps", nargs="+", required=True)
    parser.add_argument("--upload-load", required=True,
                        help="bench/upload_load.c, built")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--uploaders", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--crashes", type=int, default=100000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--list-rounds", type=int, default=30)
    parser.add_argument("--phases", default="ingest,processed,list")
    args = parser.parse_args()
    bodies = bodies_of(args.dumps)
    sizes = sorted(os.path.getsize(d) for d in args.dumps)
    workdir = tempfile.mkdtemp(prefix="dumpscope-service-load.")
    try:
        print("dumps: %d real minidumps of %s bytes; %d server workers; load average %s"
              % (len(args.dumps), "-".join(str(s) for s in (sizes[0], sizes[-1])),
                 args.workers, " ".join("%.2f" % x for x in os.getloadavg())))
        phases = args.phases.split(",")
        if "ingest" in phases:
            r = phase_ingest(args, bodies, workdir)
            print("\n| ingest: %d uploaders, %.0f s | value |\n|---|---|" % (args.uploaders,
                                                                            r["seconds"]))
            print("| uploads answered (refused) | %d (%d) |" % (r["uploads"], r["failed"]))
            print("| ingest rate | %.1f uploads/s |" % r["rate"])
            print("| /submit latency p50 / p99 / max | %.1f / %.1f / %.1f ms |"
                  % (r["p50_ms"], r["p99_ms"], r["max_ms"]))
        if "processed" in phases:
            r = phase_processed(args, bodies, workdir)
            print("\n| processed: %.0f uploads/s for %.0f s | value |\n|---|---|"
                  % (r["rate"], r["send_seconds"]))
            print("| uploads sent / accepted / processed / unfinished | %d / %d / %d / %d |"
                  % (r["sent"], r["accepted"], r["processed"], r["unfinished"]))
            print("| /submit latency p99 | %.1f ms |" % r["submit_p99_ms"])
            print("| upload -> processed p50 / p99 / max | %.2f / %.2f / %.2f s |"
                  % (r["p50_s"], r["p99_s"], r["max_s"]))
        if "list" in phases:
            table = phase_list(args, workdir)
            print("\n| list, %d crashes stored, %d sequential requests each | p50 | p99 |"
                  % (args.crashes, args.list_rounds))
            print("|---|---|---|")
            for name, p50, p99 in table:
                print("| %s | %.1f ms | %.1f ms |" % (name, p50, p99))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
