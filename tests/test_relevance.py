"""Topic relevance: the matching rules a linguist would check, the profile, and its errors."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from crawler.config import ConfigError, load_config, parse_config
from crawler.relevance import default_profile, parse_profile, score_article, title_is_off_topic

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "tests" / "fixtures" / "seeds").glob("0*.txt"))
PROFILE = default_profile()


def groups_found(title, text="", lang="vi"):
    """The concept groups matched in an article (what the user sees under "terms")."""
    return set(score_article(PROFILE, title, text, lang).terms)


def russia_terms(title, text="", lang="vi"):
    return score_article(PROFILE, title, text, lang).terms.get("russia", [])


# --- Vietnamese: diacritics, đ, syllable boundaries ---------------------------


@pytest.mark.parametrize("title", [
    "Bộ Quốc phòng Việt Nam hợp tác với Nga",
    "Bo Quoc phong Viet Nam hop tac voi Nga",
    "BỘ QUỐC PHÒNG VIỆT NAM HỢP TÁC VỚI NGA",
    "bo quoc phong viet nam hop tac voi nga",
    "Bộ Quốc phòng Việt Nam hợp tác với Nga".replace("ộ", "o\u0323\u0302"),  # decomposed Unicode
])
def test_vietnamese_matches_with_and_without_diacritics_and_in_any_case(title):
    assert groups_found(title) == {"vietnam", "russia", "defence"}


def test_d_with_stroke_folds_to_d():
    assert score_article(PROFILE, "Quan doi Viet Nam va Nga", "", "vi").terms["defence"] == ["quân đội"]


def test_old_and_new_tone_placement_are_the_same_word():
    profile = parse_profile({"groups": {"peace": {"vi": ["hòa bình"]}}})
    assert score_article(profile, "Gìn giữ hoà bình", "", "vi").relevant
    assert score_article(profile, "Gìn giữ hòa bình", "", "vi").relevant


@pytest.mark.parametrize("word", ["Ngân hàng", "Ngày 5/6", "Ngan hang", "ngay mai", "Nghệ An", "Ngã tư", "ngà voi"])
def test_nga_is_never_found_inside_another_syllable_or_with_other_tone_marks(word):
    assert russia_terms(f"{word} Bộ Quốc phòng Việt Nam") == []


def test_marks_in_text_written_with_diacritics_must_be_the_terms_own():
    # "hai quân chủng" (two services) is not "hải quân" (navy) when the text has diacritics...
    assert "hải quân" not in score_article(PROFILE, "Hai quân chủng của Việt Nam diễn tập", "", "vi").terms.get(
        "defence", [])
    # ...while text typed without diacritics cannot tell them apart
    assert "hải quân" in score_article(PROFILE, "Hai quan Viet Nam dien tap", "", "vi").terms["defence"]


# --- "Nga": Russia, or a person or a place ------------------------------------


@pytest.mark.parametrize("title", [
    "Hợp tác với LB Nga", "Quan hệ với Liên bang Nga", "Đề xuất của phía Nga", "Lịch sử nước Nga",
    "Quan hệ Việt – Nga", "Quan hệ Việt-Nga", "Quan hệ Nga - Việt", "Phía Nga cho biết", "Theo Nga, thỏa thuận",
    "Bộ trưởng Quốc phòng Nga Sergei Shoigu", "Tổng thống Nga Putin", "Hai quân chủng Việt Nam và Nga diễn tập",
    "Quan he Viet - Nga", "Theo Nga, hai ben", "Hội nghị có Nga tham dự", "Đoàn đi Nga",
])
def test_nga_reads_as_russia(title):
    assert russia_terms(title), title


@pytest.mark.parametrize("title", [
    "Trường mầm non Nga Tiến", "Huyện Nga Sơn", "Xã Nga Thắng", "Ca sĩ Thúy Nga", "Chuyện chị Hằng Nga",
    "Chị Nga bán hàng", "Bé Nga đi học", "Trung úy Nguyễn Thị Nga", "Đàn thiên nga", "Cô giáo Lê Thị Nga",
    "Ca si Thuy Nga", "chi Nga ban hang", "Truong mam non Nga Tien", "Cô giáo Nga dạy học",
    "TRƯỜNG MẦM NON NGA TIẾN", "HỒ THIÊN NGA",
])
def test_nga_as_a_name_or_a_place_is_not_russia(title):
    assert russia_terms(title) == [], title


def test_a_vietnamese_name_rule_does_not_apply_to_foreign_names_after_nga():
    terms = russia_terms("Bộ trưởng Quốc phòng Nga Andrey Belousov thăm Việt Nam")
    assert "Nga" in terms


def test_title_case_headlines_do_not_make_every_nga_a_name():
    assert groups_found("Hợp Tác Quốc Phòng Việt Nam Và Nga Đạt Nhiều Kết Quả") == {"vietnam", "russia", "defence"}


def test_a_rejected_longer_match_leaves_the_shorter_term_inside_it():
    # "Nga diễn" looks like the place "Nga Điền" once folded; it is "Nga" + "diễn tập"
    assert groups_found("Hải quân Việt Nam và Nga diễn tập trên biển") == {"vietnam", "russia", "defence"}


def test_reason_names_the_place_or_person_that_was_set_aside():
    assert "Nga Tiến (place name)" in score_article(PROFILE, "Trường mầm non Nga Tiến", "", "vi").reason
    reason = score_article(PROFILE, "Chị Nga, vợ người lính Hải quân Việt Nam", "", "vi").reason
    assert reason.startswith("missing group: russia") and "Chị Nga" in reason


# --- Russian inflection --------------------------------------------------------


@pytest.mark.parametrize("word", ["Россия", "России", "Россией", "российский", "российско-вьетнамский", "РФ"])
def test_russian_forms_of_russia(word):
    assert "russia" in groups_found(f"{word} и Вьетнам: оборона", lang="ru")


@pytest.mark.parametrize("word", ["Вьетнам", "Вьетнама", "Вьетнаму", "вьетнамский", "вьетнамцы", "Ханое"])
def test_russian_forms_of_vietnam(word):
    assert "vietnam" in groups_found(f"Россия и {word}: сотрудничество", lang="ru")


@pytest.mark.parametrize("word", ["оборона", "оборонный", "военный", "военно-техническое", "ВМФ", "Минобороны",
                                  "вооружённые силы", "подводная лодка"])
def test_russian_forms_of_defence(word):
    assert "defence" in groups_found(f"Россия и Вьетнам: {word}", lang="ru")


def test_russian_stems_do_not_catch_other_words():
    # "ракетка" is a tennis racket, not a missile; "танкер" is a tanker
    assert "defence" not in groups_found("Россия и Вьетнам: ракетка и танкер", lang="ru")


# --- English variants and proxies ----------------------------------------------


@pytest.mark.parametrize("title", [
    "Russia and Vietnam sign defence pact", "Russian, Vietnamese defense officials meet",
    "Russia's navy visits Viet Nam", "Vietnam's military buys Russian jets",
])
def test_english_variants(title):
    assert groups_found(title, lang="en") == {"vietnam", "russia", "defence"}


def test_capitals_count_as_country_proxies_with_less_weight():
    by_name = score_article(PROFILE, "Vietnam and Russia agree on naval cooperation", "", "en")
    by_capital = score_article(PROFILE, "Hanoi and Moscow agree on naval cooperation", "", "en")
    assert by_capital.relevant and by_capital.terms["russia"] == ["Moscow"]
    assert by_capital.score < by_name.score


def test_sport_senses_of_defence_are_weighed_against_it():
    result = score_article(PROFILE, "Vietnam's defence holds firm in friendly against Russia",
                           "The goalkeeper made four saves as the back line held.", "en")
    assert not result.relevant
    assert "outweighed by" in result.reason


# --- scoring --------------------------------------------------------------------


def test_a_match_in_the_title_weighs_more_than_one_in_the_body():
    in_title = score_article(PROFILE, "Việt Nam và Nga hợp tác quốc phòng", "Hai bên ký văn bản.", "vi")
    in_body = score_article(PROFILE, "Tin trong ngày", "Việt Nam và Nga hợp tác quốc phòng. Hai bên ký văn bản.", "vi")
    assert in_title.relevant and in_body.relevant
    assert in_title.score > in_body.score


def test_terms_are_reported_per_group_as_written_in_the_profile():
    result = score_article(PROFILE, "Bo Quoc phong Viet Nam va LB Nga", "Российские корабли", "vi")
    assert result.terms == {"vietnam": ["Việt Nam"], "russia": ["LB Nga"], "defence": ["quốc phòng"]}


def test_a_group_mentioned_only_in_a_sentence_about_something_else_is_incidental():
    title = "Việt Nam và Ấn Độ thúc đẩy hợp tác quốc phòng"
    text = ("Tại Hà Nội, hai Bộ trưởng đã hội đàm. Bộ trưởng Ấn Độ cho biết nước này vẫn dùng nhiều máy bay "
            "do Nga sản xuất.")
    result = score_article(PROFILE, title, text, "vi")
    assert not result.relevant and "never meet" in result.reason
    # the same words in the headline's lead are the story
    assert score_article(PROFILE, title, "Hai bên bàn về máy bay do Nga sản xuất.", "vi").relevant


def test_relevant_exactly_when_the_score_reaches_the_threshold():
    strict = parse_profile({"threshold": 0.9})
    body_only = "Quân đội Việt Nam và Nga tập trận."
    assert score_article(PROFILE, "", body_only, "vi").relevant
    assert not score_article(strict, "", body_only, "vi").relevant
    assert "below threshold 0.9" in score_article(strict, "", body_only, "vi").reason


def test_language_is_detected_when_not_given_and_all_languages_are_tried_when_unknown():
    assert score_article(PROFILE, "Россия и Вьетнам: военное сотрудничество", "").lang == "ru"
    assert score_article(PROFILE, "Hop tac quoc phong Viet - Nga", "").lang == "vi"
    assert score_article(PROFILE, "Russia and Vietnam defence talks", "", lang="fr").relevant
    assert score_article(PROFILE, "Hợp tác quốc phòng Việt - Nga", "", lang="vi-VN").lang == "vi"


def test_none_profile_and_empty_input_are_handled():
    result = score_article(None, None, "")
    assert not result.relevant and result.score == 0 and result.terms == {}


# --- the seed articles -----------------------------------------------------------


@pytest.mark.parametrize("path", SEEDS, ids=[p.stem for p in SEEDS])
def test_seed_articles_are_relevant(path):
    lines = path.read_text(encoding="utf-8").strip().splitlines()
    result = score_article(PROFILE, lines[0], "\n".join(lines[1:]))
    assert result.relevant, result.reason
    assert result.lang == "vi"


@pytest.mark.parametrize("needle", ["Trường mầm non Nga Tiến", "Pembrolizumab của Nga"])
def test_seed_sidebar_items_are_not_relevant(needle):
    lines = [line for path in SEEDS for line in path.read_text(encoding="utf-8").splitlines() if needle in line]
    assert lines, f"{needle!r} not found in the seed files"
    for line in lines:
        assert not score_article(PROFILE, line, "").relevant, line


# --- pre-fetch gate --------------------------------------------------------------


@pytest.mark.parametrize("title", [
    "Trường mầm non Nga Tiến: Ngôi nhà thứ 2 của trẻ - Nơi lan tỏa sự yêu thương",
    "Giá vàng hôm nay tăng mạnh", "Apple unveils new iPhone", "Курс рубля упал",
])
def test_gate_drops_clearly_off_topic_titles(title):
    assert title_is_off_topic(PROFILE, title)


@pytest.mark.parametrize("title", [
    "Việt Nam cấp phép lưu hành thuốc điều trị ung thư Pembrolizumab của Nga",  # the body decides
    "Đối thoại chiến lược quốc phòng lần thứ 6", "Moscow summit ends", "Шойгу прибыл в Ханой", "",
])
def test_gate_keeps_titles_that_might_be_on_topic(title):
    assert not title_is_off_topic(PROFILE, title)


def test_gate_reads_the_feed_keywords_too():
    assert title_is_off_topic(PROFILE, "Tin nóng trong ngày")
    assert not title_is_off_topic(PROFILE, "Tin nóng trong ngày", keywords="quốc phòng, Nga")


def test_gate_needs_as_many_groups_as_the_profile_says():
    two = parse_profile({"title_min_groups": 2})
    assert not title_is_off_topic(PROFILE, "Moscow summit ends")
    assert title_is_off_topic(two, "Moscow summit ends")
    assert not title_is_off_topic(two, "Moscow and Hanoi sign deal")


# --- the profile -------------------------------------------------------------------


def test_newsmon_toml_ships_the_default_profile():
    assert load_config(ROOT / "newsmon.toml").relevance == PROFILE
    assert parse_config({}).relevance == PROFILE


def test_profile_is_frozen_and_reused():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PROFILE.threshold = 0.1
    assert parse_profile(None) is PROFILE


def test_a_table_without_groups_keeps_the_default_groups_and_changes_the_numbers():
    tweaked = parse_profile({"threshold": 0.7, "title_weight": 2})
    assert tweaked.groups == PROFILE.groups and tweaked.exclude == PROFILE.exclude
    assert (tweaked.threshold, tweaked.title_weight) == (0.7, 2.0)


CUSTOM_TOPIC = """
[relevance]
threshold = 0.5
title_weight = 2

[relevance.groups.coffee]
vi = ["cà phê"]
en = ["coffee", "robusta", "arabica"]
ru = ["коф*"]

[relevance.groups.exports]
vi = ["xuất khẩu"]
en = ["export*", "shipment*"]
ru = ["экспорт*", "поставк*"]
proxies.en = ["trade"]

[relevance.groups.africa]
en = ["Africa*", "Kenya*", "Ethiopia*"]
ru = ["Африк*", "Кени*"]
vi = ["châu Phi", "Kenya"]
required = false

[[relevance.exclude]]
label = "a café chain"
pattern = '(?i)\\bcoffee\\s+house\\b'
"""


def test_a_profile_for_another_topic_works_without_code_changes():
    config = parse_config(tomllib.loads(CUSTOM_TOPIC))
    profile = config.relevance
    assert [g.name for g in profile.groups] == ["coffee", "exports", "africa"]
    result = score_article(profile, "Robusta exports to Kenya hit record", "", "en")
    assert result.relevant
    assert result.terms == {"coffee": ["robusta"], "exports": ["export*"], "africa": ["Kenya*"]}
    # the optional group is not needed
    assert score_article(profile, "Xuất khẩu cà phê tăng 20%", "", "vi").relevant
    assert score_article(profile, "Экспорт кофе из Вьетнама вырос", "", "ru").relevant
    # ...and the Vietnam–Russia terms are gone
    assert not score_article(profile, "Hợp tác quốc phòng Việt - Nga", "", "vi").relevant
    # the exclude pattern removes what it covers and says so
    blocked = score_article(profile, "Coffee House opens store, export plans", "", "en")
    assert not blocked.relevant and "excluded: Coffee House (a café chain)" in blocked.reason


@pytest.mark.parametrize("table, key", [
    ({"threshhold": 0.5}, "relevance.threshhold"),
    ({"threshold": 1.5}, "relevance.threshold"),
    ({"threshold": "high"}, "relevance.threshold"),
    ({"window": 1.5}, "relevance.window"),
    ({"groups": []}, "relevance.groups"),
    ({"groups": {}}, "relevance.groups"),
    ({"groups": {"russia": {"vi": ["Nga", "LB Nga", "Liên bang Nga", 7]}}}, "relevance.groups.russia.vi[3]"),
    ({"groups": {"russia": {"vi": ["Nga", "*Росс"]}}}, "relevance.groups.russia.vi[1]"),
    ({"groups": {"russia": {"vi": ["Nga", "Ro*ss"]}}}, "relevance.groups.russia.vi[1]"),
    ({"groups": {"russia": {"vi": ["N*"]}}}, "relevance.groups.russia.vi[0]"),
    ({"groups": {"russia": {"vi": "Nga"}}}, "relevance.groups.russia.vi"),
    ({"groups": {"russia": {"de": ["Russland"]}}}, "relevance.groups.russia.de"),
    ({"groups": {"russia": {"vi": ["Nga"], "proxies": {"xx": ["Moscow"]}}}}, "relevance.groups.russia.proxies.xx"),
    ({"groups": {"russia": {"vi": ["Nga"], "name_like": ["Ngaa"]}}}, "relevance.groups.russia.name_like[0]"),
    ({"groups": {"russia": {"vi": ["Nga"], "required": "yes"}}}, "relevance.groups.russia.required"),
    ({"groups": {"russia": {"vi": ["Nga"], "required": False}}}, "relevance.groups"),
    ({"groups": {"russia": {}}}, "relevance.groups.russia"),
    ({"groups": {"Russia": {"vi": ["Nga"]}}}, "relevance.groups.Russia"),
    ({"exclude": [{"label": "x", "pattern": "(unclosed"}]}, "relevance.exclude[0].pattern"),
    ({"exclude": [{"label": "x", "pattern": "a*"}]}, "relevance.exclude[0].pattern"),
    ({"exclude": [{"pattern": "Nga Sơn"}]}, "relevance.exclude[0].label"),
    ({"exclude": [{"label": "x"}]}, "relevance.exclude[0]"),
    ({"exclude": [{"label": "x", "phrase": ["Nga Sơn"]}]}, "relevance.exclude[0].phrase"),
    ({"exclude": {"label": "x"}}, "relevance.exclude"),
    ({"title_min_groups": 4}, "relevance.title_min_groups"),
])
def test_config_errors_name_the_key(table, key):
    with pytest.raises(ConfigError) as error:
        parse_config({"relevance": table})
    assert str(error.value).startswith(f"{key}:"), str(error.value)


def test_config_error_from_a_file_names_the_key(tmp_path):
    path = tmp_path / "newsmon.toml"
    path.write_text('[relevance.groups.russia]\nvi = ["Nga", "LB Nga", "Liên bang Nga", 3]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^relevance\.groups\.russia\.vi\[3\]: expected a non-empty string"):
        load_config(path)


def test_docstring_examples_hold():
    import doctest

    from crawler.relevance import folding, matching, scoring

    for module in (folding, matching, scoring):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__
