"""Dask distributed's client for `npm run bench:peers`: argv is the scheduler file and the
number of workers to wait for. The function is pickled by value (it is this script's)."""

import sys

import dask
import distributed
from distributed import Client

from peer_loop import noop, serve


def main():
    scheduler_file, workers = sys.argv[1], int(sys.argv[2])
    client = Client(scheduler_file=scheduler_file, timeout=60)
    client.wait_for_workers(workers, timeout=60)

    def roundtrip():
        client.submit(noop, None, pure=False).result()

    def batch(n):
        client.gather(client.map(noop, range(n), pure=False))

    try:
        serve(roundtrip, batch, {"dask": dask.__version__, "distributed": distributed.__version__})
    finally:
        client.close()


if __name__ == "__main__":
    main()
