"""Wall-clock time as integer epoch milliseconds, the unit every keel timestamp uses."""

from __future__ import annotations

import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000
