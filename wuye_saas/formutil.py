"""The base form: Flask-WTF (CSRF) with WTForms' own Chinese messages for built-in checks."""
from flask_wtf import FlaskForm
from wtforms.validators import Length, ValidationError


class Form(FlaskForm):
    class Meta:
        locales = ("zh",)


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
