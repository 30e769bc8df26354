"""The base form: Flask-WTF (CSRF) with WTForms' own Chinese messages for built-in checks."""
from flask_wtf import FlaskForm


class Form(FlaskForm):
    class Meta:
        locales = ("zh",)
