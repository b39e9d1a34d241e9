"""What the test_protocol_doku_* tests share: DOKU's known-answer vectors.

Its name does not start with `test_`, so no runner collects it.
"""

from datetime import datetime, timezone

# Known-answer vectors. The expected signatures were computed once by hand in a separate
# Python shell with hmac/hashlib/base64 from these literal inputs, per DOKU's Non-SNAP
# algorithm, not with the code under test.
CLIENT_ID = "821508239190"
REQUEST_ID = "418075533589"
KEY = "SK-hCJ42G28TA0MKG9LE2E_1"
BODY = (
    b'{"amount":11500,"sender_name":"Firman","receiver_name":"Toru Yamashita",'
    b'"receiver_phone_number":"6281629127182","receiver_email":"toru@example.com",'
    b'"reference_id":"PAY_83921251","description":"Payout for bonus 2023","currency":"IDR"}'
)
BODY_DIGEST = "r0RnhFWsvuFi8pbu7TzUtEL7eQu7C0A35geWh5SNWzY="
REQUEST_SIGNATURE = "HMACSHA256=jQYd28s1dvKnt4Yap4TAb9q846xywvy5WgpVfmrXEjE="
RESPONSE_BODY = (
    b'{"status":"0","message":"Success","data":{"reference_id":"PAY_83921251","status":"PENDING"}}'
)
RESPONSE_SIGNATURE = "HMACSHA256=7ydbFnlt01oZRtkcrCwvGVww7CDVeZUm8Uce5bSHoDE="
GET_SIGNATURE = "HMACSHA256=Vst4sVdx5lEfsBh4xj+GOeT4hT3WJtXR6Y+S+VYUj7U="
SIGNED_AT = datetime(2020, 12, 21, 7, 50, 11, tzinfo=timezone.utc)

FIELDS = {
    "amount": 11500,
    "sender_name": "Firman",
    "receiver_name": "Toru Yamashita",
    "receiver_phone_number": "6281629127182",
    "receiver_email": "toru@example.com",
    "reference_id": "PAY_83921251",
    "description": "Payout for bonus 2023",
}
