"""Article-link discovery and pagination on listing pages: eight real Vietnamese sites plus small synthetic pages.

The ground truth for the real pages was written by reading their HTML: each
site's article URLs follow one shape (``SITES[...]["article_re"]``, the kind of
``article_pattern`` an operator would write), a few article links were picked
by hand, and so were a few links that are *not* articles (home, categories,
tags, events, topics, pagination, policy pages). The generic heuristic knows
none of this.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin

import lxml.html
import pytest

from crawler.listings import decode_html, find_article_links, find_next_page

PAGES = Path(__file__).parent / "fixtures" / "vn-pages"

SITES = {
    "baochinhphu": {
        "url": "https://baochinhphu.vn/chinh-sach-va-cuoc-song/chinh-sach-moi.htm",
        "article_re": r"^https://baochinhphu\.vn/[a-z0-9-]+-\d{14,18}\.htm$",
        "headlines": 34,
        "articles": [
            "https://baochinhphu.vn/moi-giao-vien-mam-non-khong-kiem-nhiem-qua-2-nhiem-vu-102260305092012481.htm",
            "https://baochinhphu.vn/de-nghi-sua-doi-luat-hai-quan-102260306102553948.htm",
            "https://baochinhphu.vn/quy-dinh-bao-dam-an-toan-buc-xa-trong-y-te-102260122105314144.htm",
            "https://baochinhphu.vn/pho-thu-tuong-bui-thanh-son-chu-tri-hop-to-cong-tac-ve-bao-dam-an-ninh-nang-luong-102260305141237914.htm",
        ],
        "not_articles": [
            "https://baochinhphu.vn/",
            "https://en.baochinhphu.vn/",
            "https://baochinhphu.vn/kinh-te/ngan-hang.htm",
            "https://baochinhphu.vn/chinh-sach-va-cuoc-song/tham-van-chinh-sach.htm",
            "https://baochinhphu.vn/chu-de/51-luat-duoc-quoc-hoi-thong-qua-tai-ky-hop-thu-10-274.htm",
            "https://baochinhphu.vn/chi-dao-quyet-dinh-cua-chinh-phu-thu-tuong-chinh-phu.htm",
            "https://baochinhphu.vn/tin-moi.htm",
        ],
    },
    "baodautu": {
        "url": "https://baodautu.vn/tai-chinh-chung-khoan-d6/",
        "article_re": r"^https://baodautu\.vn/[a-z0-9-]+-d\d{5,}\.html$",
        "headlines": 32,
        "articles": [
            "https://baodautu.vn/xu-phat-giam-doc-tai-chinh-tap-doan-tien-son-thanh-hoa-vi-thao-tung-co-phieu-d538952.html",
            "https://baodautu.vn/chung-khoan-phien-63-rung-lac-manh-vn-index-ve-1767-diem-d538930.html",
            "https://baodautu.vn/seabank-thong-bao-moi-thau-d538894.html",
            "https://baodautu.vn/buoc-khoi-dau-thuan-loi-cho-tang-truong-2-con-so-d538426.html",
        ],
        "not_articles": [
            "https://baodautu.vn/",
            "https://baodautu.vn/dau-tu-tai-chinh-d6/",
            "https://baodautu.vn/y-te---suc-khoe-d78/",
            "https://baodautu.vn/tai-chinh-chung-khoan-d6/p2",
            "https://baodautu.vn/views_ads/945/",
            "https://baodautu.vn/multimedia.html",
            "https://baodautu.vn/rssMain.html",
        ],
    },
    "cafef": {
        "url": "https://cafef.vn/thi-truong-chung-khoan.chn",
        "article_re": r"^https://cafef\.vn/[a-z0-9-]+-\d{14,18}\.chn$",
        "headlines": 34,
        "articles": [
            "https://cafef.vn/thoi-diem-nang-hang-can-ke-mbs-diem-ten-30-co-phieu-viet-nam-co-kha-nang-lot-ro-chi-so-ftse-18826030622484142.chn",
            "https://cafef.vn/vi-sao-chu-tich-acv-vu-the-phiet-bi-bat-188260306104748303.chn",
            "https://cafef.vn/nong-co-phieu-flc-duoc-giao-dich-tro-lai-188260307095650731.chn",
        ],
        "not_articles": [
            "https://cafef.vn/",
            "https://cafef.vn/xa-hoi.chn",
            "https://cafef.vn/du-lieu/top/ceo.chn",
            "https://cafef.vn/static/chinh-sach-bao-mat.html",
            "https://cafef.vn/nhom-chu-de/emagazine.chn",
            "http://liveboard.cafef.vn/",
        ],
    },
    "dantri": {
        "url": "https://dantri.com.vn/kinh-doanh.htm",
        # category/slug-id articles and video stories; the footer's privacy policy page is not news
        "article_re": (
            r"^https://dantri\.com\.vn/(?!cong-nghe/chinh-sach-bao-mat)"
            r"(?:[a-z0-9-]+/[a-z0-9-]+-\d{17}|video/[a-z0-9-]+-\d{6})\.htm$"
        ),
        "headlines": 49,
        "articles": [
            "https://dantri.com.vn/kinh-doanh/gia-vang-giam-van-cao-hon-the-gioi-gan-20-trieu-dongluong-20260307080054340.htm",
            "https://dantri.com.vn/kinh-doanh/dau-ket-o-trung-dong-nga-huong-loi-tu-xung-dot-20260306205604718.htm",
            "https://dantri.com.vn/bat-dong-san/nha-re-hon-o-to-nguoi-tre-trung-quoc-bo-pho-tim-ve-mua-nha-o-du-an-ma-20260306110524534.htm",
            "https://dantri.com.vn/video/gen-z-chen-chuc-xep-hang-doi-mua-de-so-huu-bac-vang-ngay-than-tai-187977.htm",
        ],
        "not_articles": [
            "https://dantri.com.vn/",
            "https://dantri.com.vn/kinh-doanh/tai-chinh.htm",
            "https://dantri.com.vn/event/my-israel-khong-kich-iran-8375.htm",
            "https://dantri.com.vn/collection/dbiz-4030.htm",
            "https://dantri.com.vn/kinh-doanh/trang-2.htm",
            "https://dantri.com.vn/cong-nghe/chinh-sach-bao-mat-du-lieu-ca-nhan-20190514153010649.htm",
            "https://dantri.com.vn/the-thao/the-thao-suc-ben/aqua-warriors-van-don-bai-tu-long-bay-2025.htm",
            "https://dantri.com.vn/noi-vu/sap-xep-cac-don-vi-hanh-chinh.htm",
            "https://dantri.com.vn/video/kinh-doanh.htm",
        ],
    },
    "nld": {
        "url": "https://nld.com.vn/kinh-te.htm",
        "article_re": r"^https://nld\.com\.vn/[a-z0-9-]+-\d{18}\.htm$",
        "headlines": 37,
        "articles": [
            "https://nld.com.vn/nhung-sai-sot-ho-kinh-doanh-thuong-gap-khi-thuc-hien-quy-dinh-moi-ve-thue-196260307071308923.htm",
            "https://nld.com.vn/khong-de-dut-gay-nguon-cung-xang-dau-196260305212903273.htm",
            "https://nld.com.vn/video-ngoai-chien-su-trung-dong-dieu-gi-dang-kim-ham-da-tang-cua-chung-khoan-196260305175419776.htm",
        ],
        "not_articles": [
            "https://nld.com.vn/",
            "https://nld.com.vn/kinh-te/kinh-doanh.htm",
            "https://nld.com.vn/quoc-te/quan-su-quoc-phong.htm",
            "https://nld.com.vn/thong-tin-tai-khoan.htm",
            "https://nld.com.vn/static/dieu-khoan-va-chinh-sach.htm",
            "https://thitruong.nld.com.vn/",
            "https://nld.com.vn/dang-ky-danh-cho-ban-doc-vip.htm",
        ],
    },
    "tuoitre": {
        "url": "https://tuoitre.vn/kinh-doanh.htm",
        "article_re": r"^https://tuoitre\.vn/[a-z0-9-]+-\d{16,17}\.htm$",
        "headlines": 15,
        "articles": [
            "https://tuoitre.vn/chien-su-day-gia-hoa-nhap-khau-dip-8-3-tang-manh-20260307075519174.htm",
            "https://tuoitre.vn/giam-doc-tai-chinh-tap-doan-tien-son-thanh-hoa-dung-nhieu-tai-khoan-thao-tung-chung-khoan-2026030707011493.htm",
            "https://tuoitre.vn/den-sieu-thi-dip-8-3-trao-mon-qua-nho-gui-loi-yeu-lon-20260307074732188.htm",
        ],
        "not_articles": [
            "https://tuoitre.vn/",
            "https://tuoitre.vn/kinh-doanh/tai-chinh.htm",
            "https://tuoitre.vn/gia-vang-e592.htm",
            "https://tuoitre.vn/chuyen-doi-so-ho-kinh-doanh-e1999.htm",
            "https://tuoitre.vn/tin-moi-nhat.htm",
            "https://sso.tuoitre.vn/bookmarked-articles",
            "https://tuoitre.vn/tuoi-tre-50-nam.htm",
        ],
    },
    "vietnamnet": {
        "url": "https://vietnamnet.vn/kinh-doanh",
        "article_re": r"^https://vietnamnet\.vn/[a-z0-9-]+-\d{7}\.html$",
        "headlines": 31,
        "articles": [
            "https://vietnamnet.vn/co-phieu-flc-duoc-giao-dich-tro-lai-2495349.html",
            "https://vietnamnet.vn/gia-vang-hom-nay-7-3-2026-hoi-phuc-vang-mieng-sjc-van-kho-tang-manh-2495297.html",
            "https://vietnamnet.vn/sai-lam-ban-can-ho-2-ty-o-cau-giay-vai-nam-quay-lai-thue-nha-2494723.html",
        ],
        "not_articles": [
            "https://vietnamnet.vn/",
            "https://vietnamnet.vn/kinh-doanh/tai-chinh",
            "https://vietnamnet.vn/gia-vang-tag14642850852768478603.html",
            "https://vietnamnet.vn/kinh-doanh-page1",
            "https://vietnamnet.vn/du-lich/chuyen-cua-nhung-dong-song-sk0008F1.html",
            "https://vietnamnet.vn/tin-tuc-24h?cate=000003",
            "https://vietnamnet.vn/chinh-tri/ky-nguyen-moi-cua-dan-toc",
        ],
    },
    "vnexpress": {
        "url": "https://vnexpress.net/kinh-doanh",
        "article_re": r"^https://vnexpress\.net/[a-z0-9-]+-\d{7}\.html$",
        "headlines": 50,
        "articles": [
            "https://vnexpress.net/gia-vang-the-gioi-tang-manh-dau-tho-vuot-90-usd-5047621.html",
            "https://vnexpress.net/vn-index-mat-hon-40-diem-5047451.html",
            "https://vnexpress.net/masan-day-manh-mang-khoang-san-5047115.html",
        ],
        "not_articles": [
            "https://vnexpress.net/",
            "https://vnexpress.net/kinh-doanh/chung-khoan",
            "https://vnexpress.net/topic/ha-noi-26482",
            "https://vnexpress.net/kinh-doanh-p2",
            "https://vnexpress.net/lich-van-nien",
            "https://vnexpress.net/tin-tuc-24h",
        ],
    },
}

# What the listing pages' own pagination says (read from their HTML); the others load more items by script.
NEXT_PAGES = {
    "baodautu": "https://baodautu.vn/tai-chinh-chung-khoan-d6/p2",
    "dantri": "https://dantri.com.vn/kinh-doanh/trang-2.htm",
    "vietnamnet": "https://vietnamnet.vn/kinh-doanh-page1",  # 0-based: "kinh-doanh-page1" is labelled "2"
    "vnexpress": "https://vnexpress.net/kinh-doanh-p2",
    "baochinhphu": None,
    "cafef": None,
    "nld": None,
    "tuoitre": None,
}


def _page(site: str) -> bytes:
    return (PAGES / f"{site}_list.html").read_bytes()


def _true_articles(site: str) -> set[str]:
    """Every link on the page whose URL has the site's article shape (hand-written regex, stdlib only)."""
    spec = SITES[site]
    document = lxml.html.document_fromstring(decode_html(_page(site)))
    urls = {urljoin(spec["url"], href.strip()).split("#")[0] for href in document.xpath("//a/@href")}
    return {url for url in urls if re.match(spec["article_re"], url)}


@pytest.fixture(scope="module")
def found() -> dict[str, list[str]]:
    return {site: find_article_links(_page(site), spec["url"]) for site, spec in SITES.items()}


@pytest.mark.parametrize("site", sorted(SITES))
def test_listing_page_yields_its_headlines(site, found):
    links = found[site]
    spec = SITES[site]
    assert len(links) >= 0.9 * spec["headlines"], f"{site}: only {len(links)} of ~{spec['headlines']} headlines"
    assert len(links) == len(set(links)), "links are deduplicated"
    for url in spec["articles"]:
        assert url in links, f"{site}: article missed: {url}"
    for url in spec["not_articles"]:
        assert url not in links, f"{site}: non-article taken for an article: {url}"


@pytest.mark.parametrize("site", sorted(SITES))
def test_listing_precision_and_recall_against_the_sites_url_shape(site, found):
    links = set(found[site])
    truth = _true_articles(site)
    assert len(truth) == SITES[site]["headlines"], "the fixture and its hand count agree"
    hits = len(links & truth)
    precision = hits / len(links) if links else 0.0
    recall = hits / len(truth)
    print(f"{site:12} found {len(links):3}  articles {len(truth):3}  precision {precision:.2f}  recall {recall:.2f}")
    assert precision >= 0.95, f"{site}: not articles: {sorted(links - truth)[:5]}"
    assert recall >= 0.9, f"{site}: missed: {sorted(truth - links)[:5]}"


def test_hand_labelled_sample_precision_and_recall(found):
    """The hand-picked links of all sites together: a labelled sample of ~100 links."""
    true_pos = false_pos = false_neg = 0
    for site, spec in SITES.items():
        links = set(found[site])
        true_pos += sum(url in links for url in spec["articles"])
        false_neg += sum(url not in links for url in spec["articles"])
        false_pos += sum(url in links for url in spec["not_articles"])
    precision = true_pos / (true_pos + false_pos)
    recall = true_pos / (true_pos + false_neg)
    labelled = sum(len(spec["articles"]) + len(spec["not_articles"]) for spec in SITES.values())
    print(f"hand-labelled sample: {labelled} links, precision {precision:.2f}, recall {recall:.2f}")
    assert precision >= 0.9
    assert recall >= 0.9


def test_links_come_in_page_order():
    html = (
        '<div class="list"><h3><a href="/b-second-story-in-the-list-1000002.html">Second story of the day here</a></h3>'
        '<h3><a href="/a-first-story-in-the-list-1000001.html">First story of the day here</a></h3>'
        '<h3><a href="/c-third-story-in-the-list-1000003.html">Third story of the day here</a></h3>'
        '<a href="/b-second-story-in-the-list-1000002.html"><img src="x.jpg"></a></div>'
    )
    assert find_article_links(html, "https://news.example/") == [
        "https://news.example/b-second-story-in-the-list-1000002.html",
        "https://news.example/a-first-story-in-the-list-1000001.html",
        "https://news.example/c-third-story-in-the-list-1000003.html",
    ]


def test_article_pattern_decides_alone():
    spec = SITES["dantri"]
    pattern = r"^https://dantri\.com\.vn/kinh-doanh/[a-z0-9-]+-\d{17}\.htm$"
    links = find_article_links(_page("dantri"), spec["url"], pattern)
    assert links, "the pattern matches the section's articles"
    assert all(re.match(pattern, url) for url in links)
    assert spec["articles"][0] in links
    assert not any("/video/" in url or "/bat-dong-san/" in url for url in links)


def test_article_pattern_can_admit_what_the_heuristic_refuses():
    html = '<a href="/ban-tin/quoc-phong">Bản tin quốc phòng</a><a href="/ban-tin/kinh-te">Kinh tế</a>'
    assert find_article_links(html, "https://example.vn/") == []
    assert find_article_links(html, "https://example.vn/", r"/ban-tin/quoc") == ["https://example.vn/ban-tin/quoc-phong"]


def test_links_are_normalised_and_stay_on_site():
    html = (
        '<main>'
        '<a href="/tin/nga-viet-nam-hop-tac-quoc-phong-123456.html?utm_source=home&amp;utm_medium=box#comments">'
        'Nga và Việt Nam thúc đẩy hợp tác quốc phòng</a>'
        '<a href="https://m.example.vn/tin/tau-ho-ve-ghe-cang-cam-ranh-123457.html">Tàu hộ vệ Nga ghé cảng Cam Ranh</a>'
        '<a href="https://other.example.com/tin/bai-viet-cua-trang-khac-123458.html">Bài viết của một trang khác</a>'
        '<a href="mailto:toasoan@example.vn">Liên hệ tòa soạn qua thư điện tử</a>'
        '<a href="javascript:void(0)">Xem thêm tin tức mới nhất hôm nay</a>'
        '<a href="/tin/anh-tau-ho-ve-123459.jpg">Ảnh tàu hộ vệ lớp Gepard ở cảng</a>'
        '<a href="/tin/thiet-bi-quan-su-moi-123460.html">Thiết bị quân sự mới được giới thiệu</a>'
        '</main>'
    )
    assert find_article_links(html, "https://www.example.vn/quoc-phong") == [
        "https://www.example.vn/tin/nga-viet-nam-hop-tac-quoc-phong-123456.html",
        "https://m.example.vn/tin/tau-ho-ve-ghe-cang-cam-ranh-123457.html",
        "https://www.example.vn/tin/thiet-bi-quan-su-moi-123460.html",
    ]


def test_slug_site_without_ids_uses_slug_and_headline():
    """A site whose article URLs carry neither ids nor dates (as Krasnaya Zvezda's do)."""
    html = """<html><body>
      <nav><a href="/rubrics/armiya">Армия</a><a href="/rubrics/vtorostepennye-novosti-i-sobytiya-nedeli">Второстепенные новости и события недели</a></nav>
      <div class="news-list">
        <h2><a href="/news/rossiya-i-vetnam-obsudili-voenno-tekhnicheskoe-sotrudnichestvo/">Россия и Вьетнам обсудили военно-техническое сотрудничество</a></h2>
        <h2><a href="/news/vetnamskie-moryaki-pribyli-v-kronshtadt/">Вьетнамские моряки прибыли в Кронштадт на праздник</a></h2>
        <a href="/news/vetnamskie-moryaki-pribyli-v-kronshtadt/">Читать</a>
        <a href="/rubrics/flot">Флот</a>
        <a href="/about-the-newspaper-and-editorial-board/">О газете</a>
      </div>
      <footer><a href="/pravila-ispolzovaniya-materialov-sayta/">Правила использования материалов сайта и ссылок</a></footer>
    </body></html>"""
    assert find_article_links(html, "https://redstar.example/") == [
        "https://redstar.example/news/rossiya-i-vetnam-obsudili-voenno-tekhnicheskoe-sotrudnichestvo/",
        "https://redstar.example/news/vetnamskie-moryaki-pribyli-v-kronshtadt/",
    ]


def test_thumbnail_link_counts_by_its_alt_text():
    html = (
        '<div><a href="/news/krasnaya-zvezda-i-vetnam/"><img src="1.jpg" alt="Красная звезда и Вьетнам: полвека дружбы"></a>'
        '<a href="/news/some-photo-gallery/"><img src="2.jpg" alt="Фото"></a></div>'
    )
    assert find_article_links(html, "https://redstar.example/") == ["https://redstar.example/news/krasnaya-zvezda-i-vetnam/"]


def test_dated_site_keeps_dated_links():
    """A site whose article URLs carry the date (RG.ru style, WordPress style)."""
    html = """<div>
      <a href="/2026/03/07/minoborony-rossii-i-v-etnama-proveli-konsultacii.html">Минобороны России и Вьетнама провели консультации</a>
      <a href="/2026/03/06/korabli-tof-zashli-v-kamran.html">Корабли ТОФ зашли в Камрань</a>
      <a href="/2026/03/05/forum-armiya.html"><img src="a.jpg"></a>
      <a href="/rubric/politika/">Политика и общество: все новости раздела за неделю</a>
      <a href="/2026/03/">Архив</a>
    </div>"""
    assert find_article_links(html, "https://rg.example/rubric/armiya/") == [
        "https://rg.example/2026/03/07/minoborony-rossii-i-v-etnama-proveli-konsultacii.html",
        "https://rg.example/2026/03/06/korabli-tof-zashli-v-kamran.html",
        "https://rg.example/2026/03/05/forum-armiya.html",
    ]


def test_russian_page_in_cp1251_with_late_charset_is_decoded():
    padding = "<script>var x = 1;</script>" * 400  # pushes the <meta charset> past libxml2's first look
    html = (
        f"<html><head>{padding}<meta charset='windows-1251'></head><body><div>"
        "<a href='/politics/rossiya-vetnam-soglashenie/'>Россия и Вьетнам подписали соглашение о сотрудничестве</a>"
        "</div></body></html>"
    ).encode("cp1251")
    assert decode_html(html).count("Россия и Вьетнам") == 1
    assert find_article_links(html, "https://ria.example/politics/") == [
        "https://ria.example/politics/rossiya-vetnam-soglashenie/"
    ]


def test_base_href_is_honoured():
    html = '<head><base href="https://cdn.example.vn/tin/"></head><a href="bai-viet-dai-dong-123456.html">Bài viết có tiêu đề đủ dài ở đây</a>'
    assert find_article_links(html, "https://example.vn/") == ["https://cdn.example.vn/tin/bai-viet-dai-dong-123456.html"]


@pytest.mark.parametrize("body", [b"", b"   ", "", b"\x00\x01\x02\xff", b"<html></html>", b"not html at all"])
def test_empty_or_garbage_page_gives_no_links(body):
    assert find_article_links(body, "https://example.vn/") == []
    assert find_next_page(body, "https://example.vn/") is None


def test_bytes_and_text_give_the_same_links():
    spec = SITES["vnexpress"]
    body = _page("vnexpress")
    assert find_article_links(body.decode("utf-8"), spec["url"]) == find_article_links(body, spec["url"])


# --- pagination -----------------------------------------------------------------


@pytest.mark.parametrize("site", sorted(NEXT_PAGES))
def test_next_page_of_real_listings(site):
    assert find_next_page(_page(site), SITES[site]["url"]) == NEXT_PAGES[site]


@pytest.mark.parametrize(
    ("site", "current", "expected"),
    [
        ("vnexpress", "https://vnexpress.net/kinh-doanh-p2", "https://vnexpress.net/kinh-doanh-p3"),
        ("dantri", "https://dantri.com.vn/kinh-doanh/trang-3.htm", "https://dantri.com.vn/kinh-doanh/trang-4.htm"),
        ("baodautu", "https://baodautu.vn/tai-chinh-chung-khoan-d6/p9", "https://baodautu.vn/tai-chinh-chung-khoan-d6/p10"),
        ("vietnamnet", "https://vietnamnet.vn/kinh-doanh-page4", "https://vietnamnet.vn/kinh-doanh-page5"),
        ("vnexpress", "https://vnexpress.net/kinh-doanh-p4", None),  # the page links no p5
    ],
)
def test_next_page_is_page_n_plus_one_of_the_same_listing(site, current, expected):
    assert find_next_page(_page(site), current) == expected


@pytest.mark.parametrize(
    ("html", "current", "expected"),
    [
        ('<head><link rel="next" href="/quoc-phong?page=2"></head>', "https://ex.vn/quoc-phong", "https://ex.vn/quoc-phong?page=2"),
        ('<a rel="prev" href="/a?page=1">«</a><a rel="next nofollow" href="/a?page=3">»</a>', "https://ex.vn/a?page=2", "https://ex.vn/a?page=3"),
        ('<div class="paging"><a href="/tin-tuc/trang-3.html">Trang sau ›</a></div>', "https://ex.vn/tin-tuc/trang-2.html", "https://ex.vn/tin-tuc/trang-3.html"),
        ('<a href="/list?start=20">Tiếp theo</a>', "https://ex.vn/list", "https://ex.vn/list?start=20"),
        ('<a href="/news/?PAGEN_1=2">Следующая</a>', "https://ex.ru/news/", "https://ex.ru/news/?PAGEN_1=2"),
        ('<a href="/blog/page/3/">Next</a>', "https://ex.com/blog/page/2/", "https://ex.com/blog/page/3/"),
        ('<a href="/blog/page/2/" aria-label="Next page"><svg></svg></a>', "https://ex.com/blog/", "https://ex.com/blog/page/2/"),
        ('<a href="/a/page/2/">2</a><a href="/a/page/3/">3</a><a href="/a/page/9/">»</a>', "https://ex.com/a/", "https://ex.com/a/page/2/"),
        ('<a href="/a/page/9/">»</a>', "https://ex.com/a/page/2/", None),  # an arrow to the last page is not "next"
        ('<a href="/a/trang-2.htm">2</a>', "https://ex.vn/a/trang-2.htm", None),  # the last page
        ('<a href="/b?page=2">2</a>', "https://ex.vn/a", None),  # another listing's page 2
        ('<a href="https://other.example/a?page=2">Next</a>', "https://ex.vn/a", None),  # another site
    ],
)
def test_next_page_rules(html, current, expected):
    assert find_next_page(html, current) == expected
