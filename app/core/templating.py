"""Jinja filters and globals shared by every template: money, time, the htmx configuration."""
import json

from app.core import clock, masking, money

# htmx 2 configured for our CSP (no eval, no inline styles, no scripts in swapped HTML) and to swap
# 422 responses, which carry a form with its errors, and 409 ones, which answer a request that lost a race
# (another till redeemed the voucher first) with the block a success would swap, saying what won. History is restored from the server, so a
# restored page is always what its URL says (form fields included).
HTMX_CONFIG = json.dumps({
    "allowEval": False,
    "allowScriptTags": False,
    "includeIndicatorStyles": False,
    "historyCacheSize": 0,
    "responseHandling": [
        {"code": "204", "swap": False},
        {"code": "422", "swap": True},
        {"code": "409", "swap": True},
        {"code": "[23]..", "swap": True},
        {"code": "[45]..", "swap": False, "error": True},
    ],
})


def init_app(app):
    app.add_template_filter(money.format_yuan, "yuan")
    app.add_template_filter(money.format_yuan_short, "yuan_short")
    app.add_template_filter(clock.format_local, "local_time")
    app.add_template_filter(masking.mask_ip, "mask_ip")
    app.add_template_filter(masking.mask_id_number, "mask_id")
    app.add_template_filter(masking.mask_name, "mask_name")
    app.add_template_filter(masking.mask_phone, "mask_phone")
    app.add_template_global(HTMX_CONFIG, "htmx_config")
