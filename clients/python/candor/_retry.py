"""Retry policy: gRPC's own retries (service config), for UNAVAILABLE only.

The channel's service config names the methods that are safe to repeat; gRPC
retries them with bounded exponential backoff and jitter, inside the call's
deadline. Methods not listed are never retried. Enroll is listed because the
client always sends a request_id, which the server applies once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, Tuple

SERVICE = "candor.v1.Candor"

#: Methods repeated on UNAVAILABLE. Not listed, so never retried: CreateGallery
#: and DeleteGallery (a repeat would report ALREADY_EXISTS / NOT_FOUND for
#: the caller's own success), Remove (same, NOT_FOUND), SearchStream (a stream).
IDEMPOTENT_METHODS: Tuple[str, ...] = (
    "GetGallery",
    "ListGalleries",
    "CompactGallery",
    "Enroll",
    "Search",
    "Calibrate",
    "GetCalibration",
    "SetPolicy",
    "TrainIndex",
    "GetStats",
)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff for idempotent calls answered UNAVAILABLE.

    ``max_attempts`` counts the first try; gRPC caps it at 5. Set it to 1 to
    turn retries off. Backoffs are in seconds; each retry waits a random time
    up to min(initial_backoff_s * multiplier**n, max_backoff_s).
    """

    max_attempts: int = 4
    initial_backoff_s: float = 0.1
    max_backoff_s: float = 2.0
    backoff_multiplier: float = 2.0

    def service_config(self) -> str:
        """The channel's JSON service config implementing this policy."""
        method_config: Dict[str, Any] = {
            "name": [{"service": SERVICE, "method": m} for m in IDEMPOTENT_METHODS],
        }
        if self.max_attempts > 1:
            if self.max_attempts > 5:
                raise ValueError("RetryPolicy.max_attempts: gRPC allows at most 5")
            if self.initial_backoff_s <= 0 or self.max_backoff_s <= 0 or self.backoff_multiplier <= 0:
                raise ValueError("RetryPolicy: backoffs and multiplier must be positive")
            method_config["retryPolicy"] = {
                "maxAttempts": self.max_attempts,
                "initialBackoff": f"{self.initial_backoff_s:.6f}s",
                "maxBackoff": f"{self.max_backoff_s:.6f}s",
                "backoffMultiplier": self.backoff_multiplier,
                "retryableStatusCodes": ["UNAVAILABLE"],
            }
        return json.dumps({"methodConfig": [method_config]})
