"""Boilerplate removal: each kind of page furniture goes, real sentences stay."""

from __future__ import annotations

from pathlib import Path

import pytest

from claimmatch.clean import clean_documents, clean_text, line_reason, paragraph_reason
from claimmatch.records import Document

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

BODY = (
    "The harbour of Portville was closed on Monday after a storm damaged the pier.\n\n"
    "Officials said repairs would take at least three weeks."
)


def seed_docs() -> list[Document]:
    docs = []
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        title = next(line.strip() for line in text.splitlines() if line.strip())
        docs.append(Document(doc_id=path.stem, text=text, title=title, outlet=path.stem, source=str(path)))
    return docs


@pytest.fixture(scope="module")
def cleaned_seeds() -> dict[str, str]:
    return {d.doc_id: d.text for d in clean_documents(seed_docs())}


def test_keeps_real_paragraphs_and_paragraph_breaks():
    assert clean_text("Storm closes harbour\n\n" + BODY, title="Storm closes harbour") == BODY


@pytest.mark.parametrize(
    "junk",
    [
        "Huseyin Nasir / Anadolu Agency/AFP",
        "Photo by: AP (Archive )",
        "Image credit: Jane Doe/Reuters",
        "What do you think?",
        "Notify of",
        "Inline Feedbacks",
        "View all comments",
        "Your Name",
        "Your Email Address",
        "Leave a Reply",
        "Tags: Al Qaeda ISIS Syria",
        "By Al Waght",
        "TRTWorld and agencies",
        "https://example.com/news/2016/06/25/story.html",
        "29 Mar 2024",
        "Saturday 25 June 2016 - 16:04",
        "Story Code : 220344",
        "in ,",
    ],
)
def test_boilerplate_lines_are_removed(junk):
    text = f"{junk}\n\n{BODY}\n\n{junk}"
    assert clean_text(text) == BODY


def test_each_rule_names_its_reason():
    assert line_reason("https://t.co/x") == "url"
    assert line_reason("Tags: a, b") == "tags"
    assert line_reason("Notify of") == "widget"
    assert line_reason("Story Code : 220344") == "header"
    assert line_reason("Photo by: AP (Archive )") == "credit"
    assert line_reason("By Jane Smith") == "byline"
    assert line_reason(BODY.split("\n\n")[0]) is None
    assert paragraph_reason("About to collapse") == "heading"


def test_caption_with_dateline_is_removed_but_prose_dates_stay():
    caption = "Protesters gather outside the parliament building in Kyiv, Ukraine, Tuesday, March 3, 2015."
    prose = "The agreement was signed by both governments in Minsk on March 3, 2015."
    out = clean_text(f"{caption}\n\n{prose}\n\n{BODY}")
    assert caption not in out
    assert prose in out


def test_disclaimer_is_removed_anywhere():
    disclaimer = (
        "The views and opinions expressed in this article are those of the author and do not necessarily "
        "reflect the position of this outlet."
    )
    assert clean_text(f"{disclaimer}\n\n{BODY}\n\n{disclaimer}") == BODY


def test_title_repeats_are_removed():
    title = "Storm closes harbour in Portville"
    text = f"{title}\n{title}\n\n{title} | Daily Planet\n\n{BODY}"
    assert clean_text(text, title=title) == BODY


def test_trailing_related_article_list_is_removed():
    related = "Ten Things to Know About Harbours\n\nCity Council Approves New Budget for Roads and Schools"
    assert clean_text(f"{BODY}\n\n{related}") == BODY


def test_section_headings_are_dropped_but_body_kept():
    out = clean_text(f"{BODY}\n\nAbout to collapse\n\nThe pier had been weakened by years of neglect.")
    assert "About to collapse" not in out
    assert out.endswith("The pier had been weakened by years of neglect.")


def test_whitespace_is_folded_inside_paragraphs_and_hard_wraps_rejoined():
    text = "The harbour  of Portville\u00a0was closed on Monday after\na storm damaged the pier.\n\n\n\nNext one."
    assert clean_text(text) == "The harbour of Portville was closed on Monday after a storm damaged the pier.\n\nNext one."


def test_lines_repeated_across_one_outlets_articles_are_dropped():
    footer = "Support independent journalism with a monthly gift to our newsroom today."
    docs = [
        Document("a", f"{BODY}\n\n{footer}", outlet="Planet"),
        Document("b", f"A second story about something else entirely happened here.\n\n{footer}", outlet="Planet"),
        Document("c", f"{BODY}\n\n{footer}", outlet="Other"),
    ]
    out = clean_documents(docs)
    assert [d.doc_id for d in out] == ["a", "b", "c"]
    assert footer not in out[0].text and footer not in out[1].text
    assert footer in out[2].text  # one article of another outlet: nothing to compare with


def test_near_duplicate_articles_of_one_outlet_keep_their_text():
    docs = [Document("a", BODY, outlet="Planet"), Document("b", BODY + "\n\nAn update was added later.", outlet="Planet")]
    out = clean_documents(docs)
    assert out[0].text == BODY
    assert out[1].text.startswith(BODY)


SEED_JUNK = [
    "Notify of", "Inline Feedbacks", "View all comments", "What do you think?", "Story Code", "Photo by",
    "Tags:", "https://", "theiranproject.com", "Anadolu Agency/AFP", "Huseyin Nasir",
    "solely those of the author", "financial, investment or medical advice", "Your Name", "Your Email Address",
    "By Al Waght", "TRTWorld and agencies", "29 Mar 2024", "16:04", "What Most Syrians See of Their War",
    "Russia Gears Up to Cut Interest Rates", "Residents inspect a damaged site", "A man walks out of a crater",
    "meets with Iran's President Hassan Rouhani", "in ,",
]


def test_seed_boilerplate_is_gone(cleaned_seeds):
    everything = "\n\n".join(cleaned_seeds.values())
    for junk in SEED_JUNK:
        assert junk not in everything, junk


def test_seed_titles_are_kept_out_of_the_body(cleaned_seeds):
    for doc in seed_docs():
        assert doc.title not in cleaned_seeds[doc.doc_id]
    assert "Syria: Aleppo Cease-fire on Brink of Collapse" not in cleaned_seeds["002_a5c6d91761bd3bd3"]


def test_seed_real_sentences_survive(cleaned_seeds):
    everything = "\n\n".join(cleaned_seeds.values())
    for sentence in [
        "The Russian military denied drafting any plans to help the Assad regime recapture Aleppo.",
        "Barrel bombs are oil drums filled with explosives.",
        "The ball is in the US court.",
        "There will be no surprises for the Americans in that respect.",
        "It also doubled its logistic and military backup for them.",
    ]:
        assert sentence in everything
    for text in cleaned_seeds.values():
        assert "\n\n\n" not in text and "  " not in text and "\u00a0" not in text
