"""DOKU Payout Link on the sandbox: `POST /v1/payout/initiate` and `POST /v1/payout/status`.

Requests are checked as DOKU documents it, in this order (error answers have the body
`{"error": {"code": ..., "message": ...}}`):

    401 UNKNOWN_CLIENT          Client-Id is not the configured one
    400 INVALID_REQUEST_ID      Request-Id is not digits only
    401 MISSING_SIGNATURE, INVALID_TIMESTAMP, STALE_TIMESTAMP (more than `tolerance`
        seconds from now), INVALID_SIGNATURE (per the configured scheme)
    409 <original answer>       same Client-Id, Request-Id, path and body the same day:
                                the original answer again (DOKU's idempotent replay)
    409 REQUEST_ID_CONFLICT     same Request-Id the same day with another body or path
    400 INVALID_JSON            the body is not a JSON object
    400 INVALID_FIELD           a field breaks DOKU's limits: "receiver_name: at most 50 ..."
    409 DUPLICATE_REFERENCE_ID  initiate with a reference_id already used
    404 NOT_FOUND               status of an unknown transaction_id

Only successful answers are kept for replay: a refused request does not use up its
Request-Id. Every answer is signed (Client-Id, Request-Id, Response-Timestamp, Signature
over the request path and the answer body). A successful answer (HTTP 200):

    {"status": "0", "message": "Success", "timestamp": "<sandbox clock>",
     "data": {<the initiate fields>, "transaction_id": "<reference_id>",
              "status": "<DOKU status>", "created_at": "...", "updated_at": "..."}}

Lifecycle: the status follows the sandbox clock since creation, by the local part of
`receiver_email` (first matching prefix):

    fail...@    PENDING, +1 min EMAIL_SENT, +1 h EMAIL_LINK_OPENED,
                +2 h PENDING_PROCESS (DOKU retries), +5 h FAILED (after 3 retries)
    retry...@   PENDING, +1 min EMAIL_SENT, +1 h EMAIL_LINK_OPENED,
                +2 h PENDING_PROCESS, +3 h COMPLETED
    expire...@  PENDING, +1 min EMAIL_SENT, +24 h EXPIRED (never opened)
    stuck...@   PENDING, +1 min EMAIL_SENT, +1 h EMAIL_LINK_OPENED, +2 h CONFIRMED, forever
    anything    PENDING, +1 min EMAIL_SENT, +1 h EMAIL_LINK_OPENED, +2 h CONFIRMED,
                +3 h COMPLETED

Clocks: the sandbox clock drives only the lifecycle and the timestamps in bodies.
Request-Timestamp freshness, Response-Timestamp and "the same day" of replays use real
UTC time, so a client in another process keeps working after the clock is advanced.
"""

import inspect
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from ..protocol import doku
from ..protocol.errors import ProviderBadSignature, ProviderClientError, ProviderError
from ..protocol.timeutil import DAY, HOUR, MINUTE, format_timestamp
from .server import ProviderSandbox, Response, error_response, json_response

CLIENT_ID = "SANDBOX-CLIENT-1"
SECRET_KEY = "SK-sandbox-not-a-secret"

_OPENED = ((0, "PENDING"), (MINUTE, "EMAIL_SENT"), (HOUR, "EMAIL_LINK_OPENED"))
SCENARIOS = {  # local-part prefix: ((seconds after creation, status), ...)
    "fail": _OPENED + ((2 * HOUR, "PENDING_PROCESS"), (5 * HOUR, "FAILED")),
    "retry": _OPENED + ((2 * HOUR, "PENDING_PROCESS"), (3 * HOUR, "COMPLETED")),
    "expire": ((0, "PENDING"), (MINUTE, "EMAIL_SENT"), (DAY, "EXPIRED")),
    "stuck": _OPENED + ((2 * HOUR, "CONFIRMED"),),
    "": _OPENED + ((2 * HOUR, "CONFIRMED"), (3 * HOUR, "COMPLETED")),
}
_INITIATE_FIELDS = tuple(inspect.signature(doku.build_initiate_body).parameters)


@dataclass
class _Payout:
    fields: dict
    created: datetime

    def data(self, now):
        local_part = self.fields["receiver_email"].split("@")[0].lower()
        steps = next(s for prefix, s in SCENARIOS.items() if local_part.startswith(prefix))
        elapsed = (now - self.created).total_seconds()
        offset, status = [step for step in steps if step[0] <= max(elapsed, 0)][-1]
        return {
            **self.fields,
            "transaction_id": self.fields["reference_id"],
            "status": status,
            "created_at": format_timestamp(self.created),
            "updated_at": format_timestamp(self.created + timedelta(seconds=offset)),
        }


@dataclass
class _Answer:
    path: str
    body: bytes  # the request body
    answer: bytes  # the response body, sent again on replay


class DokuSandbox(ProviderSandbox):
    def __init__(
        self,
        server,
        *,
        client_id=CLIENT_ID,
        secret_key=SECRET_KEY,
        scheme=doku.DEFAULT_SCHEME,
        tolerance=doku.TOLERANCE,
    ):
        super().__init__(server)
        self.client_id = client_id
        self.secret_key = secret_key
        self.scheme = scheme
        self.tolerance = tolerance
        server.route("POST", doku.INITIATE_PATH, self._initiate, sign=self._sign)
        server.route("POST", doku.STATUS_PATH, self._status, sign=self._sign)
        self.reset()

    def reset(self):
        with self._lock:
            self.payouts = {}  # reference_id: _Payout
            self._answers = {}  # (client id, request id, day): _Answer

    def client(self, **options):
        """A DokuClient with this sandbox's URL and credentials."""
        return doku.DokuClient(
            self.url, self.client_id, self.secret_key, scheme=self.scheme, **options
        )

    def _initiate(self, request):
        return self._handle(request, self._create)

    def _status(self, request):
        return self._handle(request, self._lookup)

    def _handle(self, request, action):
        try:
            self._authenticate(request)
            return self._answer(request, action)
        except ProviderError as error:
            status = error.status or (401 if isinstance(error, ProviderBadSignature) else 400)
            return error_response(status, error.code, error.message)

    def _authenticate(self, request):
        headers = request.headers
        if headers.get("Client-Id") != self.client_id:
            raise ProviderClientError("Unknown Client-Id.", status=401, code="UNKNOWN_CLIENT")
        if not re.fullmatch(r"\d{1,128}", headers.get("Request-Id") or ""):
            raise ProviderClientError(
                "Request-Id must be digits only.", status=400, code="INVALID_REQUEST_ID"
            )
        doku.verify_signature(
            self.secret_key,
            headers,
            request.path,
            request.body,
            scheme=self.scheme,
            tolerance=self.tolerance,
        )

    def _answer(self, request, action):
        now = datetime.now(timezone.utc)
        key = (self.client_id, request.headers["Request-Id"], now.date())
        with self._lock:
            seen = self._answers.get(key)
            if seen:
                if (seen.path, seen.body) == (request.path, request.body):
                    return Response(409, seen.answer)
                raise ProviderClientError(
                    "Request-Id was already used today for another request.",
                    status=409,
                    code="REQUEST_ID_CONFLICT",
                )
            if not isinstance(request.json, dict):
                raise ProviderClientError(
                    "The body must be a JSON object.", status=400, code="INVALID_JSON"
                )
            response = json_response(
                200,
                {
                    "status": "0",
                    "message": "Success",
                    "timestamp": format_timestamp(self.server.clock.now()),
                    "data": action(request.json),
                },
            )
            self._answers[key] = _Answer(request.path, request.body, response.body)
        return response

    def _create(self, fields):
        body = doku.build_initiate_body(**{name: fields.get(name) for name in _INITIATE_FIELDS})
        reference = body["reference_id"]
        if reference in self.payouts:
            raise ProviderClientError(
                f"reference_id {reference} already exists.",
                status=409,
                code="DUPLICATE_REFERENCE_ID",
            )
        payout = self.payouts[reference] = _Payout(body, self.server.clock.now())
        return payout.data(payout.created)

    def _lookup(self, fields):
        reference = doku.build_status_body(fields.get("transaction_id"))["transaction_id"]
        if reference not in self.payouts:
            raise ProviderClientError(f"No payout link {reference}.", status=404, code="NOT_FOUND")
        return self.payouts[reference].data(self.server.clock.now())

    def _sign(self, request, response, wrong):
        response.headers.update(
            doku.signature_headers(
                request.headers.get("Client-Id", ""),
                self.secret_key + ("-wrong" if wrong else ""),
                request.headers.get("Request-Id", ""),
                request.path,
                response.body,
                timestamp=format_timestamp(datetime.now(timezone.utc)),
                scheme=self.scheme,
                timestamp_name="Response-Timestamp",
            )
        )



start = DokuSandbox.start
