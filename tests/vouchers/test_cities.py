"""An offer limited to some cities (Offer.cities): its vouchers are redeemed only at its partner's stores in those
cities, a store elsewhere is told why and the voucher stays unused; the offer's page, the voucher's and the list
of offers say where it can be used."""
from sqlalchemy import select

from app.extensions import db
from app.vouchers.models import Voucher
from tests.support.vouchers import claimed_code, redeem


def test_a_store_outside_the_offers_cities_is_refused_and_one_inside_redeems(app, customer, staff_of, make_offer):
    code = claimed_code(customer.client, make_offer("jiechi", cities="北京"))
    shanghai = staff_of("洁驰洗车·上海徐汇店")
    response = shanghai.client.get(f"/partner/redeem?code={code}")
    assert response.status_code == 422
    assert "该券仅限北京的门店使用，不能在本店（上海）核销" in response.get_data(as_text=True)
    response = redeem(shanghai, code)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "该券仅限北京的门店使用" in body and "确认核销" not in body
    with app.app_context():
        assert db.session.scalar(select(Voucher.status).where(Voucher.user_id == customer.id)
                                 .order_by(Voucher.id.desc())) == "unused"
    response = redeem(staff_of("洁驰洗车·北京海淀店"), code)
    assert response.status_code == 200 and "核销成功" in response.get_data(as_text=True)


def test_an_offer_without_cities_is_redeemed_at_every_store_of_its_partner(app, customer, staff_of, make_offer):
    code = claimed_code(customer.client, make_offer("lanjing", title="到处可用的券"))
    assert redeem(staff_of("蓝鲸汽车美容·上海浦东店"), code).status_code == 200


def test_the_pages_say_where_an_offer_can_be_used(app, customer, make_offer):
    offer_id = make_offer("lanjing", title="只在深圳广州的券", cities="深圳、广州")
    page = customer.client.get(f"/offers/{offer_id}").get_data(as_text=True)
    assert "仅限深圳、广州的门店使用" in page
    assert "蓝鲸汽车美容·深圳南山店" in page and "蓝鲸汽车美容·广州天河店" in page
    assert "蓝鲸汽车美容·上海浦东店" not in page
    code = claimed_code(customer.client, offer_id)
    voucher = customer.client.get(f"/me/vouchers/{code}").get_data(as_text=True)
    assert "仅限深圳、广州的门店使用" in voucher and "上海浦东店" not in voucher
    listed = customer.client.get("/offers?city=上海").get_data(as_text=True)
    assert "只在深圳广州的券" not in listed
    listed = customer.client.get("/offers?city=广州").get_data(as_text=True)
    assert "只在深圳广州的券" in listed
    everywhere = customer.client.get(f"/offers/{make_offer('lanjing')}").get_data(as_text=True)
    assert "上海、广州、深圳的全部门店" in everywhere and "蓝鲸汽车美容·上海浦东店" in everywhere
