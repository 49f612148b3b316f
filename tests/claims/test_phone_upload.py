"""用手机拍照上传: the claim page's code, opened by the account's own WeChat (anyone else's is refused), takes
photo after photo from the phone's camera; each batch is on the claim, and on the desktop's list, as it arrives."""
import io
import re

from app.auth.models import User
from app.extensions import db
from tests.support.agreements import accept
from tests.support.claims import claim_row, issued_policy, new_claim, unique_photo
from tests.support.web import HX, token
from tests.support.wechat import Phone, bridge_token


def signed_in_wechat_user(app, desktop, phone, nickname):
    d = desktop()
    p = phone()
    p.authorize(d.token, user="new", nickname=nickname)
    p.press(d.token, "confirm")
    d.poll()
    accept(d.client, d.client.get("/agreements/accept?next=/").get_data(as_text=True))
    with app.app_context():
        user_id = db.session.query(User.id).filter(User.nickname == nickname).scalar()
    return d.client, user_id


def test_photos_taken_on_the_phone_arrive_on_the_claim_one_batch_after_another(app, desktop, phone):
    client, user_id = signed_in_wechat_user(app, desktop, phone, "拍照理赔人")
    number = new_claim(app, user_id, issued_policy(app, user_id))
    page = client.get(f"/claims/{number}").get_data(as_text=True)
    assert "用手机拍照上传" in page
    started = client.post(f"/claims/{number}/phone", data={"csrf_token": token(page)})
    html = started.get_data(as_text=True)
    assert started.status_code == 200 and 'class="qr-image"' in html and "已收到的材料（0 份）" in html
    poll_url = re.search(r'hx-get="(/claims/photos/[^"]+/status)"', html).group(1)
    code = bridge_token(app, client, poll_url, "qrc", "/claims")

    stranger = Phone(app, pages="/m/claim-photos")
    response, refused = stranger.authorize(code, user="new", nickname="路人乙")
    assert response.status_code == 409 and "请使用该账号绑定的微信扫码确认" in refused

    owner = Phone(app, pages="/m/claim-photos")
    _, phone_page = owner.authorize(code, user="new", nickname="拍照理赔人")
    assert number in phone_page and 'capture="environment"' in phone_page and "医疗费用发票" in phone_page
    for batch, (item, count) in enumerate((("invoice", 2), ("diagnosis", 1)), start=1):
        files = [(io.BytesIO(unique_photo()), f"IMG_00{batch}{i}.HEIC.jpg") for i in range(count)]
        response = owner.client.post(f"/m/claim-photos/{code}/confirm", content_type="multipart/form-data",
                                     data={"csrf_token": owner.csrf, "item": item, "files": files})
        shown = response.get_data(as_text=True)
        assert response.status_code == 200 and f"已上传 {count} 份，可以继续拍照上传" in shown
        listed = client.get(f"/claims/{number}/received", headers=HX).get_data(as_text=True)
        assert f"已收到的材料（{3 if batch == 2 else 2} 份）" in listed and "手机上传" in listed
    assert "手机已连接" in client.get(poll_url, headers=HX).get_data(as_text=True)

    response = owner.client.post(f"/m/claim-photos/{code}/confirm", content_type="multipart/form-data",
                                 data={"csrf_token": owner.csrf, "item": "invoice",
                                       "files": [(io.BytesIO(b"MZ\x90\x00" + b"\x00" * 500), "virus.jpg")]})
    assert response.status_code == 422 and "virus.jpg" in response.get_data(as_text=True)
    with app.app_context():
        claim = claim_row(number)
        assert sorted((d.item, d.source) for d in claim.documents) == [
            ("diagnosis", "phone"), ("invoice", "phone"), ("invoice", "phone")]

    _, done = owner.press(code, "cancel")
    assert "上传已结束，请回到电脑上查看并提交" in done
    page = client.get(f"/claims/{number}").get_data(as_text=True)
    assert "已上传 2 份" in page and "已上传 1 份" in page
