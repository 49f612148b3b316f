"""A claim's documents: a file is checked by what it contains (never by its name) before anything is stored.

Photos (JPEG, PNG, HEIC/HEIF) are decoded whole and re-encoded as JPEG: what is stored is only the picture,
upright, without EXIF (GPS included) or anything appended after it, so an image that is also an archive or a
web page loses the rest. Decoding is bounded: an image of more than MAX_PIXELS is refused from its header,
before a pixel is decoded. PDFs are stored as received (an electronic invoice's signature must stay valid),
so they are refused unless they are plain: starting with %PDF-, ending with %%EOF, not encrypted, at most
MAX_PDF_PAGES pages, and with no script, automatic action, launch of a program or embedded file anywhere the
catalog reaches.

Where: in the database (ClaimFile, encrypted under the project's PII keys like every other personal column),
apart from the metadata so that listing a claim never reads a file. It needs no extra server, every machine
running the site sees the same files, a claim and its documents are written and deleted in one transaction,
and backups and key rotation cover them with the rest. The limits (MAX_FILE_BYTES, MAX_DOCUMENTS) keep a
claim's files to a few hundred MB at most.

accept() decodes and re-encodes, which takes time: call it before begin_write(), then store() in the writing
transaction.
"""
import io
import secrets
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

import filetype
import pillow_heif
from flask import Response
from PIL import Image, ImageOps, ImageStat, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject
from sqlalchemy import func, select

from app.claims.models import Claim, ClaimDocument, ClaimFile
from app.core.domain import DomainError
from app.core.pii import keyed_digest
from app.extensions import db

MAX_FILE_BYTES = 15 * 1024 * 1024
MAX_DOCUMENTS = 40  # per claim
MAX_PIXELS = 40_000_000  # an image larger than this is refused from its header (a decompression bomb)
MAX_STORED_PIXELS = 16_000_000  # larger photos are stored scaled down to this (still 4600 × 3450)
MAX_PDF_PAGES = 30
MAX_PDF_OBJECTS = 100_000  # a PDF's objects walked when looking for active content
MIN_SHORT_SIDE = 400  # px: below this, a photo of a document is likely unreadable
BLANK_STDDEV = 6.0  # the grey levels' standard deviation below which a photo shows nothing
JPEG_QUALITY = 85
MAX_NAME = 120  # characters of an original file name kept

TYPES = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}  # what is stored, and its extension
IMAGE_FORMATS = {"jpeg": "JPEG", "png": "PNG", "heif": "HEIF"}  # the one decoder each kind is opened with
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"}
PDF_ACTIONS = {"/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/GoToE", "/GoToR", "/RichMediaExecute"}
PDF_SCRIPT_KEYS = {"/JS", "/JavaScript", "/AA", "/XFA", "/RichMedia"}
PDF_FILE_KEYS = {"/EmbeddedFiles", "/EmbeddedFile", "/EF"}
# Windows (MZ), Linux (ELF), macOS (Mach-O, universal) programs and scripts.
PROGRAMS = (b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")

# Pillow opens HEIC/HEIF through pillow-heif (its wheels bundle libheif); registering is idempotent.
pillow_heif.register_heif_opener()

ACCEPTED_TEXT = "请上传 JPG、PNG、HEIC 格式的照片或 PDF 文件"
BLANK = "图片几乎是空白的，请重新拍摄"
SMALL = "图片太小，可能看不清"


class DocumentRefused(DomainError):
    def __init__(self, message):
        super().__init__(message, "file")


@dataclass(frozen=True)
class Accepted:
    """A file fit to store: ``content`` as it will be stored, ``digest`` of what was received (the same file
    uploaded twice gives the same digest), ``problem`` a warning for 预审 (not a refusal)."""
    content: bytes
    content_type: str
    width: int | None
    height: int | None
    pages: int | None
    digest: str
    problem: str | None = None


def accept(data: bytes, filename: str) -> Accepted:
    """The file made fit to store, or DocumentRefused saying why not. ``filename`` names the file in the
    message; the type comes from the content alone."""
    name = display_name(filename)
    if not data:
        raise DocumentRefused(f"{name}是空文件，请重新选择")
    if len(data) > MAX_FILE_BYTES:
        raise DocumentRefused(f"{name}超过 {MAX_FILE_BYTES // (1024 * 1024)} MB，请压缩或分页后再上传")
    kind = sniff(data)
    if kind == "pdf":
        content, pages = _plain_pdf(data, name)
        return Accepted(content, "application/pdf", None, None, pages, keyed_digest(data))
    if kind in IMAGE_FORMATS:
        content, width, height, problem = _reencoded(data, kind, name)
        return Accepted(content, "image/jpeg", width, height, None, keyed_digest(data), problem)
    raise DocumentRefused(name + _unaccepted(data))


def sniff(data: bytes) -> str | None:
    """jpeg, png, heif or pdf, from the first bytes; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[4:8] == b"ftyp" and (data[8:12] in HEIF_BRANDS or (
            data[8:12] in (b"mif1", b"msf1") and HEIF_BRANDS & _brands(data))):
        return "heif"
    if data.startswith(b"%PDF-"):
        return "pdf"
    return None


def _brands(data):
    size = int.from_bytes(data[:4], "big")
    compatible = data[16:min(size, 64)]
    return {compatible[i:i + 4] for i in range(0, len(compatible) - 3, 4)}


def _unaccepted(data):
    """Why a file that is none of the accepted kinds is refused, said for what it is."""
    if b"%PDF-" in data[:1024]:  # readers look for the header that far: something hides before it
        return "开头夹带了其他内容，不是标准的 PDF 文件。请用“打印为 PDF”另存后再上传"
    if data.startswith(PROGRAMS) or filetype.guess_mime(data) in ("application/x-msdownload",
                                                                    "application/x-executable"):
        return "是程序文件，不是照片或 PDF，不能上传"
    if filetype.is_document(data) or data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # or an old .doc/.xls
        return "是 Word、Excel 等文档，请导出为 PDF 后再上传"
    if filetype.is_archive(data):  # after documents: a .docx is a zip too
        return "是压缩包，请解压后逐个上传其中的照片或 PDF"
    return "不是可接收的文件格式，" + ACCEPTED_TEXT


# Images


def _reencoded(data, kind, name):
    """(JPEG bytes, width, height, problem) of an image decoded whole, upright, in RGB, without metadata."""
    unreadable = f"{name}无法完整读取（文件可能已损坏或未传完），请重新拍摄或选择原图"
    too_large = f"{name}的像素过多（超过 {MAX_PIXELS // 1_000_000} 百万像素），请缩小后再上传"
    # Refused from the header, before a pixel is decoded. Pillow itself warns past 89 MP and raises past
    # twice that; our limit is lower, so its warning needs no filter (a process-wide setting, not thread-safe).
    try:
        source = _Source(data)
        image = Image.open(source, formats=[IMAGE_FORMATS[kind]])
        if image.width * image.height > MAX_PIXELS:
            raise DocumentRefused(too_large)
        if kind == "jpeg" and image.width * image.height > MAX_STORED_PIXELS:
            image.draft("RGB", _scaled(image.size, MAX_STORED_PIXELS))  # decoded at 1/2, 1/4… directly
        if kind == "heif":  # decoded strictly: the plugin, too, keeps a truncated photo while that flag is on
            image = pillow_heif.open_heif(io.BytesIO(data)).to_pillow()
        else:
            image.load()
        if source.exhausted:
            raise DocumentRefused(unreadable)
    except Image.DecompressionBombError:
        raise DocumentRefused(too_large) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, RuntimeError):
        raise DocumentRefused(unreadable) from None
    image = _upright(image)
    if image.width * image.height > MAX_STORED_PIXELS:
        image = image.resize(_scaled(image.size, MAX_STORED_PIXELS), Image.Resampling.LANCZOS)
    image = _rgb(image)
    out = io.BytesIO()
    # Only the pixels: no exif, icc_profile or comment is passed, so none is written. A screenshot's text
    # keeps its colour edges (no chroma subsampling).
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, subsampling=0 if kind == "png" else 2)
    return out.getvalue(), image.width, image.height, _problem(image)


class _Source(io.BytesIO):
    """The file as Pillow reads it, noting whether the decoder asked for more than there is: a truncated
    image. Pillow would say so itself, but only while ImageFile.LOAD_TRUNCATED_IMAGES is off, and WeasyPrint
    turns it on for the whole process when it is imported."""

    exhausted = False

    def read(self, size=-1):
        chunk = super().read(size)
        if size and not chunk:
            self.exhausted = True
        return chunk


def _scaled(size, pixels):
    width, height = size
    ratio = (pixels / (width * height)) ** 0.5
    return max(1, int(width * ratio)), max(1, int(height * ratio))


def _upright(image):
    """The image turned as its EXIF orientation says (the phone held sideways)."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # an EXIF block too damaged to read: the pixels are fine, keep them as they are
        return image


def _rgb(image):
    if image.mode == "RGB":
        return image
    if image.has_transparency_data:  # transparent areas become white paper, not black
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _problem(image):
    """What 预审 warns about a photo that was accepted: too small to read, or nothing on it."""
    if min(image.size) < MIN_SHORT_SIDE:
        return SMALL
    grey = image.convert("L")
    grey.thumbnail((1024, 1024))  # enough to keep a page's lines of text
    if ImageStat.Stat(grey).stddev[0] < BLANK_STDDEV:
        return BLANK
    return None


# PDFs


def _plain_pdf(data, name):
    """(the PDF as received, its page count), or DocumentRefused."""
    tail = data[-1024:]
    end = tail.rfind(b"%%EOF")
    if end < 0 or tail[end + 5:].strip(b" \t\r\n\x00\x0c"):  # something appended after the document
        raise DocumentRefused(f"{name}的结尾夹带了其他内容，不是标准的 PDF 文件。请用“打印为 PDF”另存后再上传")
    damaged = f"{name}已损坏，无法打开。请重新导出 PDF 后再上传"
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise DocumentRefused(f"{name}已加密或设有权限密码，请去除密码（或“打印为 PDF”另存）后再上传")
        pages = len(reader.pages)
        finding = _active_content(reader)
    except DocumentRefused:
        raise
    except Exception:  # pypdf meets a hostile file with many kinds of errors: whichever, it is unreadable
        raise DocumentRefused(damaged) from None
    if pages == 0:
        raise DocumentRefused(f"{name}没有任何页面，请重新导出 PDF 后再上传")
    if pages > MAX_PDF_PAGES:
        raise DocumentRefused(f"{name}共 {pages} 页，每份 PDF 最多 {MAX_PDF_PAGES} 页，请拆分后分别上传")
    if finding == "script":
        raise DocumentRefused(f"{name}含有脚本或自动执行的操作，出于安全考虑不能接收。请用“打印为 PDF”另存后再上传")
    if finding == "file":
        raise DocumentRefused(f"{name}内嵌了其他文件，出于安全考虑不能接收。请把每份材料单独上传")
    if finding == "complex":
        raise DocumentRefused(damaged)
    return data, pages


def _active_content(reader):
    """"script", "file" (an embedded file), "complex" (too many objects to check) or None: every object
    reachable from the trailer (catalog, names, pages, annotations, form fields) is looked at once."""
    seen, stack, walked = set(), [reader.trailer], 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            if (item.idnum, item.generation) in seen:
                continue
            seen.add((item.idnum, item.generation))
            item = item.get_object()
        walked += 1
        if walked > MAX_PDF_OBJECTS:
            return "complex"
        if isinstance(item, DictionaryObject):  # streams too: their dictionaries, never their data
            keys = set(item.keys())
            if keys & PDF_SCRIPT_KEYS or _name(item, "/S") in PDF_ACTIONS or _name(item, "/Subtype") == "/RichMedia":
                return "script"
            if keys & PDF_FILE_KEYS or _name(item, "/Type") == "/EmbeddedFile" or \
                    _name(item, "/Subtype") == "/FileAttachment":
                return "file"
            stack.extend(dict.values(item))  # as stored: references stay references, each followed once
        elif isinstance(item, ArrayObject):
            stack.extend(list.__iter__(item))
    return None


def _name(dictionary, key):
    value = dictionary.get(key)
    return str(value) if value is not None else None


# Storing and serving


def display_name(filename):
    """The file's own name as the user knows it, quoted for a message (“发票.jpg”)."""
    name = clean_name(filename)
    if len(name) > 30:
        name = name[:14] + "…" + name[-14:]
    return f"“{name}”" if name else "该文件"


def clean_name(filename):
    """The name without a folder, control characters or excess length."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[-MAX_NAME:]


def store(claim, item, accepted, *, original_name, source, now, supplement=False):
    """The document and its file added to the claim (flushed, not committed). The claim's row is locked first
    so that two uploads at once cannot both take the last place."""
    db.session.execute(select(Claim.id).where(Claim.id == claim.id).with_for_update())
    count = db.session.scalar(select(func.count()).select_from(ClaimDocument)
                              .where(ClaimDocument.claim_id == claim.id))
    if count >= MAX_DOCUMENTS:
        raise DocumentRefused(f"每个理赔最多上传 {MAX_DOCUMENTS} 份材料，请删除不需要的文件后再上传")
    document = ClaimDocument(claim_id=claim.id, token=secrets.token_urlsafe(16), item=item,
                             original_name=clean_name(original_name), content_type=accepted.content_type,
                             size=len(accepted.content), width=accepted.width, height=accepted.height,
                             pages=accepted.pages, digest=accepted.digest, warning=accepted.problem or "",
                             source=source, uploaded_at=now, supplement=supplement)
    document.file = ClaimFile(content=accepted.content)
    db.session.add(document)
    db.session.flush()
    return document


def duplicates(claim, digest):
    """The other claims, of any user, that were sent with a document of this digest (drafts and withdrawn
    claims do not count: nothing was claimed with them)."""
    return list(db.session.scalars(
        select(Claim).where(Claim.id != claim.id, Claim.status.not_in(("draft", "withdrawn")),
                            Claim.id.in_(select(ClaimDocument.claim_id).where(ClaimDocument.digest == digest)))
        .order_by(Claim.id)))


def download_name(document):
    """The original name with the extension of what is stored (a HEIC photo is served as .jpg)."""
    stem = document.original_name.rsplit(".", 1)[0] if "." in document.original_name else document.original_name
    return f"{stem or document.item}.{TYPES[document.content_type]}"


def response(document):
    """The document's bytes, for the claimant or the claims team (the view decides who): never cached, never
    sniffed as anything else, a PDF in a sandbox."""
    name = download_name(document)
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    fallback = "".join(ch for ch in fallback if ch.isalnum() or ch in "._- ").strip(" .")
    if not fallback.rsplit(".", 1)[0]:
        fallback = f"document.{TYPES[document.content_type]}"
    headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
               "Content-Disposition": f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"}
    if document.content_type == "application/pdf":
        # No script runs, even in a viewer that would; the claim's own pages may show it in a frame (the
        # browser's PDF viewer needs one: <object> and <embed> are closed by the site's object-src 'none').
        headers.update({"Content-Security-Policy": "sandbox; frame-ancestors 'self'", "X-Frame-Options": "SAMEORIGIN"})
    return Response(document.file.content, mimetype=document.content_type, headers=headers)
