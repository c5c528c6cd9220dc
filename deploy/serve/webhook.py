"""MLflow's webhooks, received: the signature checked as MLflow makes it, and the
delivery read as a nudge to look at the registry now.

MLflow signs a delivery (``mlflow/webhooks/delivery.py``) with
``X-MLflow-Signature: v1,<base64 of HMAC-SHA256(secret, "<delivery id>.<timestamp>.<body>")>``,
where the delivery id and the Unix timestamp are the ``X-MLflow-Delivery-Id`` and
``X-MLflow-Timestamp`` headers. A delivery is accepted only with a valid signature and a
timestamp at most ``MAX_AGE_SECONDS`` old (and not from the future by more than that):
anything else is refused with a 401 and changes nothing. Deliveries are not stored,
redelivered or ordered by MLflow, so the registry stays the source of truth: a delivery
only wakes the deployment, which then reads the alias itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_ID_HEADER = "X-MLflow-Delivery-Id"
SIGNATURE_VERSION = "v1"
MAX_AGE_SECONDS = 300
EVENT = "model_version_alias.created"


def signature(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """The ``X-MLflow-Signature`` MLflow sends with ``body``."""
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


@dataclass(frozen=True)
class Delivery:
    """A verified delivery: the model and alias it names (empty when it names none)."""

    delivery_id: str
    entity: str
    action: str
    model: str
    alias: str
    version: str


def verify(secret: str, headers: dict[str, str], body: bytes, now: float) -> Delivery:
    """The delivery, if its signature and timestamp hold; otherwise ``ValueError`` with
    the reason (the caller answers 401)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    delivery_id = lowered.get(DELIVERY_ID_HEADER.lower(), "")
    timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    given = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not (delivery_id and timestamp and given):
        raise ValueError("a delivery without its id, timestamp or signature")
    try:
        sent = int(timestamp)
    except ValueError:
        raise ValueError("a timestamp that is not a whole number of seconds") from None
    if abs(now - sent) > MAX_AGE_SECONDS:
        raise ValueError(f"a timestamp {now - sent:.0f} s old (at most {MAX_AGE_SECONDS} s)")
    if not hmac.compare_digest(given, signature(secret, delivery_id, timestamp, body)):
        raise ValueError("a signature that does not match")
    try:
        document = json.loads(body)
    except ValueError:
        raise ValueError("a signed body that is not JSON") from None
    data = document.get("data") if isinstance(document, dict) else None
    data = data if isinstance(data, dict) else {}
    return Delivery(
        delivery_id,
        str(document.get("entity", "")),
        str(document.get("action", "")),
        str(data.get("name", "")),
        str(data.get("alias", "")),
        str(data.get("version", "")),
    )
