"""detect_language: Vietnamese, Russian and English told apart without a model."""

from __future__ import annotations

import pytest

from crawler.language import detect_language


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Bộ trưởng Quốc phòng Việt Nam hội đàm với Bộ trưởng Quốc phòng Liên bang Nga.", "vi"),
        ("Đại tướng Phan Văn Giang", "vi"),
        ("hop tac quoc phong cua Viet Nam va Nga trong nam nay", "vi"),
        ("Bo truong Quoc phong cac nuoc ASEAN hop tai Ha Noi", "vi"),
        ("Министр обороны России Сергей Шойгу провёл переговоры во Вьетнаме.", "ru"),
        ("Россия и Вьетнам: военно-техническое сотрудничество (ВТС) и Су-30МК2", "ru"),
        ("Russia and Vietnam agreed to expand defence cooperation on Tuesday.", "en"),
        ("Vietnam's defence minister Phan Van Giang met his Russian counterpart.", "en"),
        # a Vietnamese name in an English story does not make it Vietnamese
        ("General Phan Văn Giang said that the two sides will continue the talks in Moscow "
         "and that the agreement was signed by both ministers after the meeting.", "en"),
    ],
)
def test_detects_the_language_of_news_text(text, expected):
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", ["", "   \n\t", "2024 - 10:30 | 14/08", "北京 新闻"])
def test_no_language_for_empty_or_foreign_script_text(text):
    assert detect_language(text) is None


def test_decomposed_vietnamese_is_still_vietnamese():
    import unicodedata

    text = unicodedata.normalize("NFD", "Hợp tác quốc phòng Việt - Nga")
    assert detect_language(text) == "vi"


def test_long_text_is_judged_on_its_beginning():
    text = "Quân đội nhân dân Việt Nam tăng cường hợp tác với Nga. " * 2000 + "English tail " * 10
    assert detect_language(text) == "vi"
