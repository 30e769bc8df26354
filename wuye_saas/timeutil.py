"""Times are stored as naive UTC and shown in Asia/Shanghai."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    """Naive UTC, the storage convention on SQLite and PostgreSQL alike."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def local(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.replace(tzinfo=timezone.utc).astimezone(SHANGHAI)


def today() -> date:
    """Today's date in Shanghai (a UTC 'today' is wrong between 00:00 and 08:00)."""
    return datetime.now(SHANGHAI).date()


def fmt_datetime(dt: datetime | None) -> str:
    loc = local(dt)
    return loc.strftime("%Y-%m-%d %H:%M") if loc else ""


def day_start_utc(d: date) -> datetime:
    """Shanghai midnight at the start of `d`, as naive UTC (how times are stored)."""
    return datetime(d.year, d.month, d.day, tzinfo=SHANGHAI).astimezone(timezone.utc).replace(tzinfo=None)
