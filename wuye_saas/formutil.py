"""The base form: Flask-WTF (CSRF) with WTForms' own Chinese messages for built-in checks."""
from flask_wtf import FlaskForm


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
