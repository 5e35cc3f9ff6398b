"""IOMesh licence codes as the twin's operator accepts them.

A real licence code is an opaque text SmartX signs for one cluster's serial (`status.license.serial`); the operator
reads it from the Secret `spec.licenseSecretName` names (key `authorizationCode`) when that field is set, and takes
a code issued for another serial, or not signed, as invalid (domain notes §11, "License activation/update"). The
twin cannot check SmartX's signature, so it has a signer of its own: `issue` makes a code for a serial the way the
vendor would (a signed payload), `verify` is what the twin's operator does with one. Tests issue codes with `issue`;
nothing in the collection knows the format.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json

PREFIX = "IOMESH-TESTBED-LICENSE."
KEY = b"iomesh-twin-licence-signer"  # the twin's stand-in for the vendor's signing key
FORMAT = "%Y-%m-%dT%H:%M:%SZ"
TYPES = ("Subscription", "Perpetual")


class InvalidLicense(ValueError):
    """Why a code is refused, as the operator's Warning event says it."""


def _sign(payload: bytes) -> str:
    return hmac.new(KEY, payload, hashlib.sha256).hexdigest()


def issue(serial: str, license_type: str = "Subscription", days: int = 365, max_chunk_num: int = 255,
          edition: str = "ENTERPRISE", now: datetime.datetime | None = None) -> str:
    """A licence code for the cluster of `serial`: Subscription (valid `days`) or Perpetual."""
    if license_type not in TYPES:
        raise ValueError(f"license_type must be one of {', '.join(TYPES)}")
    now = (now or datetime.datetime.now(datetime.timezone.utc)).replace(microsecond=0)
    body = {"serial": serial, "licenseType": license_type, "softwareEdition": edition, "maxChunkNum": max_chunk_num,
            "signDate": now.strftime(FORMAT)}
    if license_type == "Subscription":
        end = (now + datetime.timedelta(days=days)).strftime(FORMAT)
        body.update(expirationDate=end, subscriptionStartDate=now.strftime(FORMAT), subscriptionExpirationDate=end)
    payload = json.dumps(body, sort_keys=True).encode()
    return PREFIX + base64.urlsafe_b64encode(payload).decode() + "." + _sign(payload)


def verify(code: str, serial: str) -> dict:
    """The licence fields a valid code for `serial` sets in status.license; InvalidLicense otherwise."""
    text = str(code).strip()
    if not text.startswith(PREFIX) or "." not in text[len(PREFIX):]:
        raise InvalidLicense("the authorization code is not an IOMesh licence")
    encoded, signature = text[len(PREFIX):].rsplit(".", 1)
    try:
        payload = base64.urlsafe_b64decode(encoded.encode())
        body = json.loads(payload)
    except (ValueError, TypeError) as exc:
        raise InvalidLicense("the authorization code is not an IOMesh licence") from exc
    if not hmac.compare_digest(_sign(payload), signature):
        raise InvalidLicense("the authorization code's signature is not valid")
    if body.get("serial") != serial:
        raise InvalidLicense(f"the licence was issued for serial {body.get('serial')}, not this cluster's {serial}")
    return body
