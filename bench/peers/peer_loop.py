"""The command loop of both Python peers' clients (dask_bench.py, celery_bench.py).

One command a line on stdin, one JSON line on stdout, so the bench drives every system the
same way and computes every statistic itself:
  roundtrip <n>   n no-ops one after another: {"ms": [submit-to-result of each]}
  batch <n>       n no-ops submitted at once: {"s": seconds to the last result}
  quit
"""

import json
import sys
import time


def noop(x=None):
    """The trivial function of every system: returns its argument, as Ferry's bench-echo."""
    return x


def reply(message):
    print(json.dumps(message), flush=True)


def serve(roundtrip, batch, versions):
    reply({"ready": True, "versions": versions})
    for line in sys.stdin:
        command, *rest = line.split() or [""]
        if command == "quit":
            return
        try:
            n = int(rest[0])
            if command == "roundtrip":
                times = []
                for _ in range(n):
                    t0 = time.perf_counter()
                    roundtrip()
                    times.append((time.perf_counter() - t0) * 1000)
                reply({"ms": times})
            elif command == "batch":
                t0 = time.perf_counter()
                batch(n)
                reply({"s": time.perf_counter() - t0})
            else:
                reply({"error": f"unknown command {line.strip()!r}"})
        except Exception as error:  # the bench reports it; the loop itself stays up
            reply({"error": f"{type(error).__name__}: {error}"})
