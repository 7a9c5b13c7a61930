"""Plays a busy Open WebUI: inserts a chat row every INTERVAL seconds until SIGTERM, then
prints JSON with the count of committed rows, failures and per-write latency figures."""
import json
import os
import signal
import sqlite3
import sys
import time

db, interval = sys.argv[1], float(sys.argv[2])
stop = False


def on_term(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
# Open WebUI's SQLAlchemy engine waits on locks too; 5 s is its order of magnitude.
conn = sqlite3.connect(db, timeout=5, isolation_level=None)
latencies, failures, committed, i = [], [], 0, 0
print("ready", flush=True)
while not stop:
    i += 1
    t0 = time.monotonic()
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO chat VALUES (?, 'u1', ?, ?, ?, ?)",
            (f"w{os.getpid()}-{i}", f"written during backup {i}", "x" * 2000, int(time.time()), int(time.time())),
        )
        conn.execute("COMMIT")
        committed += 1
    except sqlite3.Error as e:
        failures.append(str(e))
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass
    latencies.append((time.monotonic() - t0) * 1000)
    time.sleep(interval)
latencies.sort()
p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else 0
print(json.dumps({"committed": committed, "failures": failures, "maxMs": max(latencies or [0]), "p99Ms": p99, "writes": len(latencies)}), flush=True)
