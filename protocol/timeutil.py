"""Time helpers shared by the providers' protocol code and the sandbox.

Durations are in seconds (`MINUTE`, `HOUR`, `DAY`); timestamps are ISO 8601 in UTC.
"""

from datetime import datetime, timezone

MINUTE, HOUR, DAY = 60, 3600, 86400  # seconds


def format_timestamp(dt):
    """`YYYY-MM-DDTHH:MM:SSZ` in UTC; a naive datetime is taken as UTC (as Odoo stores)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(value):
    """Aware datetime from an ISO timestamp (`Z`, offset or naive-as-UTC); ValueError if bad."""
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))  # py3.10 has no `Z`
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
