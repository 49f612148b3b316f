"""Response headers every page gets: a strict Content-Security-Policy and the usual hardening."""

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def set_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    return response


def init_app(app):
    app.after_request(set_security_headers)
    if app.config["APP_ENV"] == "production":
        @app.after_request
        def strict_transport(response):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
            return response
