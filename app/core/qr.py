"""QR codes, drawn on the server."""
import io
from base64 import b64encode

import qrcode
import qrcode.image.svg


def qr_data_uri(text):
    """The QR code as an SVG data URI (for an <img>, so the strict CSP needs no inline SVG styles)."""
    buffer = io.BytesIO()
    qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2).save(buffer)
    return "data:image/svg+xml;base64," + b64encode(buffer.getvalue()).decode()
