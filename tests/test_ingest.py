from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from claimmatch.errors import InputError
from claimmatch.ingest import load_documents
from claimmatch.records import IngestReport

from .conftest import SEEDS


def test_seed_folder_titles_and_outlets():
    docs = load_documents([SEEDS])
    assert [d.doc_id for d in docs] == sorted(p.stem for p in SEEDS.glob("*.txt"))
    by_id = {d.doc_id: d for d in docs}
    assert by_id["001_15b79afc7942ee4d"].title == "Russia to back Syrian regime forces in new Aleppo offensive"
    # A date stamp or stray fragment on the first line is not taken for the headline.
    assert by_id["004_8fa622ced72f9faa"].title.startswith("Russia, Iran and Hezbollah")
    assert by_id["003_a21a445851ba400b"].title.startswith("Russia Pounds Al-Qaeda")
    assert all(d.outlet == d.doc_id for d in docs)  # no metadata: each document is its own outlet


def test_tables_and_outlet_map(tmp_path: Path):
    (tmp_path / "a.jsonl").write_text(
        json.dumps({"id": "j1", "text": "Body one.", "outlet": "Wire", "url": "http://x/1"}) + "\n\n"
        + json.dumps({"id": "j2", "text": "Body two."}) + "\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text('id,text,title\nc1,"Body, three.",T3\n', encoding="utf-8")
    pl.DataFrame({"id": ["p1"], "text": ["Body four."], "outlet": ["Paper"]}).write_parquet(tmp_path / "c.parquet")
    (tmp_path / "d.txt").write_text("Plain title here\n\nBody five.", encoding="utf-8")
    omap = tmp_path / "map.csv.map"
    omap.write_text("doc_id,outlet\nd,Daily\nj2,Mapped\n", encoding="utf-8")
    docs = {d.doc_id: d for d in load_documents([tmp_path / n for n in ("a.jsonl", "b.csv", "c.parquet", "d.txt")],
                                                outlets=omap)}
    assert docs["j1"].outlet == "Wire" and docs["j1"].url == "http://x/1"
    assert docs["j2"].outlet == "Mapped"
    assert docs["c1"].title == "T3" and docs["c1"].text == "Body, three." and docs["c1"].outlet == "c1"
    assert docs["p1"].outlet == "Paper"
    assert docs["d"].outlet == "Daily" and docs["d"].title == "Plain title here"


def test_malformed_jsonl_names_file_and_line(tmp_path: Path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "text": "ok"}\n{"id": 2, "text": \n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.jsonl:2: malformed JSON"):
        load_documents([bad])
    report = IngestReport()
    docs = load_documents([bad], report, skip_bad_rows=True)
    assert [d.doc_id for d in docs] == ["1"] and report.skipped_rows == [f"{bad}:2"]


def test_csv_missing_column_and_bad_row(tmp_path: Path):
    (tmp_path / "nocol.csv").write_text("id,body\n1,x\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"nocol\.csv:1: no 'text' or 'claim' column"):
        load_documents([tmp_path / "nocol.csv"])
    (tmp_path / "short.csv").write_text("id,text,title\n1,fine,t\n2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"short\.csv:3: wrong number of fields"):
        load_documents([tmp_path / "short.csv"])


def test_binary_and_bad_utf8_files(tmp_path: Path):
    (tmp_path / "good.txt").write_text("A fine headline here\n\nText.", encoding="utf-8")
    (tmp_path / "blob.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "latin.txt").write_bytes("Caf\xe9 owners protest today\n\nText.".encode("latin-1"))
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    report = IngestReport()
    docs = load_documents([tmp_path], report)
    assert sorted(d.doc_id for d in docs) == ["good", "latin"]
    assert "\ufffd" in next(d for d in docs if d.doc_id == "latin").text
    assert sorted(Path(p).name for p in report.skipped_files) == ["blob.txt", "image.png"]
    assert any("invalid UTF-8" in w and "latin.txt" in w for w in report.warnings)
    with pytest.raises(InputError, match=r"image\.png: not a supported article file"):
        load_documents([tmp_path], strict=True)


def test_no_input_and_empty_folder(tmp_path: Path):
    with pytest.raises(InputError, match="no input"):
        load_documents([])
    with pytest.raises(InputError, match="no article files found"):
        load_documents([tmp_path])
    with pytest.raises(InputError, match="no such file"):
        load_documents([tmp_path / "missing"])


def test_duplicate_ids_are_refused(tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.txt").write_text("Title number one\n\nBody.", encoding="utf-8")
    (tmp_path / "b" / "x.txt").write_text("Title number two\n\nBody.", encoding="utf-8")
    with pytest.raises(InputError, match="duplicate document id 'x'"):
        load_documents([tmp_path])


def test_claim_tables_without_ids(tmp_path: Path):
    """One claim per row, in a 'claim' column, with no 'id': rows are named after the file and row."""
    import polars as pl

    (tmp_path / "claims.jsonl").write_text('{"claim": "Oil prices rise"}\n\n{"claim": "Rates fall", "outlet": "W"}\n',
                                           encoding="utf-8")
    (tmp_path / "more.csv").write_text("claim,outlet\nThe harbour reopened,Port News\n", encoding="utf-8")
    pl.DataFrame({"claim": ["Inflation eased in May"]}).write_parquet(tmp_path / "last.parquet")
    docs = load_documents([tmp_path])
    assert [(d.doc_id, d.text, d.outlet) for d in docs] == [
        ("claims:1", "Oil prices rise", "claims:1"), ("claims:3", "Rates fall", "W"),
        ("last:1", "Inflation eased in May", "last:1"), ("more:2", "The harbour reopened", "Port News")]
    (tmp_path / "bad.jsonl").write_text('{"id": "", "claim": "x"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.jsonl:1: row has an empty 'id'"):
        load_documents([tmp_path / "bad.jsonl"])


def test_a_one_paragraph_row_of_several_sentences_has_no_title(tmp_path):
    """A post or comment in one line is a body (its sentences are claims with context), not a headline;
    a short row stays a headline even with two sentences, and a first line above a body stays the title."""
    post = ("No, Iran cannot help the United States in Syria. Its goal is to complete its nuclear program, "
            "and the U.S. knows it.")
    rows = tmp_path / "posts.jsonl"
    rows.write_text(json.dumps({"text": post}) + "\n"
                    + json.dumps({"text": "The Handbag? Total Knockoff. The Price Tag? All Too Real."}) + "\n"
                    + json.dumps({"text": "Portville harbour closed\nThe harbour was closed. Ships waited."}) + "\n",
                    encoding="utf-8")
    docs = load_documents([rows])
    assert [d.title for d in docs] == ["", "The Handbag? Total Knockoff. The Price Tag? All Too Real.",
                                       "Portville harbour closed"]
    one_paragraph = tmp_path / "note.txt"
    one_paragraph.write_text(post + "\n", encoding="utf-8")
    assert load_documents([one_paragraph])[0].title == ""
