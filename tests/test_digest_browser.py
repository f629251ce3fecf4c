"""The HTML digest in a real browser: headless Chromium renders it at phone size, runs none of its data.

Skipped where Chromium is not installed (``apt-get install chromium``). The
screenshot is kept in ``test-artifacts/`` for a human to look at.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from store.db import connect
from store.digest import build_digest, render
from store_factory import add, add_reprint

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
PHONE = (412, 915)
CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
PWN = "<script>document.documentElement.setAttribute('data-pwned','1')</script>"


def find_chromium() -> str | None:
    for candidate in (os.environ.get("NEWSMON_CHROMIUM"), *CANDIDATES):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium not found (/usr/bin/chromium or chromium on PATH; apt-get install chromium)",
)


def chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
               f"--user-data-dir={profile}", f"--window-size={PHONE[0]},{PHONE[1]}", *args, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=90)


@pytest.fixture
def digest_page(tmp_path) -> Path:
    db = connect(tmp_path / "news.db")
    wire = add(db, source="ttxvn", title="Việt Nam – Nga ký kế hoạch hợp tác quốc phòng giai đoạn 2024–2028",
               text="HÀ NỘI — Bộ trưởng Quốc phòng hai nước đã ký kế hoạch hợp tác quốc phòng cho giai đoạn "
                    "mới, tập trung vào đào tạo, công nghiệp quốc phòng và tìm kiếm cứu nạn.", hours_ago=3)
    add_reprint(db, wire, source="vietnamplus", title="Việt – Nga ký kế hoạch hợp tác", text="Bản đăng lại.")
    add_reprint(db, wire, source="qdnd", title="Ký kế hoạch hợp tác quốc phòng", text="Bản đăng lại.")
    add(db, source="tass", lang="ru", title="Россия и Вьетнам обсудили военно-техническое сотрудничество",
        text="Министр обороны России встретился с делегацией Вьетнама в Москве.", hours_ago=28,
        terms={"military": ["военно-техническое"], "vietnam": ["Вьетнам"]})
    add(db, url="javascript:document.documentElement.setAttribute('data-pwned','2')", source="evil",
        title=f"Tiêu đề có mã độc {PWN}", text=f"Đoạn mở đầu {PWN} <img src=x onerror=\"{PWN}\">", hours_ago=30)
    page = tmp_path / "digest.html"
    page.write_bytes(render(build_digest(db), "html"))
    db.conn.close()
    return page


def test_digest_renders_on_a_phone_and_runs_no_injected_code(digest_page, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "digest-phone.png"
    screenshot.unlink(missing_ok=True)

    shot = chromium(digest_page, tmp_path / "profile-shot", f"--screenshot={screenshot}")
    assert shot.returncode == 0, shot.stderr[-2000:]
    png = screenshot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])  # IHDR
    assert width >= PHONE[0] and height >= PHONE[1] // 2

    dom = chromium(digest_page, tmp_path / "profile-dom", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "data-pwned" not in dom.stdout.split("<body", 1)[0]  # no injected script ran
    assert "Việt Nam – Nga ký kế hoạch hợp tác quốc phòng" in dom.stdout
    assert "&lt;script&gt;" in dom.stdout  # the hostile title is shown as text
    assert 'href="javascript:' not in dom.stdout
