"""Tell someone what the gate decided: a JSON POST to a webhook on promotion and on refusal.

The URL is a capability (anyone holding it can post), so it is never logged or tracked: the tracking
adapter and the report mask any key named like `webhook`, and logs name only the host. Give it as
`env:NAME` to keep it out of the config file altogether (a scheduled deployment's parameters).
Posting is best effort: a notification that fails costs a warning, never the run.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from urllib.parse import urlparse

from pydantic import Field, field_validator

from zerollm.config import StrictModel

log = logging.getLogger("zerollm.notify")
TIMEOUT_S = 10


class NotifyConfig(StrictModel):
    webhook: str | None = Field(None, description="URL posted a JSON message on promotion and on refusal, or "
                                                  "env:NAME to read the URL from that environment variable.")

    @field_validator("webhook")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v and not v.startswith("env:") and urlparse(v).scheme not in ("http", "https"):
            raise ValueError("must be an http(s) URL or env:NAME")
        return v


def _resolve(spec: str) -> str | None:
    if spec.startswith("env:"):
        return os.environ.get(spec[4:]) or None
    return spec


def post(cfg: NotifyConfig, event: dict) -> bool:
    """POST `event` as JSON; True when the server answered 2xx."""
    if not cfg.webhook:
        return False
    url = _resolve(cfg.webhook)
    if url is None:
        log.warning("notify.webhook: %s is not set: no notification sent", cfg.webhook[4:])
        return False
    host = urlparse(url).hostname
    req = urllib.request.Request(url, data=json.dumps(event).encode("utf-8"), method="POST",
                                 headers={"Content-Type": "application/json", "User-Agent": "zerollm"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:  # noqa: S310 (http(s) only, checked above)
            ok = 200 <= resp.status < 300
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.warning("notification to %s failed: %s", host, getattr(exc, "reason", exc))
        return False
    if not ok:
        log.warning("notification to %s: HTTP %s", host, resp.status)
    else:
        log.info("notified %s: %s", host, event.get("line", ""))
    return ok
