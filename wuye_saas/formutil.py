"""The base form: Flask-WTF (CSRF) with WTForms' own Chinese messages for built-in checks; no
control characters in any text (web.refuse_control_characters guards the rest of a request);
text refused over its limit, never cut; and the one way numeric fields declare their bounds."""
import re
from decimal import Decimal

from flask import g, has_request_context
from flask_wtf import FlaskForm
from werkzeug.routing import IntegerConverter
from wtforms import DecimalField, IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

# C0 control characters but tab, newline and carriage return: a NUL cannot be stored in
# PostgreSQL text (it was a 500), and none of them belongs in what a person types.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
CONTROL_MESSAGE = "不能包含不可见的控制字符（如 NUL），请删除后重新输入"


class Form(FlaskForm):
    class Meta:
        locales = ("zh",)

    def validate(self, extra_validators=None):
        """Text fields with a control character are refused with a message next to them, before
        any other check (a validator may query with the value); the rest waits for a clean post."""
        bad = [f for f in self if isinstance(f, StringField)
               and any(isinstance(v, str) and CONTROL.search(v) for v in (f.raw_data or ()))]
        if not bad:
            return super().validate(extra_validators)
        self._errors = None
        for field in bad:
            field.errors = [CONTROL_MESSAGE]
        if has_request_context():
            # Answered here with a message: the request guard need not refuse the post.
            g.control_fields = g.get("control_fields", set()) - {f.name for f in bad}
        return False


# Record ids are INTEGER columns: a number past this is no record's, and on SQLite a number past
# 2⁶³ cannot even be bound (a 500). Addresses and query strings give ids through `record_id`.
MAX_ID = 2**31 - 1


def record_id(value) -> int | None:
    """An id from an address or a query string: ASCII digits naming a possible record, else None.
    (`str.isdigit` also accepts "²" and "١", which `int` refuses or reads unexpectedly.)"""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        n = int(value)
        return n if 0 < n <= MAX_ID else None
    return None


class RecordIdConverter(IntegerConverter):
    """Werkzeug's <int:…>, bounded like `record_id` (beyond it the route does not match: 404)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def optional_int(value):
    """A record picker's value: '' (the blank choice) → None; "None" too, from hand-made links."""
    return int(value) if value not in (None, "", "None") else None


def attach_errors(form, errors: dict) -> None:
    """Show a logic function's {field: message} refusals next to their fields; a field the
    form's own validators already faulted keeps its message (no duplicates)."""
    for name, message in errors.items():
        field = getattr(form, name)
        if not field.errors:
            field.errors = list(field.errors) + [message]


def too_long(text: str | None, limit: int) -> str | None:
    """The refusal of a text over its limit. Text is never cut to fit: a cut note would be
    reported saved while the end the user wrote is gone."""
    n = len(text or "")
    return f"不能超过 {limit} 个字（现为 {n} 个字），请删减后再保存" if n > limit else None


class Fits(Length):
    """Length(max=…) with that message. Given a String(n) column, its n: a form never accepts
    more than its column holds (PostgreSQL would refuse it with a 500, SQLite would keep it)."""

    def __init__(self, limit, min: int = -1):
        if not isinstance(limit, int):
            limit = limit.property.columns[0].type.length if hasattr(limit, "property") else limit.type.length
        super().__init__(min=min, max=limit)
        self.limit = limit

    def __call__(self, form, field):
        problem = too_long(field.data if isinstance(field.data, str) else None, self.limit)
        if problem:
            raise ValidationError(problem)
        super().__call__(form, field)


# --- numbers -----------------------------------------------------------------------------
# Every numeric field of the product takes one of these bounds: what a real district could
# need, and small enough that no sum the product forms can overflow its column (money sums
# are BIGINT 分; the largest bill, 10,000 ㎡ × 100 元/㎡·月, is 10⁸ 分, and a district of
# 10⁶ households bills 10¹⁴ 分 a month, far below 9.2 × 10¹⁸).
AREA_M2 = (Decimal("0.01"), Decimal("10000"))             # a household's legal floor area
COMPOUND_AREA_M2 = (Decimal("0.01"), Decimal("10000000"))  # a compound's building area
RATE_YUAN_M2 = (Decimal("0"), Decimal("100"))             # 元/㎡·月 (prices, subsidies)
FLAT_YUAN = (Decimal("0"), Decimal("10000"))               # 元/户·月
CAP_YUAN = (Decimal("0"), Decimal("10000000"))             # 元 per compound and month
PERCENT = (Decimal("0"), Decimal("100"))
PAYMENT_YUAN = (Decimal("0.01"), Decimal("1000000"))       # one payment of one bill
CREDIT_YUAN = (Decimal("0"), Decimal("1000000"))           # one part of a credit note
LEDGER_YUAN = (Decimal("0.01"), Decimal("100000000"))      # a ledger entry, a fund budget
POINTS = (Decimal("0"), Decimal("1000"))                   # scoring standards
HOURS_DAY = (Decimal("0"), Decimal("24"))                   # one volunteer task's hours

_PLAIN = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def parse_decimal(text) -> Decimal | None:
    """A number as people type it (digits, one point, a sign; thousands commas allowed), or
    None: no exponent ('1e20'), NaN or Infinity."""
    text = str(text if text is not None else "").strip().replace(",", "").replace("，", "")
    return Decimal(text) if _PLAIN.fullmatch(text) else None


def _show(x: Decimal) -> str:
    return f"{x.normalize():,f}"


class PlainDecimalField(DecimalField):
    """A DecimalField that takes only plain numbers (see parse_decimal)."""

    def __init__(self, label=None, validators=None, not_a_number="请填写数字，例如 12.5", **kw):
        super().__init__(label, validators, places=None, **kw)
        self.not_a_number = not_a_number

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and str(valuelist[0]).strip():
            self.data = parse_decimal(valuelist[0])
            if self.data is None:
                raise ValueError(self.not_a_number)


class Bounded:
    """The value lies within [low, high] with at most `places` decimals; the message names
    the quantity (`name`) and its unit."""

    def __init__(self, bounds, places: int, name: str, unit: str = "", places_message: str | None = None,
                 message: str | None = None):
        self.low, self.high = bounds
        self.places, self.name, self.unit, self.message = places, name, unit, message
        self.places_message = places_message or f"最多保留 {places} 位小数"

    def __call__(self, form, field):
        value = field.data
        if value is None:
            return
        if self.places is not None and Decimal(value).as_tuple().exponent < -self.places:
            raise ValidationError(self.places_message)
        if self.message and not self.low <= value <= self.high:
            raise ValidationError(self.message)
        if value < self.low:
            if self.low == 0:
                raise ValidationError(f"{self.name}不能为负数")
            if self.low == Decimal(1).scaleb(-self.places):
                raise ValidationError(f"{self.name}必须大于 0")
            raise ValidationError(f"{self.name}不能小于 {_show(self.low)}{self.unit}")
        if value > self.high:
            raise ValidationError(f"{self.name}不能超过 {_show(self.high)}{self.unit}")


def _first(required: str | None):
    return [InputRequired(required)] if required else [Optional()]


def decimal_field(label, bounds, places: int, name: str, unit: str = "", required: str | None = None,
                  message: str | None = None, **kw) -> PlainDecimalField:
    """A decimal field within bounds (one of the named bounds above); `message` replaces
    the out-of-range messages."""
    return PlainDecimalField(label, [*_first(required), Bounded(bounds, places, name, unit, message=message)], **kw)


YUAN_FORMAT = "金额最多两位小数（精确到分），例如 123.45"


def yuan_field(label, bounds, required: str | None = None, name: str = "金额", **kw) -> PlainDecimalField:
    """An amount in 元 with whole 分 within bounds; `to_fen(field.data)` stores it."""
    kw.setdefault("render_kw", {"inputmode": "decimal"})
    return PlainDecimalField(label, [*_first(required), Bounded(bounds, 2, name, " 元", YUAN_FORMAT)],
                             not_a_number=f"请填写金额，{YUAN_FORMAT}", **kw)


def int_field(label, low: int, high: int, name: str, unit: str = "", required: str | None = None,
              **kw) -> IntegerField:
    """A whole number within [low, high]; anything else gets one message."""
    message = f"{name}应为 {low} 到 {high}{unit}之间的整数"
    return IntegerField(label, [*_first(required), NumberRange(low, high, message)], **kw)
