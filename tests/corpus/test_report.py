"""report.html: PNG encoding, the similarity picture, and what headless Chromium renders."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import BuiltCorpus
from PIL import Image

from pipeline.corpus.report import (
    MAX_PICTURE_PX,
    ReportDocument,
    ReportRow,
    block_mean,
    downsample,
    encode_png,
    render_failures,
    render_report,
    similarity_picture,
)

PAYLOAD = "<script>document.body.setAttribute('data-pwned','1')</script>"
IMG_PAYLOAD = "<img src=x onerror=\"document.body.setAttribute('data-pwned','2')\">"
RED = (255, 0, 0)
LOW_BG = (255, 208, 208)  # tr.low td background in report.py's CSS


def chromium(
    html: Path, tmp: Path, *, screenshot: bool = False, height: int = 2400
) -> tuple[str, Path | None]:
    """Render ``html`` in headless Chromium; return the DOM after load (and a screenshot
    of the top ``height`` pixels of the page)."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary, "chromium is required (Debian package `chromium`; `make test` installs it)"
    base = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp / 'chromium-profile'}",
    ]
    dom = subprocess.run(
        [*base, "--dump-dom", html.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    shot: Path | None = None
    if screenshot:
        shot = tmp / "shot.png"
        subprocess.run(
            [*base, f"--window-size=1400,{height}", f"--screenshot={shot}", html.as_uri()],
            capture_output=True,
            timeout=120,
            check=True,
        )
    return dom, shot


def colour_count(png: Path, colour: tuple[int, int, int], tolerance: int = 6) -> int:
    """Pixels of ``png`` within ``tolerance`` of ``colour`` on every channel."""
    pixels = np.asarray(Image.open(png).convert("RGB")).astype(int)
    return int(np.all(np.abs(pixels - np.array(colour)) <= tolerance, axis=-1).sum())


def hand_made_document() -> ReportDocument:
    sim = np.array([[0.9, 0.1, 0.0], [0.2, 0.8, 0.1], [0.0, 0.3, 0.7]], dtype=np.float32)
    rows = [
        ReportRow("A/RES/1/1:op1:s1", "operative", "1-1", PAYLOAD, "第一句。", 1.0),
        ReportRow("A/RES/1/1:op2:s1", "operative", "1-1", IMG_PAYLOAD, "第二句。", 0.1),
        ReportRow("A/RES/1/1:op3:s1", "operative", "1-1", "Third & last.", "第三句。", 0.9),
        ReportRow(
            "A/RES/1/1:op4:s1", "operative", "1-1", "Dropped.", "丢弃。", 0.2, "score_below_min"
        ),
    ]
    return ReportDocument(
        symbol="A/RES/1/1",
        source_en="<en>.txt",
        source_zh="zh.txt",
        rows=rows,
        similarity=sim,
        shape=(3, 3),
        path=[([0], [0]), ([1], [1]), ([2], [2])],
    )


def test_encode_png_round_trips() -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(7, 11, 3), dtype=np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(encode_png(rgb))).convert("RGB"))
    assert np.array_equal(decoded, rgb)


def test_block_mean_and_downsample() -> None:
    matrix = np.arange(20, dtype=np.float32).reshape(4, 5)
    assert np.allclose(block_mean(matrix, 2, 5), [[4.5], [14.5]])
    big = np.ones((1000, 30), dtype=np.float32)
    small = downsample(big, 100)
    assert small.shape == (100, 30)
    assert np.allclose(small, 1.0)


def test_similarity_picture_draws_the_path_in_red() -> None:
    sim = np.eye(4, dtype=np.float32)
    picture = similarity_picture(sim, (4, 4), [([0], [0]), ([1, 2], [1]), ([], [2]), ([3], [3])])
    cell = picture.shape[0] // 4
    assert picture.shape[0] >= 100  # small documents are scaled up to stay visible
    assert tuple(picture[cell // 2, cell // 2]) == RED
    assert tuple(picture[2 * cell + cell // 2, cell + cell // 2]) == RED  # the 2-1 bead
    assert tuple(picture[cell // 2, 3 * cell + cell // 2]) != RED  # off the path


def test_similarity_picture_of_a_big_document_is_bounded() -> None:
    sim = downsample(np.random.default_rng(1).random((3000, 2500)).astype(np.float32))
    path = [([i], [min(i, 2499)]) for i in range(3000)]
    picture = similarity_picture(sim, (3000, 2500), path)
    assert max(picture.shape[:2]) <= 400
    assert (picture == np.array(RED, dtype=np.uint8)).all(axis=-1).any()


def test_hand_made_report_renders_escaped_text_and_runs_no_script(tmp_path: Path) -> None:
    html = render_report(
        [hand_made_document()],
        unpaired=[("A/RES/2/2", "en", "<b>bold</b>.txt")],
        rejected=[("junk.bin", "binary file <not text>")],
        low_score=0.5,
    )
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    dom, shot = chromium(path, tmp_path, screenshot=True)
    assert not re.search(r"<body[^>]*data-pwned", dom)  # neither payload ran
    assert "<script" not in dom.lower()  # nor became an element
    assert "&lt;script&gt;document.body.setAttribute" in dom
    assert "&lt;img src=x onerror=" in dom
    assert "Third &amp; last." in dom
    assert "&lt;b&gt;bold&lt;/b&gt;.txt" in dom
    assert "binary file &lt;not text&gt;" in dom
    assert len(re.findall(r"<tr class=\"low\">", dom)) == 1  # the 0.1 row only
    assert len(re.findall(r"<tr class=\"rejected\">", dom)) == 1
    assert re.search(r"<img class=\"matrix\"[^>]*src=\"data:image/png;base64,", dom)
    assert shot is not None
    assert colour_count(shot, RED) > 500  # the path is drawn
    assert colour_count(shot, LOW_BG) > 1000  # the low row is highlighted


def test_report_has_no_external_assets() -> None:
    html = render_report([hand_made_document()], low_score=0.5)
    assert not re.search(r"(src|href)=['\"](?!data:|#)", html)
    assert "<script" not in html.replace("&lt;script", "")


def test_seed_report_renders_in_chromium(tmp_path: Path, seed_corpus: BuiltCorpus) -> None:
    import base64

    import pandas as pd

    index = (seed_corpus.out / "report.html").read_text(encoding="utf-8")
    links = re.findall(r"<a href='([^']+)'>([^<]+)</a>", index)
    assert links == [("report/A-RES-75-58.html", "A/RES/75/58")]  # one line per document
    report = seed_corpus.out / links[0][0]
    # the document's page
    dom, shot = chromium(report, tmp_path, screenshot=True, height=12000)
    assert "<script" not in dom.lower()
    sections = re.findall(r"<section class=\"document\" id=\"([^\"]+)\"", dom)
    assert sections == ["doc-A-RES-75-58"]
    kept = pd.read_parquet(seed_corpus.out / "en-zh")
    rejected = pd.read_parquet(seed_corpus.out / "rejects" / "en-zh")
    rows = re.findall(r"<tr(?: class=\"[^\"]*\")?><td>A/RES/75/58:", dom)
    assert len(rows) == len(kept) + len(rejected)
    low = kept[(kept["score"] < 0.5) & (kept["en"] != "") & (kept["zh"] != "")]
    assert len(re.findall(r"<tr class=\"low\">", dom)) == len(low)
    assert len(re.findall(r"<tr class=\"rejected\">", dom)) == len(rejected)
    # side-by-side text, escaped and complete
    op1 = kept[kept["id"] == "A/RES/75/58:op1:s1"].iloc[0]
    assert f'<td lang="en">{op1["en"]}</td><td lang="zh">{op1["zh"]}</td>' in dom
    unpaired = index[index.index("id='unpaired'") : index.index("id='rejected'")]
    assert "A/RES/76/28" in unpaired and "A/RES/78/43" in unpaired
    problems = index[index.index("id='rejected'") : index.index("id='documents'")]
    assert "empty.txt" in problems and "no-symbol.txt" in problems
    # the similarity picture: a real PNG of the document, the path drawn on it
    data = re.search(r"<img class=\"matrix\"[^>]*src=\"data:image/png;base64,([^\"]+)\"", dom)
    assert data is not None
    picture = np.asarray(Image.open(io.BytesIO(base64.b64decode(data.group(1)))).convert("RGB"))
    assert min(picture.shape[:2]) >= 100
    assert (picture == np.array(RED, dtype=np.uint8)).all(axis=-1).mean() > 0.01
    assert shot is not None
    red_in_picture = int((picture == np.array(RED, dtype=np.uint8)).all(axis=-1).sum())
    # Chromium decoded and painted the picture at its size (the top of the page is shot)
    assert colour_count(shot, RED) >= 0.8 * red_in_picture
    # highlighting itself is shown on the hand-made document (test above): the seeds'
    # beads all score above 0.5 now, and the count of highlighted rows is checked above


def test_streamed_report_lists_failed_pairs(tmp_path: Path) -> None:
    from pipeline.corpus.report import ReportWriter, page_name, render_document, render_page

    doc = hand_made_document()
    writer = ReportWriter(tmp_path / "r.html", low_score=0.5)
    writer.start("t", {}, [], [])
    writer.add_document(doc)
    writer.close(failed=[("A/RES/3/3", "alignment failed: ValueError: <bad>")])
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert html.endswith(
        render_failures([("A/RES/3/3", "alignment failed: ValueError: <bad>")]) + "</body></html>\n"
    )
    assert "alignment failed: ValueError: &lt;bad&gt;" in html
    # the index links the document's page, which holds its whole section
    page = tmp_path / "report" / page_name(doc.symbol)
    assert f"<a href='report/{page_name(doc.symbol)}'>" in html
    assert page.read_text(encoding="utf-8") == render_page(doc, low_score=0.5)
    assert render_document(doc, low_score=0.5) in page.read_text(encoding="utf-8")
    assert "<section class='document'" not in html


def test_document_anchor_is_a_valid_html_id() -> None:
    """HTML ids hold no spaces; a resolution in parts has one in its symbol ("77/126 B")."""
    from dataclasses import replace

    doc = replace(hand_made_document(), symbol="A/RES/77/126 B")
    ids = re.findall(r"id=['\"]([^'\"]*)['\"]", render_report([doc], low_score=0.5))
    assert "doc-A-RES-77-126-B" in ids
    assert all(not re.search(r"\s", i) for i in ids)


@pytest.mark.parametrize("n, m", [(5, 7), (2500, 900), (1500, 3100)])
def test_row_blocked_similarity_equals_whole_matrix_downsampled(n: int, m: int) -> None:
    """The build computes the picture in row blocks (never the full matrix of a long
    document); it must be the picture of the full matrix, up to its float16 storage."""
    from pipeline.runner.stages.align import similarity_matrix

    rng = np.random.default_rng(7)
    en = rng.standard_normal((n, 16)).astype(np.float32)
    zh = rng.standard_normal((m, 16)).astype(np.float32)
    blocked = similarity_matrix(en, zh)
    whole = downsample(en @ zh.T)
    assert blocked.shape == whole.shape and max(blocked.shape) <= MAX_PICTURE_PX
    np.testing.assert_allclose(blocked, whole, atol=0.05, rtol=0.002)


def hand_made_summary() -> dict:
    from pipeline.corpus.summary import score_bins

    def split(rows: int, seen: int, histogram: list[int]) -> dict:
        return {
            "lineages": 1,
            "documents": 2,
            "pairs": 1,
            "sentences": rows,
            "paragraphs": rows,
            "sentences_seen_in_train": seen,
            "paragraphs_seen_in_train": 0,
            "share_seen_in_train": seen / rows if rows else None,
            "score_histogram": histogram,
        }

    return {
        "splits": {
            "train": split(40, 0, [0, 0, 1, 9, 22, 7, 1, 0]),
            "validation": split(0, 0, [0] * 8),
            "test": split(10, 4, [0, 1, 1, 2, 3, 2, 1, 0]),
        },
        "score_bins": score_bins(),
        "largest_dup_groups": [
            {
                "dup_group": "00ff",
                "rows": 3,
                "splits": {"train": 2, "validation": 0, "test": 1},
                "en": PAYLOAD,
                "zh": "大会，",
            }
        ],
        "largest_lineages": [
            {
                "lineage": "c7367519bb323497",
                "key": "A/RES/75/58",
                "split": "train",
                "documents": 4,
                "symbols": 3,
            },
        ],
    }


def test_splits_section_renders_counts_histogram_and_groups(tmp_path: Path) -> None:
    from pipeline.corpus.report import ReportWriter

    writer = ReportWriter(tmp_path / "r.html", low_score=0.5)
    writer.start("t", {}, [], [])
    writer.add_document(hand_made_document())
    writer.close(summary=hand_made_summary())
    dom, shot = chromium(tmp_path / "r.html", tmp_path, screenshot=True)
    assert not re.search(r"<body[^>]*data-pwned", dom) and "<script" not in dom.lower()
    section = dom[dom.index('id="splits"') :]
    assert "&lt;script&gt;document.body.setAttribute" in section  # a group's text, escaped
    assert re.search(
        r"<th>test</th><td>1</td><td>2</td><td>1</td><td>10</td><td>10</td>"
        r"<td>4 \(40\.0%\)</td>",
        section,
    )
    bars = re.findall(r'<span class="bar (train|validation|test)" style="width:([\d.]+)%">', dom)
    assert len(bars) == 3 * 8
    assert max(float(w) for s, w in bars if s == "train") == 80.0  # the fullest bin
    assert shot is not None and colour_count(shot, (0x3A, 0x7B, 0xD5)) > 200  # train bars drawn
    assert "A/RES/75/58" in section and "c7367519bb323497" in section


def test_png_is_encoded_by_pillow_deterministically() -> None:
    rgb = np.zeros((5, 9, 3), dtype=np.uint8)
    rgb[2, 3] = RED
    first, second = encode_png(rgb), encode_png(rgb.copy())
    assert first == second and first.startswith(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(ValueError, match="uint8"):
        encode_png(rgb.astype(np.float32))


def test_every_template_is_package_data_of_the_wheel() -> None:
    """The report loads its templates from the package: pyproject must ship each one."""
    import fnmatch
    import tomllib

    from conftest import REPO

    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["pipeline.corpus"]
    folder = REPO / "pipeline" / "corpus" / "templates"
    files = sorted(p.relative_to(folder.parent).as_posix() for p in folder.iterdir())
    assert files and all(any(fnmatch.fnmatch(f, pat) for pat in patterns) for f in files)
