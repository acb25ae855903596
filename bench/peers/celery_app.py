"""The Celery app of `npm run bench:peers`: Redis as broker and result backend (the URL from
FERRY_PEERS_REDIS_URL), one task, the same no-op as the other systems."""

import os

from celery import Celery

import peer_loop

url = os.environ["FERRY_PEERS_REDIS_URL"]
app = Celery("ferry_peers", broker=url, backend=url)
app.conf.update(broker_connection_retry_on_startup=True)
noop = app.task(name="noop")(peer_loop.noop)
