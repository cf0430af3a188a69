"""Faults a production hall meets (issue 12), as scenarios that `run.py faults` runs in full and
the tests (tests/faults/) run small: two workers through a Redis outage (redis_outage),
PostgreSQL crashing, stopped and frozen under a burst of commands (postgres, pgprivate), a
thousand displays reconnecting at once (storm), a simulated day with many displays (soak).
The proxy (proxy) stands in front of a shared PostgreSQL or Redis so that a fault never touches
the machine's own servers."""
