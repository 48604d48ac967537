"""Claims table: schema, filtering, offsets, ids, and speaker/core attribution."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from claimmatch.claims import attribute, extract_claims
from claimmatch.clean import clean_documents
from claimmatch.records import CLAIM_COLUMNS, Document

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def seed_docs() -> list[Document]:
    docs = []
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        title = next(line.strip() for line in text.splitlines() if line.strip())
        docs.append(Document(doc_id=path.stem, text=text, title=title, outlet=path.stem, url=None))
    return clean_documents(docs)


def claims_of(text: str, doc_id: str = "d1") -> pl.DataFrame:
    return extract_claims([Document(doc_id=doc_id, text=text, title="T", outlet="O", url="http://o/1")])


@pytest.mark.parametrize(
    ("sentence", "speaker", "core"),
    [
        ("The Syrian Observatory for Human Rights said a total of 35 combatants had been killed.",
         "The Syrian Observatory for Human Rights", "A total of 35 combatants had been killed."),
        ("Syrian Prime Minister Wael al-Halaki told a group of visiting Russian lawmakers that Syria and Russia "
         "were preparing for an operation.", "Syrian Prime Minister Wael al-Halaki",
         "Syria and Russia were preparing for an operation."),
        ("Reuters reports Syrian Prime Minister Wael al-Halaki told visiting lawmakers that Syria and Russia were "
         "preparing for an operation.", "Syrian Prime Minister Wael al-Halaki",
         "Syria and Russia were preparing for an operation."),
        ("“Russian aviation will help the Syrian army’s ground offensive operation,” said Dmitry Sablin, a member "
         "of Russia’s upper house of parliament.", "Dmitry Sablin",
         "Russian aviation will help the Syrian army’s ground offensive operation."),
        ("“The last 10 days had witnessed a serious deterioration”, said a member of the main opposition council.",
         "a member of the main opposition council", "The last 10 days had witnessed a serious deterioration."),
        ("\"In Aleppo, there is a real collapse of the truce,\" said Rami Abdulrahman, director of the Syrian "
         "Observatory for Human Rights.", "Rami Abdulrahman", "In Aleppo, there is a real collapse of the truce."),
        ("«It cannot continue this way indefinitely», Gerasimov said in the above mentioned statement.",
         "Gerasimov", "It cannot continue this way indefinitely."),
        ("Russian air support will back Syrian regime forces in a joint operation, the Syrian regime prime "
         "minister said on Sunday, as an opposition official says the truce is failing.",
         "the Syrian regime prime minister", "Russian air support will back Syrian regime forces in a joint operation."),
        ("In an unusually harsh statement, John Kerry warned Russia on June 15 that US patience was running out.",
         "John Kerry", "US patience was running out."),
        ("General Valery Gerasimov, the chief of Russian General Staff, said that Russia’s patience is waning.",
         "General Valery Gerasimov", "Russia’s patience is waning."),
        ("The State Secretary first argued al-Nusra should likewise be exempt from Russian airstrikes.",
         "The State Secretary", "Al-Nusra should likewise be exempt from Russian airstrikes."),
        ("The US has applied no real effort to separate the moderates, as affirmed by Russian Foreign Minister "
         "Sergey Lavrov.", "Russian Foreign Minister Sergey Lavrov",
         "The US has applied no real effort to separate the moderates."),
        ("Rebels ordered attacks aimed at foiling the talks, according to Syrian state media.",
         "Syrian state media", "Rebels ordered attacks aimed at foiling the talks."),
        ("Russian Foreign Minister Sergey Lavrov responded saying, Moscow suspects the West of shielding Nusra.",
         "Russian Foreign Minister Sergey Lavrov", "Moscow suspects the West of shielding Nusra."),
    ],
)
def test_attribution_patterns(sentence, speaker, core):
    found = attribute(sentence)
    assert found is not None
    assert (found.speaker, found.core) == (speaker, core)


def test_polarity_verbs_keep_the_whole_sentence_as_core():
    sentence = "The Russian military denied drafting any plans to help the Assad regime recapture Aleppo."
    found = attribute(sentence)
    assert found is not None and found.speaker == "The Russian military" and found.core == sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "Barrel bombs are oil drums filled with explosives.",
        "It is not impossible that during the call Kerry complained to Lavrov about the air strikes.",
        "President Vladimir Putin last month withdrew some forces, but maintained an air base in Latakia.",
        "Most reports suggest the bombing has been successful.",
        "It was finally agreed that it would be fought after other rebel groups were given time.",
        ", said the company.",  # a fragment with no subject (seen in Reuters-21578) must not crash
    ],
)
def test_outlet_assertions_are_not_attributed(sentence):
    assert attribute(sentence) is None


def test_pronoun_speaker_resolves_to_last_named_speaker():
    df = claims_of(
        "Syrian regime Prime Minister Wael al-Halqi said that Russian lawmakers had visited Damascus.\n\n"
        "\"We are preparing for an operation to liberate Aleppo,\" he was quoted as saying."
    )
    assert df["speaker"].to_list() == ["Syrian regime Prime Minister Wael al-Halqi"] * 2
    assert df["core"][1] == "We are preparing for an operation to liberate Aleppo."


def test_according_to_pronoun_and_short_name_expand():
    df = claims_of(
        "General Valery Gerasimov said that Russia’s patience is waning. According to him, Russia was in full "
        "compliance with its obligations. «It cannot continue this way», Gerasimov said."
    )
    assert df["speaker"].to_list() == ["General Valery Gerasimov"] * 3
    assert df["core"][1] == "Russia was in full compliance with its obligations."


def test_multi_paragraph_quote_is_attributed_to_its_speaker():
    df = claims_of(
        "Russian Foreign Minister Lavrov made it clear on Monday that Russia blames the US for the fighting.\n\n"
        "Lavrov’s comments could not be clearer:\n\n"
        "“What is now happening in Aleppo – we warned the Americans about this in advance.\n\n"
        "We share our vision with the Americans in daily videoconferences.\n\n"
        "There will be no surprises for the Americans in that respect.”\n\n"
        "The bombing appears to have a broadly defensive character."
    )
    assert df["quoted"].to_list() == [True, True, True, True, False]
    assert df["speaker"].to_list()[:4] == ["Russian Foreign Minister Lavrov"] * 4
    assert df["core"][1] == "What is now happening in Aleppo – we warned the Americans about this in advance."
    assert df["speaker"][4] is None and df["core"][4] == df["text"][4]


def test_drops_questions_headings_and_fragments():
    df = claims_of(
        "About to collapse\n\nIs the US sincere? The cease-fire has failed. Well, no.\n\n"
        "\"Shouldn't the Syrian people decide?\" he said.\n\nRussia Gears Up to Cut Interest Rates."
    )
    assert df["text"].to_list() == ["The cease-fire has failed."]


def test_schema_offsets_and_ids():
    text = "First  claim sits here today.\n\nIs this a question?\n\n“Second claim is quoted,” said Jane Roe."
    df = claims_of(text, doc_id="doc9")
    assert df.columns == CLAIM_COLUMNS
    assert df.schema["char_start"] == pl.Int64 and df.schema["sent_index"] == pl.Int64
    assert df.schema["quoted"] == pl.Boolean
    assert df["claim_id"].to_list() == ["doc9#000", "doc9#001"]
    assert df["sent_index"].to_list() == [0, 2]
    for row in df.iter_rows(named=True):
        assert " ".join(text[row["char_start"]:row["char_end"]].split()) == row["text"]
        assert row["url"] == "http://o/1" and row["outlet"] == "O" and row["title"] == "T"
    assert df["text"][0] == "First claim sits here today."


def test_empty_input_has_the_schema():
    df = extract_claims([])
    assert df.columns == CLAIM_COLUMNS and df.height == 0
    assert df.schema["char_end"] == pl.Int64 and df.schema["quoted"] == pl.Boolean
    assert extract_claims([Document(doc_id="x", text="")]).columns == CLAIM_COLUMNS


def test_seed_claims_are_deterministic_and_offsets_hold():
    docs = seed_docs()
    first, second = extract_claims(docs), extract_claims(docs)
    assert first.equals(second)
    assert first["claim_id"].n_unique() == first.height > 50
    texts = {d.doc_id: d.text for d in docs}
    for row in first.iter_rows(named=True):
        assert texts[row["doc_id"]][row["char_start"]:row["char_end"]] == row["text"]
        assert not row["text"].rstrip("”»\"'").endswith("?")
        assert (row["speaker"] is None) == (not row["quoted"]) or row["quoted"]
        if not row["quoted"] and not row["text"].startswith("But it "):
            assert row["core"] == row["text"]


def test_passive_it_is_resolved_from_the_previous_sentence():
    from claimmatch.claims import _resolve_it

    prev = "The ceasefire came into effect in February with the aim of easing talks."
    assert _resolve_it("But it has been widely violated by the regime forces.", prev) == \
        "The ceasefire has been widely violated by the regime forces."
    # An expletive "it" keeps its sentence.
    assert _resolve_it("It was finally agreed that it would be fought.", prev).startswith("It was finally")
    assert _resolve_it("It is clear that the US failed.", prev).startswith("It is clear")
    # No plain noun subject before: nothing to resolve.
    assert _resolve_it("It has been violated.", "Kerry said the talks stalled.") == "It has been violated."


def test_seed_001_speakers():
    df = extract_claims([d for d in seed_docs() if d.doc_id.startswith("001")])
    rows = list(df.iter_rows(named=True))

    def row(start: str) -> dict:
        return next(r for r in rows if r["text"].startswith(start))

    assert row("\"We, together with our Russian partners")["speaker"] == "Syrian regime Prime Minister Wael al-Halqi"
    assert row("“Russian aviation will help the Syrian ar")["speaker"] == "Dmitry Sablin"
    assert row("\"In Aleppo, there is a real collapse of t")["speaker"] == "Rami Abdulrahman"
    assert row("He said last week he would go to Damascu")["speaker"] == "UN envoy Staffan de Mistura"
    assert row("\"I don't know how they can really announc")["speaker"] == "Salim al-Muslat"
    assert not row("Barrel bombs are oil drums filled with ex")["quoted"]
    assert all("Photo" not in t and "TRTWorld" not in t for t in df["text"])
