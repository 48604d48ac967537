"""Claims from the dependency parser: atomic propositions, attribution, frames, titles and one-liners."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from claimmatch.claims import documents_without_claims, extract_claims
from claimmatch.clean import clean_documents
from claimmatch.ingest import load_documents
from claimmatch.records import CLAIM_COLUMNS, Document

from .conftest import SEEDS

pytestmark = pytest.mark.slow  # loads the spaCy pipeline

DATA = Path(__file__).parent / "data"


def claims_of(sentence: str) -> list[dict]:
    """Claims of a one-paragraph body (no title), as rows."""
    text = f"{sentence}\n\nA second paragraph keeps this one from being a one-line document."
    rows = extract_claims([Document(doc_id="d", text=text)]).to_dicts()
    return [r for r in rows if r["sentence_id"] == 1]


def only(rows: list[dict], needle: str) -> dict:
    found = [r for r in rows if needle in r["text"]]
    assert len(found) == 1, (needle, [r["text"] for r in rows])
    return found[0]


def test_coordinated_main_clauses_are_two_claims():
    rows = claims_of("The army shelled the town on Monday and the rebels withdrew to the hills.")
    assert [r["text"] for r in rows] == ["The army shelled the town on Monday.", "The rebels withdrew to the hills."]
    assert rows[0]["predicate"] == "shell" and rows[1]["predicate"] == "withdraw"
    assert rows[0]["dates"] == ["Monday"]


def test_comma_splice_is_two_claims_each_with_its_own_negation():
    """ARC post: the parser hangs the first clause on the second's verb, so the negation went with it."""
    rows = claims_of("No, Iran cannot help the United States in Syria, its goal is to complete its nuclear program.")
    first = only(rows, "Iran cannot help")
    assert first["negated"] and first["predicate"] == "help" and first["text"].endswith("in Syria.")
    assert only(rows, "Its goal")["negated"] is False
    splice = claims_of("Javy Lopez drove in four runs, Daniel Cabrera became the first rookie to win 10 games.")
    assert [r["text"] for r in splice] == ["Javy Lopez drove in four runs.",
                                          "Daniel Cabrera became the first rookie to win 10 games."]


@pytest.mark.parametrize("sentence", [
    "The truce will fail, officials fear.",  # the second clause reports the first
    "Red Hat has acquired the Netscape server products of AOL, the companies plan to announce Thursday.",
    "Meanwhile Bud tells DC, a deal is a deal.",  # the first clause reports the second
    "AMD is expected to unveil its most powerful desktop processors to date this week, a few days after rival "
    "Intel disclosed changes to its desktop processor road map.",
])
def test_a_comma_is_no_splice_where_one_clause_reports_or_modifies_the_other(sentence):
    rows = claims_of(sentence)
    assert len(rows) <= 2 and not any(r["text"].lower().startswith(("the companies plan", "a few days after"))
                                      for r in rows), [r["text"] for r in rows]
    if "officials fear" in sentence:
        assert [r["text"] for r in rows] == [sentence]


@pytest.mark.parametrize("sentence, main, second", [
    ("Oil prices set a new record above $50 a barrel on Tuesday as a prolonged U.S. production outage "
     "attracted fresh speculative buying.", "Oil prices set a new record above $50 a barrel on Tuesday.",
     "A prolonged U.S. production outage attracted fresh speculative buying."),
    ("Millions of French students returned to school Thursday as a new law that bans head scarves from "
     "classrooms went into effect.", "Millions of French students returned to school Thursday.",
     "A new law that bans head scarves from classrooms went into effect."),
])
def test_the_subject_of_an_as_clause_is_not_the_main_clauses(sentence, main, second):
    """AG News: the parser takes the as-clause's subject for the object of "as" and hangs its verb on the
    main verb with no "and"; the verb then borrowed the main subject ("Oil prices attracted fresh speculative
    buying", a claim nobody made, and a who-did-it flag against the outlet that named the outage)."""
    rows = claims_of(sentence)
    assert [r["text"] for r in rows] == [main, second]
    assert rows[1]["agent"].lower().startswith(("a prolonged", "a new law"))


def test_coordinated_verbs_share_their_subject():
    rows = claims_of("President Vladimir Putin withdrew some of the Russian forces, but kept up strikes.")
    texts = [r["text"] for r in rows]
    assert "President Vladimir Putin kept up strikes." in texts
    assert any(t.startswith("President Vladimir Putin withdrew some of the Russian forces") for t in texts)


def test_adverbial_clause_is_split_off():
    rows = claims_of("Assad's government will hold parliamentary elections on Wednesday, even though opposition "
                     "leaders have declared them illegitimate.")
    main = only(rows, "parliamentary elections")
    assert main["text"] == "Assad's government will hold parliamentary elections on Wednesday."
    assert main["modality"] == "will" and main["predicate"] == "hold" and main["dates"] == ["Wednesday"]
    assert only(rows, "declared")["text"] == "Opposition leaders have declared them illegitimate."


@pytest.mark.parametrize("sentence", [
    "The minister said the talks would resume in Geneva on Monday.",
    "The talks would resume in Geneva on Monday, the minister said.",
    "“The talks would resume in Geneva on Monday,” the minister said.",
])
def test_reported_speech_in_both_orders(sentence):
    rows = claims_of(sentence)
    assert len(rows) == 1, [r["text"] for r in rows]
    row = rows[0]
    assert row["text"] == "The talks would resume in Geneva on Monday."
    assert row["speaker"] == "the minister" or row["speaker"] == "The minister"
    assert row["reporting_verb"] == "say" and row["stance"] == "asserts"
    assert row["predicate"] == "resume" and "Geneva" in row["entities"]


def test_quote_first_with_inverted_verb():
    rows = claims_of("“Russian aviation will help the Syrian army’s ground offensive operation,” said Dmitry "
                     "Sablin, a member of Russia’s upper house of parliament.")
    row = only(rows, "aviation")
    assert row["text"] == "Russian aviation will help the Syrian army’s ground offensive operation."
    assert row["speaker"] == "Dmitry Sablin"


def test_according_to():
    row = only(claims_of("According to the Syrian Observatory, 35 fighters were killed near Aleppo."), "killed")
    assert row["text"] == "35 fighters were killed near Aleppo."
    assert row["speaker"] == "the Syrian Observatory" and row["reporting_verb"] == "according to"
    assert row["numbers"] == ["35"]


def test_denial_keeps_the_proposition_and_marks_the_stance():
    row = only(claims_of("The ministry denied that its jets had struck the hospital."), "struck")
    assert row["text"] == "Its jets had struck the hospital."
    assert row["stance"] == "denies" and row["speaker"] == "The ministry" and row["reporting_verb"] == "deny"


def test_passive_with_agent_and_negation():
    row = claims_of("The ceasefire was violated by government forces.")[0]
    assert (row["agent"], row["predicate"], row["patient"]) == ("government forces", "violate", "The ceasefire")
    neg = claims_of("The rebel forces in Aleppo are not members of the Nusra Front.")[0]
    assert neg["negated"] and not row["negated"]


def test_plans_to_is_modality_of_the_act():
    row = claims_of("The Syrian regime plans to hold parliamentary elections on Wednesday.")[0]
    assert row["predicate"] == "hold" and row["modality"] == "plans" and row["agent"] == "The Syrian regime"


def test_non_restrictive_relative_clause_and_apposition_about_a_named_thing():
    rows = claims_of("Russian airstrikes have resumed south of Aleppo, the city that may prove to be the final "
                     "battleground of the war.")
    assert only(rows, "airstrikes")["text"] == "Russian airstrikes have resumed south of Aleppo."
    assert only(rows, "battleground")["text"].startswith("Aleppo is the city that may prove")
    rel = claims_of("The rebels joined the Nusra Front, which was excluded from the truce.")
    assert only(rel, "excluded")["text"] == "The Nusra Front was excluded from the truce."
    # A restrictive relative clause stays inside its claim.
    restrictive = claims_of("The groups that had agreed to the truce took part in the attacks.")
    assert [r["text"] for r in restrictive] == ["The groups that had agreed to the truce took part in the attacks."]


def test_passive_it_is_resolved_from_the_previous_sentence_and_keep_on_names_the_act():
    text = ("The ceasefire came into effect in February. But it has been widely violated by the regime forces.\n\n"
            "Extremist groups keep on breaching the ceasefire agreement.")
    rows = extract_claims([Document(doc_id="d", text=text)]).to_dicts()
    violated = only(rows, "violated")
    assert violated["text"] == "The ceasefire has been widely violated by the regime forces."
    assert (violated["agent"], violated["predicate"]) == ("the regime forces", "violate")
    assert only(rows, "breaching")["predicate"] == "breach"


def test_questions_assert_nothing():
    assert claims_of("Does the cease-fire agreement have any prospects for the future?") == []
    # Nor does an embedded question: only the warning is a claim.
    rows = claims_of("What is now happening in Aleppo and around it – we warned the Americans about this in advance.")
    assert [r["text"] for r in rows] == [
        "What is now happening in Aleppo and around it – we warned the Americans about this in advance."]


def test_headline_without_verb_and_speaker_lead():
    df = extract_claims([Document(doc_id="h", text="", title="Fed's Plosser: weak data caused by weather")])
    assert df["text"].to_list() == ["Weak data caused by weather."]
    assert df["speaker"].to_list() == ["Fed's Plosser"] and df["is_title"].to_list() == [True]
    verbless = extract_claims([Document(doc_id="v", text="", title="Aleppo Cease-fire on Brink of Collapse")])
    assert verbless["text"].to_list() == ["Aleppo Cease-fire on Brink of Collapse."]


def test_headline_verbs_after_a_comma_share_the_first_clauses_subject():
    """Read as quote-first news ("…, notes the report"), the second act lost its doer: "Notes Big Jump In Attacks"."""
    df = extract_claims([Document(doc_id="h", text="", title="IBM Unveils Security Intel Service, Notes Big Jump In Attacks")])
    assert [(r["text"], r["agent"], r["predicate"], r["reporting_verb"]) for r in df.to_dicts()] == [
        ("IBM Unveils Security Intel Service.", "IBM", "unveil", None),
        ("IBM Notes Big Jump In Attacks.", "IBM", "note", None)]
    reported = extract_claims([Document(doc_id="r", text="", title="Rates to rise, says Fed")])
    assert reported["speaker"].to_list() == ["Fed"]  # a verb with its own subject still reports


def test_headline_with_a_source_after_the_colon():
    """AG News titles that gave no claim: the source named after the colon is the speaker, not the claim."""
    titles = {"a": "Older mobiles may cause tumours: study", "b": "Arafat in critical condition: aides",
              "c": "Serial blasts rock NE: 19 killed"}
    df = extract_claims([Document(doc_id=k, text="", title=t) for k, t in titles.items()])
    assert set(df["doc_id"]) == set(titles)
    first = {r["doc_id"]: r for r in df.iter_rows(named=True)}
    assert first["a"]["text"] == "Older mobiles may cause tumours." and first["a"]["speaker"] == "study"
    assert first["b"]["speaker"] == "aides" and "Arafat" in first["b"]["text"]
    assert first["c"]["speaker"] != "19 killed"


def test_headline_with_its_source_before_says():
    """AG News titles that gave no claim: "…, mayor says" was read as a bare reporting verb and dropped."""
    titles = {"a": "San Diego fiscally sound, mayor says", "b": "TSA Deal Overpaid Boeing, Report Says",
              "c": "Cingular to Reduce Work Force by Roughly 10 Percent, CEO Says"}
    df = extract_claims([Document(doc_id=k, text="", title=t) for k, t in titles.items()])
    rows = {r["doc_id"]: r for r in df.iter_rows(named=True)}
    assert set(rows) == set(titles)
    assert rows["a"]["text"] == "San Diego fiscally sound." and rows["a"]["speaker"] == "mayor"
    assert rows["b"]["speaker"] == "Report" and "says" not in rows["b"]["text"].lower()
    assert rows["c"]["speaker"] == "CEO" and rows["c"]["numbers"] == ["10"]
    # A body sentence keeps the parser's reading.
    body = extract_claims([Document(doc_id="x", text="Opening line here. The harbour was closed, the mayor said.")])
    assert "The harbour was closed." in body["text"].to_list()


def test_a_row_of_a_table_is_a_claim_however_short(tmp_path):
    """A headline table gives a claim per row: a score line, a one-word item; a bare number states nothing."""
    table = tmp_path / "rows.jsonl"
    table.write_text('{"claim": "76ers 114, Wizards 107"}\n{"claim": "Transactions"}\n{"claim": "2016"}\n',
                     encoding="utf-8")
    docs = clean_documents(load_documents([table]))
    df = extract_claims(docs)
    assert df["text"].to_list() == ["76ers 114, Wizards 107.", "Transactions."]
    assert documents_without_claims(docs, df) == ["rows:3"]
    # A one-word title above an article's body is no claim: the body speaks for the article.
    titled = extract_claims([Document(doc_id="t", title="Transactions", text="The club signed two players.")])
    assert titled["text"].to_list() == ["The club signed two players."]


def test_a_speaker_or_doer_alone_is_no_claim():
    """Seed fragments that clustered across outlets: a reporting verb with nothing reported, a bare "do"."""
    text = ("A Syrian regime forces source said. The Russia-supported Syria's regular forces do. "
            "The minister resigned. He said the talks failed.")
    df = extract_claims([Document(doc_id="x", text=text)])
    assert df["text"].to_list() == ["The minister resigned.", "The talks failed."]


def test_one_line_documents_without_final_punctuation(tmp_path):
    table = tmp_path / "lines.csv"
    table.write_text("id,text\na,Oil prices rise as OPEC cuts output\nb,Intel cuts Pentium 4 prices\n"
                     "c,The harbour reopened on Monday.\n", encoding="utf-8")
    df = extract_claims(clean_documents(load_documents([table])))
    assert set(df["doc_id"]) == {"a", "b", "c"}
    assert {"Oil prices rise.", "OPEC cuts output.", "Intel cuts Pentium 4 prices."} <= set(df["text"])


def test_headline_table_gives_a_claim_per_headline():
    """40 real AG News titles in a 'claim' column without ids: every headline is at least one claim."""
    docs = clean_documents(load_documents([DATA / "headlines.jsonl"]))
    assert len(docs) == 40 and docs[0].doc_id == "headlines:1"
    df = extract_claims(docs)
    assert documents_without_claims(docs, df) == []
    assert df["is_title"].all()


def test_documents_without_claims_are_named():
    docs = [Document(doc_id="empty", text="2016"), Document(doc_id="ok", text="The harbour was closed on Monday.")]
    df = extract_claims(docs)
    assert documents_without_claims(docs, df) == ["empty"]


def test_schema_offsets_and_ids():
    text = "Opening line of the body.\n\nThe army shelled the town and the rebels withdrew to the hills."
    doc = Document(doc_id="x", text=text, title="Town shelled: army", outlet="O", url="http://o/1")
    df = extract_claims([doc])
    assert df.columns == CLAIM_COLUMNS
    for r in df.iter_rows(named=True):
        assert r["claim_id"] == f"x#{r['sentence_id']}.{r['claim_id'].rsplit('.', 1)[1]}"
        source = doc.title if r["is_title"] else doc.text
        assert source[r["sentence_start"]:r["sentence_start"] + len(r["sentence"])] == r["sentence"]
        assert r["sentence_start"] <= r["char_start"] < r["char_end"] <= r["sentence_start"] + len(r["sentence"])
    body = df.filter(pl.col("sentence_id") == 2)
    assert body["claim_id"].to_list() == ["x#2.0", "x#2.1"]
    assert text[body["char_start"][1]:body["char_end"][1]] == "the rebels withdrew to the hills"


def test_empty_input_has_the_schema():
    assert extract_claims([]).columns == CLAIM_COLUMNS
    assert extract_claims([]).schema == extract_claims([Document(doc_id="x", text="")]).schema


def test_seed_claims_are_deterministic_and_shared_sub_claims_are_atomic():
    docs = clean_documents(load_documents([SEEDS]))
    first, second = extract_claims(docs), extract_claims(docs)
    assert first.equals(second)
    assert first["claim_id"].n_unique() == len(first)
    texts = first["text"].to_list()
    assert "Assad’s government will hold parliamentary elections on Wednesday." in texts
    assert "Russian airstrikes have already resumed south of Aleppo." in texts
    halqi = first.filter(pl.col("text").str.contains("together with our Russian partners", literal=True))
    assert halqi.height == 1 and "Halqi" in halqi["speaker"][0]


def test_impersonal_it_is_no_speaker():
    row = only(claims_of("It is propitious to note that al-Nusra militants in Aleppo are not fighting Islamic State."),
               "not fighting")
    assert row["speaker"] is None
    assert row["negated"] is True


def test_reduced_passive_with_agent_is_a_claim_of_who_did_it():
    rows = claims_of("With the peace process stalled and cease-fire breached by US-backed terrorist groups, "
                     "Russia's patience is clearly running out.")
    row = only(rows, "breached")
    assert row["text"] == "Cease-fire was breached by US-backed terrorist groups."
    assert (row["agent"], row["predicate"], row["patient"]) == ("US-backed terrorist groups", "breach", "cease-fire")
    assert "breached" not in only(rows, "stalled")["text"]
    report = only(claims_of("The report, written by two analysts, was published on Monday."), "published")
    assert report["text"] == "The report was published on Monday."


def test_participle_with_a_subject_is_no_clause_of_its_own():
    rows = claims_of("Russia had already decreased its forces operating in Syria, as it scaled down its airstrikes.")
    assert not any(r["text"].startswith("Its forces operating") for r in rows)
    assert any("decreased its forces operating in Syria" in r["text"] for r in rows)


def test_plural_relative_clause_after_coordinated_names_describes_them_all():
    rows = claims_of("The rebel forces in Aleppo are not members of ISIS or al-Qaeda’s Nusra Front, which were both "
                     "excluded from the ceasefire agreement.")
    row = only(rows, "excluded")
    assert row["text"] == "ISIS or al-Qaeda’s Nusra Front were both excluded from the ceasefire agreement."
    assert {"ISIS", "Nusra Front"} <= set(row["entities"])  # the antecedent's names are the claim's too
    # A singular clause describes the last name only.
    single = only(claims_of("The rebels fought the army and the Nusra Front, which was excluded from the truce."),
                  "excluded")
    assert single["text"] == "The Nusra Front was excluded from the truce."


def test_stray_space_after_arabic_article_does_not_split_the_sentence():
    text = ("The US has applied no real effort to separate the moderates from al- Nusra around Aleppo.\n\n"
            "A second paragraph keeps this one from being a one-line document.")
    rows = [r for r in extract_claims([Document(doc_id="d", text=text)]).to_dicts() if r["sentence_id"] == 1]
    assert [r["text"] for r in rows] == [
        "The US has applied no real effort to separate the moderates from al-Nusra around Aleppo."]
    assert text[rows[0]["char_start"]:rows[0]["char_end"]].endswith("al- Nusra around Aleppo")  # offsets unchanged


def test_apposition_with_a_verb_leaves_its_claim_without_dangling_commas():
    rows = claims_of("Aleppo, the city that may prove to be the final battleground of the war, was shelled on Sunday.")
    assert only(rows, "shelled")["text"] == "Aleppo was shelled on Sunday."
    assert only(rows, "battleground")["text"].startswith("Aleppo is the city that may prove")
    # A verbless apposition stays inside its claim.
    rows = claims_of("Syria’s Prime Minister is discussing a joint operation with Russia against rebel forces in "
                     "Aleppo, a region with no significant Islamic State presence.")
    assert [r["text"] for r in rows] == [
        "Syria’s Prime Minister is discussing a joint operation with Russia against rebel forces in Aleppo, a region "
        "with no significant Islamic State presence."]


def test_subject_hung_on_a_preceding_conditional_goes_back_to_the_main_clause():
    # No comma after the "if" clause: the parser attaches "the same" to it; the main clause keeps its subject.
    rows = claims_of("If the US is not publicly complaining about the bombing the same cannot be said of the "
                     "Syrian opposition.")
    assert [r["text"] for r in rows] == ["The US is not publicly complaining about the bombing.",
                                         "The same cannot be said of the Syrian opposition."]
    main = rows[1]
    assert (main["patient"], main["predicate"], main["negated"]) == ("the same", "say", True)
    assert only(claims_of("The ceasefire cannot be said to have failed."), "ceasefire")["text"] == (
        "The ceasefire cannot be said to have failed.")


def test_elliptical_clause_is_no_claim_of_its_own():
    rows = claims_of("There are concerns already being expressed that the Syrians and the Russians might get "
                     "there first before the US and its allies do.")
    assert "The US and its allies do." not in [r["text"] for r in rows]
    assert only(rows, "allies")["text"] == (
        "The Syrians and the Russians might get there first before the US and its allies do.")
    # With its verb phrase the clause is a claim as before.
    assert [r["text"] for r in claims_of("The US and its allies do business with Syria.")] == [
        "The US and its allies do business with Syria."]
    rows = claims_of("Russia will strike first, because the US and its allies do business with the rebels.")
    assert [r["text"] for r in rows] == ["Russia will strike first.", "The US and its allies do business with the rebels."]
    # A clause under "said" with an adverbial predicate is no ellipsis: it stays the reported claim.
    rows = claims_of("The air strikes are now roughly back to what they were, said Mohamed Rasheed.")
    assert only(rows, "air strikes")["text"] == "The air strikes are now roughly back to what they were."
    assert only(rows, "air strikes")["speaker"] == "Mohamed Rasheed"
    assert only(claims_of("The strikes are back, the minister said."), "strikes")["text"] == "The strikes are back."
    rows = claims_of("Prices rose faster than they did last year.")
    assert [r["text"] for r in rows] == ["Prices rose faster than they did last year."]


def test_reporting_verb_inside_a_clause_goes_with_its_split_off_complement():
    rows = claims_of("The Syrian military justifies these actions by saying rebel groups have joined the Nusra Front.")
    assert [r["text"] for r in rows] == ["The Syrian military justifies these actions.",
                                         "Rebel groups have joined the Nusra Front."]
    assert rows[1]["speaker"] == "The Syrian military"
