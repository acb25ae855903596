"""Celery's client for `npm run bench:peers`: waits until the worker answers a ping."""

import time

import celery
import redis

from celery_app import app, noop
from peer_loop import serve


def wait_for_worker(timeout_s=60):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if app.control.ping(timeout=0.5):
            return
    raise TimeoutError("the Celery worker did not answer a ping")


def main():
    wait_for_worker()

    def roundtrip():
        noop.apply_async((None,)).get(timeout=60)

    def batch(n):
        # All sent first, then each awaited: faster here than group(...).get() or a ResultSet.
        pending = [noop.apply_async((i,)) for i in range(n)]
        for result in pending:
            result.get(timeout=600)

    serve(roundtrip, batch, {"celery": celery.__version__, "redis-py": redis.__version__})


if __name__ == "__main__":
    main()
