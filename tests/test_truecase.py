"""Headlines in title case or capitals are parsed in sentence case; claims still quote them as printed."""

from __future__ import annotations

import pytest

from claimmatch.claims import extract_claims
from claimmatch.records import Document
from claimmatch.truecase import CaseEvidence, headline_case, sentence_case


@pytest.mark.parametrize(("text", "kind"), [
    ("CBS Realigns Entertainment Divisions", "title"),
    ("Nokia To Use Holograms To Thwart Battery Counterfeiters", "title"),
    ("BRAZIL CRITICISES ADVISORY COMMITTEE STRUCTURE", "upper"),
    ("Russia to back Syrian regime forces in new Aleppo offensive", None),
    ("Blair meets Bush in Washington", None),  # names in a sentence-case headline
    ("NATO", None),
])
def test_headline_case(text, kind):
    assert headline_case(text) == kind


def test_sentence_case_changes_only_case_lowers_common_words_and_keeps_names():
    for text, want in [
        ("CBS Realigns Entertainment Divisions", "CBS realigns entertainment divisions"),
        ("Nokia To Use Holograms To Thwart Battery Counterfeiters",
         "Nokia to use holograms to thwart battery counterfeiters"),
        ("BRAZIL CRITICISES ADVISORY COMMITTEE STRUCTURE", "Brazil criticises advisory committee structure"),
        ("U.S. WHEAT GROUPS CALL FOR GLOBAL ACTION", "U.S. wheat groups call for global action"),
        ("Clijsters May Play in Melbourne", "Clijsters may play in Melbourne"),
        ("Sales Rose Sharply in May 2004", "Sales rose sharply in May 2004"),
        ("HP Hugs JBoss Tighter", "HP hugs JBoss tighter"),  # capitals inside a word: as printed
    ]:
        got = sentence_case(text)
        assert got == want
        assert len(got) == len(text) and got.lower() == text.lower()
    assert sentence_case("Russia to back Syrian regime forces") == "Russia to back Syrian regime forces"


def test_the_articles_own_spelling_decides_before_the_word_list():
    body = "Rebels shelled the town. The rebels say the cease-fire is over. Sale Sharks won at Sale on Friday."
    evidence = CaseEvidence(body)
    assert evidence.verdict("rebels") is True  # the sentence-initial "Rebels" is no evidence
    assert evidence.verdict("sale") is False
    assert evidence.verdict("aleppo") is None
    assert sentence_case("Russia, Syria Plan Operation Against Rebels", evidence) == \
        "Russia, Syria plan operation against rebels"
    assert sentence_case("Worcester Beat Sale Sharks Away", evidence) == "Worcester beat Sale Sharks away"


def test_title_claims_get_the_frame_of_the_sentence_case_parse_and_quote_the_title_as_printed():
    docs = [Document(doc_id="a", title="Intel Posts Higher Profit, Sales",
                     text="Intel said on Tuesday that its quarterly profit rose on higher sales of chips."),
            Document(doc_id="b", title="BRAZIL CRITICISES ADVISORY COMMITTEE STRUCTURE",
                     text="Brazil criticised the structure of the bank's advisory committee, officials said.")]
    rows = {r["doc_id"]: r for r in extract_claims(docs).to_dicts() if r["is_title"]}
    assert (rows["a"]["agent"], rows["a"]["predicate"], rows["a"]["patient"]) == ("Intel", "post", "Higher Profit")
    assert rows["a"]["text"].startswith("Intel Posts Higher Profit")
    assert (rows["b"]["agent"], rows["b"]["predicate"]) == ("BRAZIL", "criticise")
    assert rows["b"]["entities"] == ["BRAZIL"]  # not "BRAZIL CRITICISES ADVISORY COMMITTEE"
    assert rows["b"]["sentence"][rows["b"]["char_start"]:rows["b"]["char_end"]] == \
        "BRAZIL CRITICISES ADVISORY COMMITTEE STRUCTURE"
    printed = {r["doc_id"]: r for r in extract_claims(docs, truecase=False).to_dicts() if r["is_title"]}
    assert printed["a"]["predicate"] != "post"  # what the parser made of the title as printed


def test_a_table_row_in_capitals_is_a_claim_with_its_act():
    rows = extract_claims([Document(doc_id="r", text="CANADIAN SEAFARERS THREATEN STRIKE")]).to_dicts()
    assert [(r["agent"], r["predicate"], r["patient"]) for r in rows] == \
        [("CANADIAN SEAFARERS", "threaten", "STRIKE")]
