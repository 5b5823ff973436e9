"""Two small articles in the seed's shape, with other headings, numbers, dates and quote counts.

Everything is recognized by shape, so the parser must read them as it reads the seed; run
through the real command line (``--article``), as another tool would.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.content.scripts import to_simplified

ROOT = Path(__file__).resolve().parents[1]

SCHOOL_TITLE = "新校長上任一個月 校園裡的“改變”"
SCHOOL = f"""{SCHOOL_TITLE}

{SCHOOL_TITLE}

本文圖片均據《城南晚報》

城南新聞記者 張文 李華

3月2日,新校長陳明正式到任,當天下午他走遍了全校的教室和食堂。

他說,學校的事情沒有小事,每一件都要認真對待。

開學

3月3日,全校開學典禮舉行,陳明在典禮上講話,要求老師們“把每一堂課上好”。

同一天,他還到高一年級聽了兩節課,並和學生們一起吃午飯。

{to_simplified(SCHOOL_TITLE)}

食堂

5日,食堂開始供應早餐,價格比上學期便宜了兩成。這一改變得到了家長們的好評。

圖書館

3月9日晚,圖書館延長開放到晚上十點,第一天就有三百多名學生前來自習。

▶上任一個月,陳明說過的話

1.“學校的事情沒有小事。”

2. “每一件事都要認真對待。”

——3月2日,陳明到任後走訪各年級。

3.

“把每一堂課上好。”

——3月3日,陳明在開學典禮上講話。

4.“讓學生吃得好一點。”

5.“圖書館要多開一會兒。”

——3月9日,陳明與學生代表座談。

【如果您有新聞線索,歡迎向我們報料。】


分享到:


相關文章:
"""

RIVER_TITLE = "冬季治水 兩天裡的“大行動”"
RIVER = f"""{RIVER_TITLE}

{RIVER_TITLE}

河東日報記者 王強

11月30日,河東區啟動冬季清淤工程,一千多名工人同時上崗。

巡河

11月30日,區長劉明沿河巡查了六個小時,記下了十幾處問題。

一天後,這些問題全部交給了各街道,限期一週整改。

{to_simplified(RIVER_TITLE)}

▶兩天裡,劉明說的話

1.“河要一段一段地看。”

——11月30日,劉明沿河巡查。

2.“問題不過夜。”

3.“整改要有時間表。”

——12月1日,劉明召開整改部署會。

【報料請聯繫我們】

分享到:
"""


def run_cli(path: Path, *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "bot.content", "--json", "--article", str(path), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture
def school(tmp_path: Path) -> Path:
    path = tmp_path / "school.txt"
    path.write_text(SCHOOL, encoding="utf-8")
    return path


@pytest.fixture
def river(tmp_path: Path) -> Path:
    path = tmp_path / "river.txt"
    path.write_text(RIVER, encoding="utf-8")
    return path


def test_school_article_sections_quotes_and_dates(school: Path) -> None:
    data = run_cli(school)
    assert data["title"] == SCHOOL_TITLE
    sections = data["sections"]
    assert isinstance(sections, list)
    assert [s["title"] for s in sections] == [
        "導語",
        "開學",
        "食堂",
        "圖書館",
        "上任一個月，陳明說過的話",  # the source heading's ▶ is dropped
    ]
    assert [s["number"] for s in sections] == [1, 2, 3, 4, 5]
    quotes = data["quotes"]
    assert isinstance(quotes, list)
    assert [(q["number"], q["date"]) for q in quotes] == [
        (1, "03-02"),
        (2, "03-02"),
        (3, "03-03"),  # its number stood alone on its line
        (4, "03-09"),
        (5, "03-09"),
    ]
    assert quotes[2]["text"] == "“把每一堂課上好。”"
    assert quotes[2]["occasion"] == "陳明在開學典禮上講話。"
    dates = {d["date"]: d["events"] for d in data["dates"]}
    assert sorted(dates) == ["03-02", "03-03", "03-05", "03-09"]
    # 當天 and 同一天 resolve to the date before them; a bare 5日 takes the month in force.
    assert any("當天下午" in e for e in dates["03-02"])
    assert any(e.startswith("同一天") for e in dates["03-03"])
    assert any(e.startswith("5日") for e in dates["03-05"])
    text = json.dumps(data, ensure_ascii=False)
    for boilerplate in (
        "【",
        "分享到",
        "相關文章",
        "記者",
        "本文圖片",
        to_simplified(SCHOOL_TITLE),
    ):
        assert boilerplate not in text
    assert "，" in sections[0]["text"] and "," not in sections[0]["text"]


def test_river_article_crosses_a_month_and_has_three_quotes(river: Path) -> None:
    data = run_cli(river)
    assert [s["title"] for s in data["sections"]] == [
        "導語",
        "巡河",
        "兩天裡，劉明說的話",
    ]
    assert [(q["number"], q["date"]) for q in data["quotes"]] == [
        (1, "11-30"),
        (2, "12-01"),
        (3, "12-01"),
    ]
    dates = {d["date"]: d["events"] for d in data["dates"]}
    assert sorted(dates) == ["11-30", "12-01"]
    assert [e for e in dates["12-01"] if e.startswith("一天後")]  # 11月30日 + 1 = 12月1日


def test_simplified_output_of_another_article(river: Path) -> None:
    data = run_cli(river, "--script", "simplified")
    assert data["title"] == to_simplified(RIVER_TITLE)  # the caption line, as in the seed
    assert data["sections"][1]["title"] == "巡河"
    assert "刘明" in data["quotes"][0]["occasion"]
