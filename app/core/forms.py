"""Form base classes: WTForms' own Chinese messages as the fallback for any message we don't write."""
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice


def choices(pairs):
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


class Form(FlaskForm):
    """A form that posts: CSRF-protected (the token comes from the field or the X-CSRFToken header)."""

    class Meta:
        locales = ["zh"]


class QueryForm(Form):
    """A GET form (search, filters): reads request.args, no CSRF since it changes nothing."""

    class Meta:
        csrf = False

    def __init__(self, *args, **kwargs):
        from flask import request
        kwargs.setdefault("formdata", request.args)
        super().__init__(*args, **kwargs)
