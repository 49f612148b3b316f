"""Logging that cannot leak personal information: ID and phone numbers are redacted from every record."""
import logging
import re

# An 18-character resident ID (17 digits + digit/X) and an 11-digit mainland mobile number, standing alone.
# Digits right after a letter are our own numbers (DD…, P…, WB…: orders, policies, applications): kept, so
# a log line can be traced to its order.
_PII = re.compile(r"(?<![\dA-Za-z])(\d{17}[\dXx]|1[3-9]\d{9})(?!\d)")


def redact(text: str) -> str:
    return _PII.sub(lambda m: m.group(0)[:3] + "*" * (len(m.group(0)) - 3), text)


class RedactingFilter(logging.Filter):
    _formatter = logging.Formatter()

    def filter(self, record):
        record.msg = redact(record.getMessage())
        record.args = ()
        if record.exc_info and not record.exc_text:
            # Exception messages can quote SQL parameters; format the traceback here, redacted,
            # and handlers reuse exc_text instead of formatting it again.
            record.exc_text = redact(self._formatter.formatException(record.exc_info))
        return True


def init_app(app):
    pii_filter = RedactingFilter()
    for logger in (app.logger, logging.getLogger("werkzeug"), logging.getLogger("gunicorn.error"),
                   logging.getLogger("gunicorn.access")):
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(pii_filter)
