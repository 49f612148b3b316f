"""A claim's documents: what a claimant uploads is checked by its content, photos are stored re-encoded (no
EXIF, upright, nothing appended), hostile files are refused with a message and nothing is stored; documents
are stored encrypted under random tokens, counted per claim, found again in other claims, and served never
cached nor sniffed."""
import io
import struct
import zipfile
import zlib

import pillow_heif
import pytest
from PIL import ExifTags, Image, ImageFile
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject
from sqlalchemy import func, select, text

from app.claims import documents
from app.claims.documents import DocumentRefused, accept
from app.claims.models import ClaimDocument, ClaimFile
from app.core.clock import db_now
from app.core.pii import keyed_digest
from app.extensions import db
from tests.support.claims import claim_row, encoded, issued_policy, new_claim, page_image, photo


def refusal(data, filename="材料.jpg"):
    with pytest.raises(DocumentRefused) as refused:
        accept(data, filename)
    assert refused.value.field == "file"
    return refused.value.message


def zipped(files):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        for name, content in files.items():
            bundle.writestr(name, content)
    return archive.getvalue()


def opened(content):
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


# Photos


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "HEIF"])
def test_a_photo_of_every_accepted_kind_is_stored_as_a_jpeg_of_the_same_page(ctx, fmt):
    data = photo((1240, 1754), fmt)
    accepted = accept(data, f"发票.{fmt.lower()}")
    assert accepted.content_type == "image/jpeg" and accepted.content.startswith(b"\xff\xd8\xff")
    assert (accepted.width, accepted.height, accepted.pages) == (1240, 1754, None)
    assert opened(accepted.content).size == (1240, 1754)
    assert accepted.digest == keyed_digest(data)  # of what was received: the same file again is found again
    assert accepted.problem is None


def test_the_type_comes_from_the_content_never_from_the_name(ctx):
    assert accept(photo(fmt="PNG"), "身份证.pdf").content_type == "image/jpeg"
    assert accept(pdf(), "病历.jpg").content_type == "application/pdf"


def test_exif_and_gps_are_dropped_and_a_photo_taken_sideways_is_stored_upright(ctx):
    image = Image.new("RGB", (1600, 1200), "white")
    image.paste((255, 0, 0), (0, 0, 200, 200))  # red in the corner the camera calls top left
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # the phone held upright: the picture is to be turned 90° clockwise
    exif[ExifTags.Base.Make] = "Apple"
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (31.0, 13.0, 50.0),
                                  ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (121.0, 28.0, 20.0)}
    data = encoded(image, "JPEG", exif=exif)
    assert opened(data).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the upload does carry a position

    stored = opened(accept(data, "IMG_0001.JPG").content)
    assert stored.size == (1200, 1600)
    assert not stored.getexif() and not stored.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert "exif" not in stored.info and "icc_profile" not in stored.info
    red, green, blue = stored.getpixel((1100, 100))  # now in the top right corner, as the photographer saw it
    assert red > 200 and green < 60 and blue < 60


def test_a_heic_photo_loses_its_gps_too(ctx):
    exif = Image.Exif()
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (31.0, 13.0, 50.0)}
    data = photo((1000, 1400), "HEIF", exif=exif.tobytes())
    assert pillow_heif.open_heif(io.BytesIO(data)).info.get("exif")
    stored = accept(data, "IMG_0002.HEIC").content
    assert b"Exif" not in stored and not opened(stored).getexif()


def test_a_transparent_screenshot_is_stored_on_white_paper(ctx):
    image = Image.new("RGBA", (800, 600), (0, 0, 0, 0))
    image.paste((0, 0, 0, 255), (100, 100, 700, 500))
    stored = opened(accept(encoded(image, "PNG"), "截图.png").content)
    assert stored.getpixel((10, 10)) >= (250, 250, 250) and stored.getpixel((400, 300)) <= (5, 5, 5)


def test_a_very_large_photo_is_stored_scaled_down(ctx):
    data = encoded(page_image((6000, 4500), "L"), "JPEG")  # 27 MP: accepted, stored at most 16 MP
    accepted = accept(data, "扫描件.jpg")
    assert accepted.width * accepted.height <= documents.MAX_STORED_PIXELS
    assert accepted.width / accepted.height == pytest.approx(6000 / 4500, rel=0.01)
    assert opened(accepted.content).size == (accepted.width, accepted.height)


@pytest.mark.parametrize("appended", [
    b"<html><body><script>alert(document.cookie)</script></body></html>",
    zipped({"index.html": "<script>alert(1)</script>"}),
], ids=["html", "zip"])
def test_whatever_follows_an_image_is_not_stored(ctx, appended):
    accepted = accept(photo() + appended, "发票.jpg")
    assert appended not in accepted.content and b"PK\x03\x04" not in accepted.content
    assert b"<script" not in accepted.content and accepted.content.endswith(b"\xff\xd9")
    assert opened(accepted.content).size == (1240, 1754)


def test_预审_warns_of_a_photo_too_small_or_blank_without_refusing_it(ctx):
    assert accept(photo((360, 480)), "小图.jpg").problem == "图片太小，可能看不清"
    grey_wall = Image.effect_noise((1200, 1600), 3).point(lambda value: value + 120)  # a sheet with nothing on it
    assert accept(encoded(grey_wall, "JPEG"), "白纸.jpg").problem == "图片几乎是空白的，请重新拍摄"
    assert accept(encoded(Image.new("RGB", (1200, 1600), "black"), "PNG"), "黑.png").problem == \
        "图片几乎是空白的，请重新拍摄"
    assert accept(photo((1200, 1600)), "病历.jpg").problem is None


# Refused


def test_an_empty_file_and_one_too_large_are_refused(ctx):
    assert refusal(b"", "发票.jpg") == "“发票.jpg”是空文件，请重新选择"
    too_big = photo() + bytes(documents.MAX_FILE_BYTES)
    assert refusal(too_big, "发票.jpg") == "“发票.jpg”超过 15 MB，请压缩或分页后再上传"


@pytest.mark.parametrize("data, message", [
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(502), "“材料.jpg”是程序文件，不是照片或 PDF，不能上传"),
    (b"\x7fELF\x02\x01\x01" + bytes(505), "“材料.jpg”是程序文件，不是照片或 PDF，不能上传"),
    (b"#!/bin/sh\nrm -rf ~\n", "“材料.jpg”是程序文件，不是照片或 PDF，不能上传"),
    (zipped({"发票.jpg": b"\xff\xd8\xff"}), "“材料.jpg”是压缩包，请解压后逐个上传其中的照片或 PDF"),
    (zipped({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"}),
     "“材料.jpg”是 Word、Excel 等文档，请导出为 PDF 后再上传"),
    (b"<!DOCTYPE html><html><script>alert(1)</script></html>",
     "“材料.jpg”不是可接收的文件格式，请上传 JPG、PNG、HEIC 格式的照片或 PDF 文件"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
     "“材料.jpg”不是可接收的文件格式，请上传 JPG、PNG、HEIC 格式的照片或 PDF 文件"),
    (encoded(page_image((200, 300)), "GIF"),
     "“材料.jpg”不是可接收的文件格式，请上传 JPG、PNG、HEIC 格式的照片或 PDF 文件"),
], ids=["exe", "elf", "script", "zip", "docx", "html", "svg", "gif"])
def test_a_file_of_another_kind_is_refused_whatever_its_name(ctx, data, message):
    assert refusal(data) == message


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "HEIF"])
@pytest.mark.parametrize("lenient", [False, True], ids=["strict", "lenient"])
def test_a_truncated_photo_is_refused(ctx, monkeypatch, fmt, lenient):
    # WeasyPrint turns Pillow's LOAD_TRUNCATED_IMAGES on for the whole process: refused either way.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", lenient)
    data = encoded(Image.effect_noise((1200, 1600), 50), fmt)
    assert refusal(data[:len(data) * 2 // 3], "发票.jpg") == \
        "“发票.jpg”无法完整读取（文件可能已损坏或未传完），请重新拍摄或选择原图"


def bilevel_png(width, height):
    """A black-and-white PNG of width × height, written row by row: a few KB however large it says it is."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    compressor, row = zlib.compressobj(9), bytes(1 + (width + 7) // 8)
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


@pytest.mark.parametrize("size", [(20000, 20000), (8000, 6000)], ids=["400MP", "48MP"])
def test_a_decompression_bomb_is_refused_from_its_header_without_being_decoded(ctx, monkeypatch, size):
    data = bilevel_png(*size)
    assert len(data) < 100_000

    def decode(*args):
        raise AssertionError("decoded")
    monkeypatch.setattr(ImageFile.ImageFile, "load", decode)
    monkeypatch.setattr(Image.Image, "load", decode)
    assert refusal(data, "发票.png") == "“发票.png”的像素过多（超过 40 百万像素），请缩小后再上传"


# PDFs


def pdf(pages=1, change=None):
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    if change:
        change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def action(kind, **entries):
    return DictionaryObject({NameObject("/S"): NameObject(kind), **{NameObject(f"/{key}"): value
                                                                     for key, value in entries.items()}})


def test_a_plain_pdf_is_stored_as_received_with_its_pages_counted(ctx):
    data = pdf(3)
    accepted = accept(data, "住院病历.pdf")
    assert (accepted.content, accepted.content_type, accepted.pages, accepted.problem) == \
        (data, "application/pdf", 3, None)
    assert accept(pdf(documents.MAX_PDF_PAGES), "病历.pdf").pages == 30


def test_a_pdf_with_links_as_an_invoice_has_is_accepted(ctx):
    from weasyprint import HTML
    data = HTML(string='<h1>电子发票</h1><p><a href="https://inv-veri.chinatax.gov.cn/">查验</a></p>').write_pdf()
    assert accept(data, "电子发票.pdf").content == data


def open_action_javascript(writer):
    writer.root_object[NameObject("/OpenAction")] = action("/JavaScript", JS=TextStringObject("app.alert(1)"))


def open_action_launch(writer):
    writer.root_object[NameObject("/OpenAction")] = action("/Launch", F=TextStringObject("cmd.exe"))


def document_javascript(writer):  # run when the document opens, from the catalog's name tree
    script = writer._add_object(action("/JavaScript", JS=TextStringObject("this.submitForm('https://example.com/x')")))
    names = DictionaryObject({NameObject("/Names"): ArrayObject([TextStringObject("init"), script])})
    writer.root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): names})


def page_opens_javascript(writer):
    writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): action("/JavaScript",
                                                                                   JS=TextStringObject("x()"))})


def link_on_the_last_page_runs_javascript(writer):
    link = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
        NameObject("/Rect"): ArrayObject([]), NameObject("/A"): writer._add_object(action(
            "/JavaScript", JS=TextStringObject("app.launchURL('https://example.com')")))}))
    writer.pages[-1][NameObject("/Annots")] = ArrayObject([link])


def embedded_file(writer):
    writer.add_attachment("报销单.exe", b"MZ\x90\x00")


def xfa_form(writer):
    writer.root_object[NameObject("/AcroForm")] = DictionaryObject({NameObject("/Fields"): ArrayObject([]),
                                                                    NameObject("/XFA"): TextStringObject("<xdp/>")})


@pytest.mark.parametrize("change", [open_action_javascript, open_action_launch, document_javascript,
                                    page_opens_javascript, link_on_the_last_page_runs_javascript, xfa_form],
                         ids=lambda change: change.__name__)
def test_a_pdf_that_would_run_something_is_refused(ctx, change):
    assert refusal(pdf(2, change), "理赔.pdf") == \
        "“理赔.pdf”含有脚本或自动执行的操作，出于安全考虑不能接收。请用“打印为 PDF”另存后再上传"


def test_a_pdf_carrying_another_file_is_refused(ctx):
    assert refusal(pdf(1, embedded_file), "理赔.pdf") == "“理赔.pdf”内嵌了其他文件，出于安全考虑不能接收。请把每份材料单独上传"


@pytest.mark.parametrize("passwords", [("1234", None), ("", "owner")], ids=["to-open", "owner-only"])
def test_an_encrypted_pdf_is_refused(ctx, passwords):
    data = pdf(1, lambda writer: writer.encrypt(*passwords, algorithm="AES-128"))
    assert refusal(data, "账单.pdf") == "“账单.pdf”已加密或设有权限密码，请去除密码（或“打印为 PDF”另存）后再上传"


def test_a_pdf_of_too_many_pages_is_refused(ctx):
    assert refusal(pdf(40), "病历.pdf") == "“病历.pdf”共 40 页，每份 PDF 最多 30 页，请拆分后分别上传"


def test_a_pdf_with_anything_before_or_after_it_is_refused(ctx):
    html = b"<html><body><script>alert(document.cookie)</script></body></html>\n"
    assert refusal(html + pdf(), "发票.pdf") == "“发票.pdf”开头夹带了其他内容，不是标准的 PDF 文件。请用“打印为 PDF”另存后再上传"
    assert refusal(pdf() + zipped({"a.html": html}), "发票.pdf") == \
        "“发票.pdf”的结尾夹带了其他内容，不是标准的 PDF 文件。请用“打印为 PDF”另存后再上传"


@pytest.mark.parametrize("data", [
    b"%PDF-1.7\ngarbage\n%%EOF\n",
    b"%PDF-1.7\n1 0 obj <</Type /Catalog /Pages 9 0 R>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n",
    b"%PDF-1.7\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"  # a page tree that is its own page
    b"2 0 obj <</Type /Pages /Kids [2 0 R] /Count 1>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n",
], ids=["garbage", "no-pages", "loop"])
def test_a_damaged_pdf_is_refused(ctx, data):
    assert refusal(data, "病历.pdf") == "“病历.pdf”已损坏，无法打开。请重新导出 PDF 后再上传"


# Storing, finding again, serving


def stored(app, claim_number, data=None, name="发票.jpg", item="invoice"):
    with app.app_context():
        accepted = accept(data or photo(), name)
        document = documents.store(claim_row(claim_number), item, accepted, original_name=name, source="desktop",
                                   now=db_now())
        db.session.commit()
        return document.token


def document_of(token):
    return db.session.scalar(select(ClaimDocument).where(ClaimDocument.token == token))


def test_a_document_is_stored_encrypted_under_a_random_token(app, claimant):
    who = claimant()
    data = photo(fmt="PNG")
    first = stored(app, who.claim, data, name="C:\\fakepath\\王小明身份证.png", item="id_card")
    second = stored(app, who.claim, data, name="王小明身份证.png", item="id_card")
    with app.app_context():
        document = document_of(first)
        assert len(first) >= 22 and first != second
        assert (document.item, document.original_name, document.content_type, document.source, document.warning) == \
            ("id_card", "王小明身份证.png", "image/jpeg", "desktop", "")
        assert document.size == len(document.file.content) and document.file.content.startswith(b"\xff\xd8\xff")
        assert document.digest == document_of(second).digest == keyed_digest(data)
        name, content = db.session.execute(text(
            "SELECT d.original_name, f.content FROM claim_document d JOIN claim_file f ON f.document_id = d.id "
            "WHERE d.token = :token"), {"token": first}).one()
        assert "王小明" not in name and not bytes(content).startswith(b"\xff\xd8") and \
            document.file.content[200:264] not in bytes(content)


def test_what_预审_found_is_kept_with_the_document(app, claimant):
    who = claimant()
    with app.app_context():
        assert document_of(stored(app, who.claim, photo((300, 400)))).warning == "图片太小，可能看不清"


def test_a_claim_holds_at_most_forty_documents(app, claimant):
    who = claimant()
    with app.app_context():
        claim, accepted = claim_row(who.claim), accept(photo((500, 700)), "发票.jpg")
        for _ in range(documents.MAX_DOCUMENTS):
            documents.store(claim, "invoice", accepted, original_name="发票.jpg", source="phone", now=db_now())
        db.session.commit()
        with pytest.raises(DocumentRefused) as refused:
            documents.store(claim, "invoice", accepted, original_name="发票.jpg", source="phone", now=db_now())
        assert refused.value.message == "每个理赔最多上传 40 份材料，请删除不需要的文件后再上传"
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(ClaimDocument)
                                 .where(ClaimDocument.claim_id == claim.id)) == 40


def test_a_refused_file_leaves_nothing_stored(app, claimant):
    who = claimant()
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(ClaimFile))
    for data in (b"MZ" + bytes(100), pdf(1, open_action_javascript), bilevel_png(20000, 20000)):
        with pytest.raises(DocumentRefused):
            stored(app, who.claim, data)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ClaimFile)) == before
        assert claim_row(who.claim).documents == []


def test_the_same_file_is_found_in_the_other_claims_it_was_sent_with(app, claimant, member):
    who = claimant()
    data = photo((1000, 1300))
    sent = new_claim(app, who.id, issued_policy(app, who.id), status="submitted")
    withdrawn = new_claim(app, who.id, issued_policy(app, who.id), status="withdrawn")
    stranger = member("别人")
    theirs = new_claim(app, stranger.id, issued_policy(app, stranger.id), status="reviewing")
    their_draft = new_claim(app, stranger.id, issued_policy(app, stranger.id))
    for number in (who.claim, sent, withdrawn, theirs, their_draft):
        stored(app, number, data)
    with app.app_context():
        digest = keyed_digest(data)
        assert [claim.number for claim in documents.duplicates(claim_row(who.claim), digest)] == [sent, theirs]
        assert [claim.number for claim in documents.duplicates(claim_row(sent), digest)] == [theirs]
        assert documents.duplicates(claim_row(who.claim), keyed_digest(photo((1000, 1301)))) == []


def served(app, token):
    """The document's response as the app sends it (after the headers every response gets)."""
    with app.test_request_context():
        return app.process_response(documents.response(document_of(token)))


def test_a_photo_is_served_inline_never_cached_nor_sniffed(app, claimant):
    who = claimant()
    token = stored(app, who.claim, photo(fmt="HEIF"), name="发票 2024.HEIC")
    response = served(app, token)
    with app.app_context():
        assert response.get_data() == document_of(token).file.content
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == \
        "inline; filename=\"2024.jpg\"; filename*=UTF-8''%E5%8F%91%E7%A5%A8%202024.jpg"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]  # the site's own, unchanged
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_pdf_is_served_in_a_sandbox(app, claimant):
    who = claimant()
    response = served(app, stored(app, who.claim, pdf(2), name='bill"\r\nSet-Cookie: a=b.pdf', item="cost_list"))
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Security-Policy"] == "sandbox; frame-ancestors 'self'"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"  # the viewer's frame, on the site's own pages
    assert response.headers["Content-Disposition"] == (
        "inline; filename=\"billSet-Cookie ab.pdf\"; filename*=UTF-8''bill%22Set-Cookie%3A%20a%3Db.pdf")
    assert "Set-Cookie" not in response.headers and response.headers["Cache-Control"] == "private, no-store"
