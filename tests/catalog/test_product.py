"""Product page: insurer, plans side by side with coverage tables, terms, documents, FAQ."""
import re


def test_product_page_shows_what_a_buyer_compares(client):
    html = client.get("/products/anxin-million-medical").get_data(as_text=True)
    assert "<h1>安心百万医疗2026</h1>" in html
    assert "嘉禾健康保险股份有限公司" in html
    assert html.count('<article class="plan panel"') == 2 and "基础版" in html and "升级版" in html
    # coverage table per plan: item, limit, deductible, notes
    assert re.search(r"<th scope=\"row\">一般医疗保险金</th>\s*<td>200万</td>\s*<td>1万</td>", html)
    assert "质子重离子医疗" in html
    assert "出生满28天–65周岁" in html and "保障期限" in html and "30天" in html
    assert "保证续保20年" in html
    assert "演示数据" in html


def test_documents_are_linked_and_readable(client):
    html = client.get("/products/anxin-million-medical").get_data(as_text=True)
    for kind in ("clauses", "notice", "health"):
        assert f'href="/products/anxin-million-medical/documents/{kind}"' in html
    doc = client.get("/products/anxin-million-medical/documents/clauses").get_data(as_text=True)
    assert "<h1>安心百万医疗2026保险条款</h1>" in doc and "第八条 犹豫期" in doc
    health = client.get("/products/anxin-million-medical/documents/health").get_data(as_text=True)
    assert "健康告知" in health and "恶性肿瘤" in health


def test_faq_is_on_the_page(client):
    html = client.get("/products/kanghu-lifetime-ci").get_data(as_text=True)
    assert '<details class="faq"><summary>重疾险和医疗险有什么区别？</summary>' in html


def test_unknown_product_or_document_is_a_chinese_404(client):
    for path in ("/products/no-such-thing", "/products/anxin-million-medical/documents/secret",
                 "/products/anxin-million-medical/documents/../notice"):
        response = client.get(path)
        assert response.status_code == 404
        assert "页面不存在" in response.get_data(as_text=True)


def test_calculator_only_asks_for_factors_the_rate_table_uses(client):
    medical = client.get("/products/anxin-million-medical").get_data(as_text=True)
    assert 'name="social_security"' in medical and 'name="gender"' in medical
    assert 'value="monthly"' in medical
    accident = client.get("/products/changxing-accident").get_data(as_text=True)
    assert 'name="social_security"' not in accident and 'name="gender"' not in accident
    assert 'value="monthly"' not in accident
