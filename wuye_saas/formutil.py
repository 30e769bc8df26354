"""The base form: Flask-WTF (CSRF) with WTForms' own Chinese messages for built-in checks, and
no control characters in any text (web.refuse_control_characters guards the rest of a request)."""
import re

from flask import g, has_request_context
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, ValidationError

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
