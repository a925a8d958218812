"""Settings of the real Celery worker that tests/sla_tracker/test_celery_worker.py starts as a subprocess.

The test passes DATABASE_URL (the pytest test database), CELERY_BROKER_URL (a dedicated Redis
database), CELERY_TEST_QUEUE (a queue unique to the test run) and CELERY_TEST_VISIBILITY_TIMEOUT.
Tasks are not eager here: the worker consumes them from the broker. With acks_late, the message of
a task whose worker died stays unacknowledged in Redis and is delivered again once the visibility
timeout has passed; a short timeout and a sweep every second keep the SIGKILL test short.
"""

from config.env import env_int, env_str
from config.settings.base import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
# compute_month's fan-out (group.apply_async) goes to the default queue: the test's own queue.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TEST_QUEUE", "celery")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_TEST_VISIBILITY_TIMEOUT", 5),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
    # The sweep holds a Redis mutex; a worker killed while holding it would block the next sweep
    # for the default 300 s.
    "unacked_mutex_expire": 2,
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Small close batches, so that the SIGKILL test can kill a worker between two batches' commits.
CLOSE_BATCH_SIZE = 3
