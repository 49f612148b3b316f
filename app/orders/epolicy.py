"""The e-policy as a PDF: the policy's own print template rendered by WeasyPrint, in a CJK font from
Debian (fonts-wqy-microhei, installed by `make system-deps`)."""
from flask import render_template
from weasyprint import HTML

from app.core.clock import to_local


def _no_fetching(url, *args, **kwargs):
    """The document is self-contained: nothing is fetched while rendering it."""
    raise ValueError(f"not fetched: {url[:40]}")


def render_pdf(policy, *, plan, terms, generated_at) -> bytes:
    html = render_template("orders/policy_pdf.html", policy=policy, plan=plan, terms=terms,
                           generated_at=generated_at,
                           today=to_local(generated_at).date())  # the status is the one on that day
    return HTML(string=html, url_fetcher=_no_fetching).write_pdf()
