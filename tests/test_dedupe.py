"""The pure deduplication modules: normalisation, shingles, signatures, verification, canonical rule."""

from __future__ import annotations

import dataclasses
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.config import ConfigError, DedupeConfig, parse_config
from dedupe import compute_signature
from dedupe.canonical import Member, choose_canonical
from dedupe.index import Match, StoredSignature, clusters_to_join, compare
from dedupe.normalize import normalize_text
from dedupe.shingles import word_shingles

SEEDS = Path(__file__).parent / "fixtures" / "seeds"
CONFIG = DedupeConfig()


def seed(number: str) -> str:
    return next(SEEDS.glob(f"{number}_*.txt")).read_text(encoding="utf-8")


# --- normalisation -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("(Chinhphu.vn) - Đại tướng Phan Văn Giang hội đàm.", "đại tướng phan văn giang hội đàm"),
        ("Hà Nội, 15/9 (TTXVN) - Hai bên nhất trí.", "hai bên nhất trí"),
        ("HANOI (Reuters) - The ministers met on Monday.", "the ministers met on monday"),
        ("МОСКВА, 13 августа. /ТАСС/. Министры провели переговоры.", "министры провели переговоры"),
        ("ТАСС, 13 августа. Министры провели переговоры.", "министры провели переговоры"),
        ("МОСКВА, 13 авг - РИА Новости. Министры провели переговоры.", "министры провели переговоры"),
        ("Hai bên ký biên bản. (TTXVN)", "hai bên ký biên bản"),
    ],
)
def test_datelines_and_agency_credits_are_removed(text, expected):
    assert normalize_text(text) == expected


def test_credit_lines_captions_and_signatures_are_removed():
    body = "Hai Bộ trưởng đã hội đàm về hợp tác quốc phòng song phương trong thời gian tới."
    text = "\n".join([
        body,
        "Quang cảnh hội đàm. (Ảnh: Duy Trinh/TTXVN)",
        "Đại tướng Phan Văn Giang hội đàm với Bộ trưởng Quốc phòng Nga- Ảnh 1.",
        "Фото: Минобороны России",
        "Theo VGP News",
        "Minh Anh",
    ])
    assert normalize_text(text) == normalize_text(body)


def test_a_sidebar_after_the_body_is_cut_but_a_heading_above_it_only_dropped():
    body = ["Đoạn một của bài viết về hợp tác quốc phòng Việt Nam và Liên bang Nga trong nhiều năm qua.",
            "Đoạn hai của bài viết nói về đào tạo, kỹ thuật quân sự và trao đổi đoàn các cấp giữa hai nước."]
    sidebar = ["Tin liên quan", "Trường mầm non Nga Tiến: Ngôi nhà thứ 2 của trẻ", "Hội chợ đặc sản vùng miền năm 2025"]
    assert normalize_text("\n".join(body + sidebar)) == normalize_text("\n".join(body))
    # however long the sidebar: two articles of one site must not look alike through it
    assert normalize_text("\n".join(body + sidebar * 30)) == normalize_text("\n".join(body))
    # a sidebar heading at the very top of a long page is furniture: the body below stays
    top = ["TIN LIÊN QUAN | |"] + body * 3
    assert normalize_text("\n".join(top)) == normalize_text("\n".join(body * 3))


def test_nfc_case_and_punctuation_do_not_matter():
    text = "Bộ trưởng “Phan Văn Giang” khẳng định: hợp tác quốc phòng là trụ cột!"
    variant = unicodedata.normalize("NFD", text.upper().replace("“", '"').replace("”", '"'))
    assert normalize_text(variant) == normalize_text(text)
    assert "khẳng" in normalize_text(variant)  # diacritics stay


def test_house_spellings_fold_to_one():
    assert normalize_text("Viet Nam and Russia discussed defense ties in Ha Noi.") == \
        normalize_text("Vietnam and Russia discussed defence ties in Hanoi.")
    assert normalize_text("Đoàn LB Nga tới Mát-xcơ-va") == normalize_text("Đoàn Liên bang Nga tới Moscow")


def test_seed_pages_keep_their_body_and_lose_their_sidebars():
    normalized = normalize_text(seed("000"))
    assert "hội kiến giám đốc cơ quan an ninh" in normalized
    assert "nga tiến" not in normalized  # "Trường mầm non Nga Tiến" is in the sidebar
    assert "theo vgp news" not in normalized
    patrushev = normalize_text(seed("004"))
    assert "pembrolizumab" not in patrushev and "bình luận" not in patrushev


# --- shingles and signatures -----------------------------------------------------------


def test_word_shingles():
    assert word_shingles(["a", "b", "c", "d"], 3) == {b"a b c", b"b c d"}
    assert word_shingles(["a", "b"], 3) == {b"a b"}
    assert word_shingles([], 3) == set()


def test_reprints_with_other_credits_have_the_same_normalised_hash():
    body = seed("002").split("(Chinhphu.vn) - ", 1)[1].split("\n")
    original = compute_signature("(Chinhphu.vn) - " + "\n".join(body), CONFIG)
    reprint = compute_signature("Hà Nội (TTXVN) - " + "\n\n".join(body) + "\nTheo TTXVN", CONFIG)
    assert original.text_sha == reprint.text_sha
    assert original.minhash == reprint.minhash
    assert len(original.minhash) == 4 * CONFIG.num_perm


def test_signature_counts_words_and_shingles():
    signature = compute_signature("one two three four five six seven", CONFIG)
    assert signature.tokens == 7
    assert signature.shingles == 3  # 5-word shingles
    assert compute_signature("", CONFIG).tokens == 0


def test_a_trimmed_reprint_is_contained_in_the_original():
    text = seed("002")
    lines = text.splitlines()
    original = compute_signature(text, CONFIG)
    trimmed = compute_signature("\n".join(lines[: len(lines) // 2]), CONFIG)
    jaccard, overlap = compare(original, trimmed)
    assert jaccard < CONFIG.threshold  # the halves differ as wholes...
    assert overlap >= CONFIG.containment  # ...but the copy is contained in the original


def test_different_meetings_of_the_same_minister_do_not_verify():
    first, second = compute_signature(seed("000"), CONFIG), compute_signature(seed("001"), CONFIG)
    jaccard, overlap = compare(first, second)
    assert jaccard < CONFIG.threshold and overlap < CONFIG.containment


# --- canonical rule and cluster joining --------------------------------------------------

T0 = datetime(2024, 8, 13, 10, tzinfo=timezone.utc)


def test_the_wire_copy_is_canonical_even_when_published_later():
    members = [Member(1, "vnexpress", T0, 500), Member(2, "vietnamplus", T0 + timedelta(hours=2), 400)]
    assert choose_canonical(members, {"vietnamplus"}).article_id == 2


def test_without_a_wire_copy_the_earliest_then_the_longest_is_canonical():
    members = [Member(1, "a", T0 + timedelta(hours=1), 900), Member(2, "b", T0, 300), Member(3, "c", T0, 600)]
    assert choose_canonical(members, set()).article_id == 3
    assert choose_canonical([Member(4, "d", None, 900), Member(5, "e", T0, 10)], set()).article_id == 5


def stored(article_id: int, text: str) -> StoredSignature:
    signature = compute_signature(text, CONFIG)
    return StoredSignature(article_id, T0, signature.values, signature.text_sha, signature.tokens, signature.shingles)


def lines_of(number: str) -> list[str]:
    return [line for line in seed(number).splitlines() if line.strip()]


def test_an_article_matching_two_related_clusters_joins_them():
    lines = lines_of("002")
    head = stored(10, "\n".join(lines[: len(lines) * 6 // 10]))
    tail = stored(20, "\n".join(lines[len(lines) * 3 // 10 :]))
    matches = [Match(10, 0.6, 1.0, stored=head), Match(20, 0.7, 1.0, stored=tail)]
    assert clusters_to_join(matches, {10: 1, 20: 2}) == [1, 2]


def test_a_roundup_containing_two_stories_does_not_merge_them():
    giang = stored(10, "\n".join(lines_of("002")[:10]))
    patrushev = stored(20, "\n".join(lines_of("004")[:8]))
    matches = [Match(10, 0.6, 0.95, stored=giang), Match(20, 0.3, 0.9, stored=patrushev)]
    assert clusters_to_join(matches, {10: 5, 20: 2}) == [5]
    assert clusters_to_join([], {}) == []


# --- configuration ------------------------------------------------------------------------


def test_bands_must_fit_in_the_signature():
    with pytest.raises(ConfigError, match="dedupe.bands"):
        parse_config({"dedupe": {"bands": 70, "rows": 2}})
    with pytest.raises(ConfigError, match="dedupe.shingle_size"):
        parse_config({"dedupe": {"shingle_size": 0}})
    assert dataclasses.replace(CONFIG, bands=64, rows=2).bands == 64
