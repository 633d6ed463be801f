#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""HTTP load with a new connection per request (`Connection: close`), counting every failure.

usage: loadclient.py PORT SECONDS CONCURRENCY OUT.json [PATH]

CONCURRENCY asyncio workers each loop: connect, send one GET, read the response to EOF. A request
counts as ok only with a complete `HTTP/1.1 200` response. Failures are classified:
  refused  - connect() got ECONNREFUSED (nobody listening: the port was closed)
  reset    - ECONNRESET/EPIPE, or EOF before a complete response
  timeout  - no connection or no full response within the timeout
  http     - a complete response with a status other than 200
  other    - anything else (the exception name is kept)
Each failure's time (CLOCK_MONOTONIC, comparable with the caller's time.monotonic()) is written
to OUT.json with the counts, so the caller can attribute failures to the kills it made.
After a refused connect a worker waits 1 ms before trying again, so a closed port is counted
at a bounded rate (at most CONCURRENCY per ms) rather than as fast as the CPU allows.
"""
import asyncio
import json
import sys
import time

CONNECT_TIMEOUT = 3.0
RESPONSE_TIMEOUT = 5.0


async def one_request(port, path):
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port),
                                            CONNECT_TIMEOUT)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                     .encode())
        data = await asyncio.wait_for(reader.read(-1), RESPONSE_TIMEOUT)
    finally:
        writer.close()
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep or not head.startswith(b"HTTP/1.1 "):
        raise EOFError("incomplete response")
    status = int(head.split()[1])
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is not None and len(body) < length:
        raise EOFError("short body")
    return status


async def worker(port, path, deadline, stats, failures):
    while time.monotonic() < deadline:
        t = time.monotonic()
        kind = None
        try:
            status = await one_request(port, path)
            if status == 200:
                stats["ok"] += 1
                continue
            kind = "http"
        except ConnectionRefusedError:
            kind = "refused"
        except (ConnectionResetError, BrokenPipeError, EOFError, asyncio.IncompleteReadError):
            kind = "reset"
        except (asyncio.TimeoutError, TimeoutError):
            kind = "timeout"
        except OSError as e:
            kind = f"other:{type(e).__name__}:{e.errno}"
        stats[kind] = stats.get(kind, 0) + 1
        failures.append([round(t, 6), kind])
        if kind == "refused":
            await asyncio.sleep(0.001)


async def main():
    port, seconds, conc, out = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    path = sys.argv[5] if len(sys.argv) > 5 else "/"
    stats = {"ok": 0}
    failures = []
    start = time.monotonic()
    deadline = start + seconds
    await asyncio.gather(*(worker(port, path, deadline, stats, failures) for _ in range(conc)))
    end = time.monotonic()
    failed = sum(v for k, v in stats.items() if k != "ok")
    with open(out, "w") as f:
        json.dump({"start": start, "end": end, "counts": stats, "failed": failed,
                   "rps": stats["ok"] / (end - start), "failures": failures}, f)


if __name__ == "__main__":
    asyncio.run(main())
