"""Article extraction: golden tests on real Vietnamese news pages, the cleanup on the seed
articles, decoding, junk input, and the ``newsmon extract`` command."""

from __future__ import annotations

import gzip
import http.server
import json
import threading
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cleanup import clean_article_text
from crawler.extract import EXTRACTOR_VERSION, extract_article
from scheduler import cli

FIXTURES = Path(__file__).parent / "fixtures"
VN_PAGES = FIXTURES / "vn-pages"
SEEDS = FIXTURES / "seeds"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


# Read off each page's HTML by hand: headline, publication time (converted from +07:00),
# the body's first and last sentences, and strings of the page that are not the story
# (sidebars, related boxes, captions, credits, widgets).
GOLDEN = {
    "baochinhphu_article": dict(
        title="Chính sách mới có hiệu lực từ tháng 3/2026",
        published=utc(2026, 3, 1, 2, 51),
        author=None,
        first="Tháng 3/2026 có nhiều chính sách mới có hiệu lực, nổi bật là các quy định liên quan đến bất động sản; cư trú; tài khoản ngân hàng…",
        last="- Đồng bào dân tộc thiểu số ở các xã đặc biệt khó khăn theo quy định của pháp luật.",
        absent=["Tải ứng dụng", "BÁO ĐIỆN TỬ CHÍNH PHỦ", "Tham khảo thêm", "Chính sách mới có hiệu lực từ tháng 2/2026",
                "Châu Âu: Nhiều chính sách mới có hiệu lực năm 2026"],
    ),
    "baodautu_article": dict(
        title="Xử phạt Giám đốc tài chính Tập đoàn Tiên Sơn Thanh Hoá vì thao túng cổ phiếu",
        published=utc(2026, 3, 7, 1, 47),
        author="Nguyên Minh",
        first="Ông Tống Anh Linh - Giám đốc tài chính của CTCP Tập đoàn Tiên Sơn Thanh Hóa - đã sử dụng 30 tài khoản chứng khoán để liên tục thực hiện việc mua, bán cổ phiếu AAT nhằm tạo ra cung, cầu giả tạo.",
        last="Tổ chức kiểm toán cũng có ý kiến ngoại trừ đối với báo cáo tài chính của công ty này trong vòng 2 năm trước.",
        absent=["Giao dịch Hợp đồng tương lai VN30 giảm gần 20% trong tháng 2/2026", "TIN LIÊN QUAN",
                "Một cá nhân bị xử phạt vì dùng 19 tài khoản thao túng giá cổ phiếu PAS",
                "Xử phạt hai cá nhân thao túng cổ phiếu SJS", "Diễn biến cổ phiếu AAT trong giai đoạn 2021 - 2023",
                "Bình luận bài viết này", "#xử phạt thao túng chứng khoán"],
    ),
    "cafef_article": dict(
        title="Thời điểm nâng hạng cận kề, MBS điểm tên 30 cổ phiếu Việt Nam có khả năng lọt rổ chỉ số FTSE",
        published=utc(2026, 3, 6, 17, 1),  # printed 2026-03-07T00:01:00 without an offset: Hanoi time
        author="Dương Ngọc",
        first="“Sau tháng 9/2026, dòng vốn thụ động (passive) ETF tham chiếu theo FTSE Emerging sẽ bắt đầu giải ngân.",
        last="MBS cũng lưu ý rằng danh mục trên có thể sẽ có sự thay đổi và chỉ sử dụng để tham khảo vào thời điểm công bố chính thức do sự thay đổi về thời điểm chốt dữ liệu của FTSE.",
        absent=["Nhịp sống thị trường", "Một cổ phiếu trên HOSE bất ngờ", "Link bài gốc", "TIN MỚI"],
    ),
    "cafef_article_batdongsan": dict(
        title="Tăng hỗ trợ, giảm áp lực tài chính khi chuyển mục đích sử dụng đất",
        published=utc(2026, 3, 7, 2, 40),
        author="Hồ Hương",
        first="Bộ Tài chính cho biết các quy định mới về tiền sử dụng đất đã được điều chỉnh theo hướng tháo gỡ vướng mắc, giảm nghĩa vụ tài chính trong một số trường hợp chuyển mục đích sang đất ở, đồng thời duy trì chính sách miễn, giảm và ghi nợ đối với nhóm đối tượng yếu thế theo quy định của Luật Đất đai năm 2024.",
        last="qua đó góp phần giảm áp lực tài chính cho người dân khi thực hiện chuyển mục đích sử dụng đất sang đất ở theo quy định của pháp luật.",
        absent=["Đại Đoàn kết", "Ảnh minh hoạ", "Siêu đô thị 18 tỷ USD", "daidoanket.vn"],
    ),
    "dantri_article": dict(
        title="Giá vàng giảm, vẫn cao hơn thế giới gần 20 triệu đồng/lượng",
        published=utc(2026, 3, 7, 1, 7, 18),
        author="Tri Túc",
        first="Giá vàng trong nước tiếp tục giảm, xuống mức 183,8 triệu đồng/lượng ở chiều bán ra với vàng miếng SJC.",
        last="Tỷ giá USD tại Sở giao dịch Ngân hàng Nhà nước mua vào - bán ra tiếp tục tăng nhẹ, hiện ở mức: 23.855-26.259 đồng.",
        absent=["Giá vàng miếng SJC giảm, người mua lỗ gần 3 triệu đồng/lượng", "Đọc nhiều trong Kinh doanh",
                "Giá xăng dầu tăng mạnh, có loại tăng hơn 7.000 đồng/lít"],
    ),
    "nld_article": dict(
        title="Những sai sót hộ kinh doanh thường gặp khi thực hiện quy định mới về thuế",
        published=utc(2026, 3, 7, 1, 6),
        author="Minh Chiến",
        first="Không ít hộ kinh doanh chưa quen với việc quản lý dữ liệu và chứng từ điện tử, đặc biệt khi bắt đầu sử dụng hóa đơn điện tử hoặc phần mềm bán hàng.",
        last="nhưng tổng mức trừ không vượt quá 500 triệu đồng/năm.",
        absent=["Hộ kinh doanh phải kê khai tất cả tài khoản nhận tiền bán hàng từ ngày 5-3",
                "Chính phủ quy định chi tiết ngưỡng doanh thu miễn các loại thuế với hộ kinh doanh",
                "Chuyên gia về thuế đã nêu một số sai sót phổ biến", "Bình luận (0)"],
    ),
    "tuoitre_article": dict(
        title="Chiến sự đẩy giá hoa nhập khẩu dịp 8-3 tăng mạnh",
        published=utc(2026, 3, 7, 1, 1, 53),
        author="NHẬT XUÂN, NGHI VŨ",
        first="Xung đột ở khu vực Trung Đông khiến các shop hoa ghi nhận tình trạng hoa nhập khẩu khan hiếm, tăng giá do chi phí vận chuyển trong dịp lễ 8-3 năm nay.",
        last="Những sản phẩm này có hình thức lạ mắt, vui nhộn và mang tính thiết thực nên được nhiều khách hàng lựa chọn, dù nhược điểm là rau củ tươi nên không thể bảo quản lâu như hoa.",
        absent=["Xung đột ở Trung Đông khiến xuất khẩu Việt lao đao vì phụ phí của logistics",
                "Theo cửa hàng hoa, một bó hoa hồng từ 10 - 20 bông", "Tối đa: 1500 ký tự",
                "Hiện chưa có bình luận nào", "Xuất khẩu ứng phó thế nào với chiến sự Trung Đông?"],
    ),
    "vietnamnet_article": dict(
        title="Cổ phiếu FLC được giao dịch trở lại",
        published=utc(2026, 3, 7, 1, 52, 11),
        author="Duy Anh",
        first="CTCP Tập đoàn FLC cho biết cổ phiếu FLC đã được giao dịch trở lại thông qua hệ thống lưu ký tại CTCP Chứng khoán Artex kể từ ngày 6/3/2026.",
        last="Cổ phiếu này sau đó chuyển sang giao dịch trên UPCoM nhưng tiếp tục bị hạn chế, đình chỉ do chậm công bố báo cáo tài chính (BCTC), trước khi bị hủy đăng ký giao dịch hoàn toàn.",
        absent=["Một dự án của FLC. Ảnh: Hồng Khanh", "Chính thức hủy giao dịch cổ phiếu FLC từ 31/12",
                "Xem các bài viết của tác giả"],
    ),
    "vnexpress_article": dict(
        title="Cách các nước đối phó cú sốc năng lượng từ Trung Đông",
        published=utc(2026, 3, 6, 17, 5),
        author=None,  # the page names only "VnExpress"; the byline is in the text
        first="Trung Quốc, Nhật Bản, Thái Lan hạn chế xuất khẩu nhiên liệu, Ấn Độ tăng mua dầu Nga, còn Myanmar hạn chế xe lưu thông khi thị trường năng lượng gián đoạn.",
        last="Bộ Công Thương cũng kiến nghị Ngân hàng Nhà nước và các địa phương ưu tiên nguồn ngoại tệ, tín dụng cho doanh nghiệp kinh doanh xăng dầu nhằm phục vụ nhập khẩu trong bối cảnh thị trường thế giới biến động mạnh.",
        absent=["Công nhân đi qua các ống dẫn dầu", "Tàu dầu gần thành phố cảng Nakhodka", "Hà Thu (tổng hợp)",
                "Trở lại Kinh doanh", "Copy link thành công"],
    ),
}


@pytest.fixture(scope="module")
def extracted():
    return {name: extract_article((VN_PAGES / f"{name}.html").read_bytes()) for name in GOLDEN}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_page_body_starts_and_ends_with_the_story(extracted, name):
    text = extracted[name].text
    golden = GOLDEN[name]
    assert golden["first"] in text.split("\n")[0]
    assert golden["last"] in text.split("\n")[-1]


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_page_has_no_sidebar_caption_or_credit_text(extracted, name):
    text = extracted[name].text
    for junk in GOLDEN[name]["absent"]:
        assert junk not in text, f"{name}: {junk!r} should not be in the body"
    # the headline is metadata, not the first line of the body
    assert text.split("\n")[0] != GOLDEN[name]["title"]


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_page_metadata(extracted, name):
    article = extracted[name]
    golden = GOLDEN[name]
    assert article.title == golden["title"]
    assert article.published == golden["published"]
    assert article.published.tzinfo == timezone.utc
    assert article.author == golden["author"]
    assert article.lang == "vi"
    assert article.extractor_version == EXTRACTOR_VERSION
    assert unicodedata.is_normalized("NFC", article.text)


def test_extractor_version_names_trafilatura_and_newsmon_revision():
    assert EXTRACTOR_VERSION.startswith("trafilatura-") and "+newsmon-" in EXTRACTOR_VERSION


# ---- cleanup on the seed articles (body first, sidebar junk after) -------------------------

SEED_CASES = {
    "000_b624ba94a75ce271": dict(
        keep=["Bộ trưởng Ngô Xuân Lịch khẳng định, tăng cường đoàn kết hữu nghị gắn bó",
              "Trong khuôn khổ chuyến thăm chính thức LB Nga, Bộ trưởng Ngô Xuân Lịch cũng hội kiến"],
        drop=["Trường mầm non Nga Tiến", "Gạo ST25", "Theo VGP News", "Tin liên quan", "Tin khác",
              "10:12 | 13/11/2025", "Nghệ nhân Nguyễn Văn Tý"],
    ),
    "001_89b6aa66d0de26e1": dict(
        keep=["Nhận lời mời của Ủy viên Bộ Chính trị, Bộ trưởng Bộ Quốc phòng",
              "Theo chương trình làm việc, Bộ trưởng Sergei Shoigu sẽ đến chào xã giao"],
        drop=["TIN LIÊN QUAN", "Tổng Bí thư dự và phát biểu chỉ đạo tại Hội nghị Quân chính toàn quân",
              "Nữ quân nhân Việt Nam đầu tiên tham gia lực lượng gìn giữ hòa bình", "(Ảnh: Nguyễn Hồng)",
              "Quân đội Việt Nam và Campuchia tăng cường hợp tác", "Việt Nam - Hoa Kỳ tăng cường hợp tác về năng lượng",
              "Phó Thủ tướng Phạm Bình Minh dự Lễ chuyển giao", "|"],
    ),
    "002_0f89e1410a4163cd": dict(
        keep=["Đại tướng Phan Văn Giang, Ủy viên Bộ Chính trị, Phó Bí thư Quân ủy Trung ương",
              "thúc đẩy hoàn thành Bộ hồ sơ “70 năm quan hệ hợp tác quốc phòng Việt Nam - Liên Xô/Liên bang Nga 1950 - 2020”"],
        drop=["In bài viết", "09:08 - 14/08/2024", "- Ảnh 1.", "- Ảnh 5."],
    ),
    "003_e2acb67515a87efe": dict(
        keep=["Đoàn đại biểu Bộ Quốc phòng do Thượng tướng Hoàng Xuân Chiến làm trưởng đoàn",
              "đồng chủ trì phiên họp thường trực của Ủy ban."],
        drop=["Theo dõi Báo Gia Lai trên Google News", "(Ảnh: Duy Trinh/TTXVN)", "Có thể bạn quan tâm",
              "Lữ đoàn Pháo phòng không 234", "Chuyện 2 ngôi làng đặc biệt trên biên giới Ia Mơ",
              "34 tỉnh, thành phố mới trên toàn quốc", "null"],
    ),
    "004_fff04a7ad34b5190": dict(
        keep=["Chiều 15/9, tại Hà Nội, Đại tướng Phan Văn Giang, Ủy viên Bộ Chính trị",
              "mở rộng hợp tác trong các lĩnh vực biển, hàng hải và nhiều lĩnh vực khác giữa hai nước."],
        drop=["Bình luận", "Bài viết liên quan", "Pembrolizumab", "Chuỗi hoạt động chính trị – văn hóa đặc biệt",
              "Kỷ niệm 108 năm Cách mạng Tháng Mười Nga", "Hiện chưa có Bình luận nào", "Tin tức mới |"],
    ),
}


@pytest.mark.parametrize("seed", sorted(SEED_CASES))
def test_cleanup_keeps_the_seed_story_and_drops_its_sidebar(seed):
    raw = (SEEDS / f"{seed}.txt").read_text(encoding="utf-8")
    cleaned = clean_article_text(raw)
    for kept in SEED_CASES[seed]["keep"]:
        assert kept in cleaned
    for junk in SEED_CASES[seed]["drop"]:
        assert junk not in cleaned, f"{seed}: {junk!r} survived"
    assert "\n\n" not in cleaned and cleaned == cleaned.strip()
    assert clean_article_text(cleaned) == cleaned  # idempotent


BODY = (
    "Bộ trưởng Quốc phòng Việt Nam đã hội đàm với Bộ trưởng Quốc phòng Liên bang Nga tại Hà Nội sáng nay.\n"
    "Hai bên nhất trí tiếp tục tăng cường hợp tác quốc phòng trên cơ sở tin cậy, thiết thực và hiệu quả.\n"
)


@pytest.mark.parametrize(
    "trailer, gone",
    [
        ("Xem thêm:\nGiá vàng hôm nay tăng mạnh\nThời tiết Hà Nội", "Giá vàng hôm nay"),
        ("Читайте также\nШойгу посетил Ханой\nНовости дня", "Шойгу посетил Ханой"),
        ("Read more\nRussia and Vietnam sign deal\nMarkets today", "Russia and Vietnam sign deal"),
        ("Related\nAnother story headline", "Another story headline"),
        ("Có thể bạn quan tâm\nTin A\n(GLO)- Một đoạn giới thiệu bài khác khá dài để trông giống như văn xuôi của bài viết.",
         "Tin A"),
    ],
)
def test_trailing_related_blocks_are_cut_with_their_heading(trailer, gone):
    cleaned = clean_article_text(BODY + trailer)
    assert cleaned == BODY.strip()
    assert gone not in cleaned


def test_a_pointer_inside_the_story_loses_only_its_own_lines():
    text = (
        BODY
        + "Xem thêm:\nNga và Việt Nam ký thỏa thuận mới\n"
        + "Theo kế hoạch, hai bên sẽ tổ chức đối thoại chiến lược quốc phòng lần tiếp theo vào năm sau tại Moskva.\n"
        + "Xem thêm: Hội nghị ADMM+ tại Hà Nội\n"
        + "Chuyến thăm góp phần làm sâu sắc hơn quan hệ đối tác chiến lược toàn diện giữa hai nước trong thời gian tới."
    )
    cleaned = clean_article_text(text)
    assert "Theo kế hoạch, hai bên sẽ tổ chức đối thoại" in cleaned
    assert cleaned.endswith("trong thời gian tới.")
    assert "Nga và Việt Nam ký thỏa thuận mới" not in cleaned and "ADMM+ tại Hà Nội" not in cleaned


@pytest.mark.parametrize(
    "junk",
    ["(TTXVN)", "Theo VGP News", "Nguồn: Bộ Quốc phòng", "Ảnh: Nguyễn Hồng", "null", "Hà Thu (tổng hợp)", "Фото: ТАСС",
     "Source: Reuters", "Bình luận (0)"],
)
def test_trailing_credits_and_junk_lines_are_dropped(junk):
    assert clean_article_text(BODY + junk) == BODY.strip()


def test_control_characters_nul_and_zero_width_are_removed_and_text_is_nfc():
    dirty = unicodedata.normalize("NFD", "Hợp\x00 tác\u200b quốc\x07 phòng\ufeff Việt - Nga là trụ cột của quan hệ hai nước.")
    cleaned = clean_article_text(dirty)
    assert cleaned == "Hợp tác quốc phòng Việt - Nga là trụ cột của quan hệ hai nước."
    assert unicodedata.is_normalized("NFC", cleaned)


def test_captions_with_credits_are_dropped_but_sentences_mentioning_photos_stay():
    text = BODY + (
        "Hai Bộ trưởng dự lễ chào cờ. (Ảnh: Nguyễn Hồng)\n"
        "Công nhân đi qua các ống dẫn dầu tại một nhà máy lọc dầu. Ảnh: Reuters\n"
        "Triển lãm trưng bày nhiều ảnh tư liệu quý về quan hệ hai nước trong hơn 70 năm qua, thu hút đông đảo khách tham quan."
    )
    cleaned = clean_article_text(text)
    assert "chào cờ" not in cleaned and "ống dẫn dầu" not in cleaned
    assert "Triển lãm trưng bày nhiều ảnh tư liệu quý" in cleaned


def test_empty_text_stays_empty():
    assert clean_article_text("") == ""
    assert clean_article_text("null\n\n|\n") == ""


# ---- decoding, languages and junk input ---------------------------------------------------

STORY_VI = "Bộ trưởng Quốc phòng Việt Nam hội đàm với người đồng cấp Liên bang Nga tại Hà Nội, hai bên nhất trí tăng cường hợp tác. "
STORY_RU = "Министр обороны России провёл переговоры с вьетнамским коллегой в Москве, стороны договорились о сотрудничестве. "


def _page(body: str, head: str = "", lang: str | None = None) -> str:
    lang_attr = f' lang="{lang}"' if lang else ""
    return f"<html{lang_attr}><head>{head}<title>Tiêu đề</title></head><body><article><h1>Tiêu đề</h1>{body}</article></body></html>"


def _cp1258(text: str) -> bytes:
    """Encode Vietnamese in windows-1258, which stores tone marks as combining characters."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", char)
            base = unicodedata.normalize("NFC", "".join(p for p in parts if p not in tones))
            out += base.encode("cp1258") + "".join(p for p in parts if p in tones).encode("cp1258")
    return bytes(out)


def test_legacy_vietnamese_encoding_declared_in_meta_is_decoded_to_nfc():
    html = _page(f"<p>{STORY_VI * 3}</p>", head='<meta http-equiv="Content-Type" content="text/html; charset=windows-1258">')
    article = extract_article(_cp1258(html))
    assert article.text.startswith("Bộ trưởng Quốc phòng Việt Nam hội đàm")
    assert unicodedata.is_normalized("NFC", article.text)
    assert article.lang == "vi"


def test_russian_page_without_charset_is_guessed_and_detected_as_russian():
    article = extract_article(_page(f"<p>{STORY_RU * 4}</p>").replace("Tiêu đề", "Сотрудничество").encode("cp1251"))
    assert article.text.startswith("Министр обороны России провёл переговоры")
    assert article.lang == "ru"


def test_utf16_with_bom_and_http_charset_win_over_a_wrong_meta():
    html = _page(f"<p>{STORY_VI * 3}</p>", head='<meta charset="iso-8859-1">')
    assert extract_article(html.encode("utf-16")).text.startswith("Bộ trưởng Quốc phòng")
    assert extract_article(html.encode("utf-8"), encoding="utf-8").text.startswith("Bộ trưởng Quốc phòng")


def test_html_lang_is_used_unless_the_script_contradicts_it():
    english = "Vietnam and Russia agreed to deepen their defence ties during talks in Hanoi on Tuesday. " * 3
    assert extract_article(_page(f"<p>{english}</p>", lang="en-US")).lang == "en"
    # a Russian article on a page that claims to be Vietnamese is still Russian
    assert extract_article(_page(f"<p>{STORY_RU * 3}</p>", lang="vi")).lang == "ru"
    assert extract_article(_page(f"<p>{STORY_VI * 3}</p>")).lang == "vi"


@pytest.mark.parametrize("junk", [b"", b"\x00\x01\x02\x03", "<html></html>", b"\xff\xfe\x00", "   ", b"\x1f\x8b\x08junk"])
def test_junk_input_gives_an_empty_article_not_an_exception(junk):
    article = extract_article(junk)
    assert article.text == ""
    assert article.published is None
    assert article.extractor_version == EXTRACTOR_VERSION


def test_xml_declaration_and_nul_bytes_do_not_break_parsing():
    html = '<?xml version="1.0" encoding="utf-8"?>\n' + _page(f"<p>{STORY_VI * 3}\x00</p>")
    assert extract_article(html).text.startswith("Bộ trưởng Quốc phòng")


def test_lead_printed_outside_the_body_container_is_restored_once():
    lead = "Hai Bộ trưởng Quốc phòng Việt Nam và Nga đã hội đàm, nhất trí đẩy mạnh hợp tác trong nhiều lĩnh vực quan trọng."
    html = (
        f'<html><head><meta property="og:description" content="{lead}"><title>Tiêu đề</title></head><body>'
        f'<div class="header"><h1>Tiêu đề</h1><h2 class="article-sapo">(TTXVN) - {lead}</h2></div>'
        f'<div class="content"><p>{STORY_VI}</p><p>{STORY_VI}</p><p>{STORY_VI}</p></div></body></html>'
    )
    text = extract_article(html).text
    assert text.split("\n")[0] == f"(TTXVN) - {lead}"  # as printed, dateline included
    assert text.count("Hai Bộ trưởng Quốc phòng Việt Nam và Nga") == 1


def test_published_comes_from_the_article_header_not_from_dated_sidebar_items():
    html = (
        "<html><head><title>Hợp tác quốc phòng | Báo Mẫu</title></head><body>"
        '<aside class="sidebar"><ul><li><a href="/a">Tin khác</a> <span class="time">10:12 | 13/11/2025</span></li>'
        '<li><a href="/b">Tin cũ</a> <time datetime="2025-11-12T18:58:00+07:00">12/11/2025</time></li></ul></aside>'
        '<article><h1>Hợp tác quốc phòng</h1><div class="meta"><span class="date">Thứ Hai, 14/8/2024 - 10:30 (GMT+7)</span></div>'
        f"<p>{STORY_VI * 3}</p></article>"
        '<div class="box-related"><h3>Tin liên quan</h3><article><h3><a href="/c">Bài cũ</a></h3>'
        '<span class="date">01/01/2023 08:00</span></article></div></body></html>'
    )
    article = extract_article(html)
    assert article.published == utc(2024, 8, 14, 3, 30)
    assert article.title == "Hợp tác quốc phòng"
    assert "Tin khác" not in article.text and "Bài cũ" not in article.text


def test_title_falls_back_to_the_page_title_without_the_site_name():
    html = f"<html><head><title>Nga và Việt Nam ký kết thỏa thuận mới - Báo Mẫu</title></head><body><div><p>{STORY_VI * 3}</p></div></body></html>"
    assert extract_article(html).title == "Nga và Việt Nam ký kết thỏa thuận mới"


def test_a_bad_utc_offset_is_a_programming_error():
    with pytest.raises(ValueError):
        extract_article(_page("<p>x</p>"), utc_offset="Hanoi")


# ---- the newsmon extract command ----------------------------------------------------------

VNEXPRESS = VN_PAGES / "vnexpress_article.html"


def _run(*args, input=None):
    return CliRunner().invoke(cli, ["--config", "no-such-newsmon.toml", "extract", *args], input=input)


def test_cli_text_prints_only_the_body():
    result = _run(str(VNEXPRESS))
    assert result.exit_code == 0, result.output
    assert result.stdout == extract_article(VNEXPRESS.read_bytes()).text + "\n"
    assert result.stdout.startswith(GOLDEN["vnexpress_article"]["first"])
    assert GOLDEN["vnexpress_article"]["title"] not in result.stdout
    assert result.stderr == ""


def test_cli_json_has_the_documented_fields(tmp_path):
    result = _run(str(VN_PAGES / "dantri_article.html"), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"title", "author", "published", "lang", "text", "extractor_version"}
    assert data["title"] == GOLDEN["dantri_article"]["title"]
    assert data["published"] == "2026-03-07T01:07:18+00:00"
    assert data["lang"] == "vi"
    assert data["text"].startswith("(Dân trí) - " + GOLDEN["dantri_article"]["first"])
    assert data["extractor_version"] == EXTRACTOR_VERSION


def test_cli_reads_gzipped_pages_and_stdin(tmp_path):
    packed = tmp_path / "page.html.gz"
    packed.write_bytes(gzip.compress(VNEXPRESS.read_bytes()))
    from_gz = _run(str(packed))
    from_stdin = _run("-", input=VNEXPRESS.read_bytes())
    assert from_gz.exit_code == 0 and from_stdin.exit_code == 0
    assert from_gz.stdout.startswith(GOLDEN["vnexpress_article"]["first"])
    assert from_gz.stdout == from_stdin.stdout


def test_cli_utc_offset_applies_to_dates_printed_without_one():
    result = _run(str(VN_PAGES / "cafef_article.html"), "--format", "json", "--utc-offset", "+03:00")
    assert json.loads(result.stdout)["published"] == "2026-03-06T21:01:00+00:00"  # 00:01 in Moscow


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.html"], "no such file: missing.html"),
        (["PAGE", "--utc-offset", "Hanoi"], "not a UTC offset"),
        (["PAGE", "--format", "xml"], "xml"),
    ],
)
def test_cli_usage_errors_exit_2_with_a_clear_message(args, message):
    args = [str(VNEXPRESS) if a == "PAGE" else a for a in args]
    result = _run(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_cli_broken_gzip_file_is_a_usage_error(tmp_path):
    broken = tmp_path / "page.html.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00garbage")
    result = _run(str(broken))
    assert result.exit_code == 2 and "not valid gzip data" in result.output


def test_cli_empty_page_prints_nothing_and_says_so_on_stderr(tmp_path):
    empty = tmp_path / "empty.html"
    empty.write_text("<html><body></body></html>")
    result = _run(str(empty))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "no article text" in result.stderr


class _PageHandler(http.server.BaseHTTPRequestHandler):
    page = b""
    seen_agents: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server API
        self.seen_agents.append(self.headers.get("User-Agent", ""))
        if self.path == "/missing":
            self.send_error(404, "Not Found")
            return
        body = gzip.compress(self.page) if self.path == "/gz" else self.page
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if self.path == "/gz":
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def page_server():
    _PageHandler.page = VNEXPRESS.read_bytes()
    _PageHandler.seen_agents = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_cli_fetches_a_url_with_the_default_user_agent(page_server):
    from crawler.config import CrawlConfig

    for path in ("/article", "/gz"):
        result = _run(page_server + path)
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(GOLDEN["vnexpress_article"]["first"])
    assert _PageHandler.seen_agents == [CrawlConfig().user_agent] * 2


def test_cli_fetch_uses_the_configured_user_agent(page_server, tmp_path):
    config = tmp_path / "newsmon.toml"
    config.write_text('[crawl]\nuser_agent = "newsmon-test/9.9 (+https://example.org)"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "extract", page_server + "/article"])
    assert result.exit_code == 0, result.output
    assert _PageHandler.seen_agents == ["newsmon-test/9.9 (+https://example.org)"]


def test_cli_network_failures_exit_1(page_server):
    missing = _run(page_server + "/missing")
    assert missing.exit_code == 1 and "HTTP 404" in missing.output
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    refused = _run(f"http://127.0.0.1:{closed_port}/x")
    assert refused.exit_code == 1 and "cannot fetch" in refused.output
    assert "Traceback" not in refused.output
