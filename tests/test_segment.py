"""Sentence spans on tricky news text: abbreviations, quotes, dashes, numbers, paragraphs."""

from __future__ import annotations

import pytest

from claimmatch.segment import split_sentences

CASES = [
    ("The U.S. and the U.N. disagreed on Monday. Talks resume today.",
     ["The U.S. and the U.N. disagreed on Monday.", "Talks resume today."]),
    ("Mr. Smith met Mrs. Jones and Dr. Brown in St. Petersburg on Jan. 5. They talked.",
     ["Mr. Smith met Mrs. Jones and Dr. Brown in St. Petersburg on Jan. 5.", "They talked."]),
    ("Gen. Valery Gerasimov spoke. I.H.S. Jane's, a research firm, reported the figure.",
     ["Gen. Valery Gerasimov spoke.", "I.H.S. Jane's, a research firm, reported the figure."]),
    ("There is another aspect. Is the US sincere? I.H.S. Jane's reported that the US supplied 3,000 tons.",
     ["There is another aspect.", "Is the US sincere?", "I.H.S. Jane's reported that the US supplied 3,000 tons."]),
    ("Blame falls on Jabhat Al-Nusra (ie. Al-Qaeda). Others, e.g. Turkey, disagree.",
     ["Blame falls on Jabhat Al-Nusra (ie. Al-Qaeda).", "Others, e.g. Turkey, disagree."]),
    ("Inflation hit 3.5 percent as 9,500 fighters massed. Prices rose.",
     ["Inflation hit 3.5 percent as 9,500 fighters massed.", "Prices rose."]),
    ("“We will win,” he said. “They will lose.”", ["“We will win,” he said.", "“They will lose.”"]),
    ("He said: “We warned them. They knew it.” The talks failed.",
     ["He said: “We warned them.", "They knew it.”", "The talks failed."]),
    ("\"I don't know how they vote. Can people go there?\" he said.",
     ["\"I don't know how they vote.", "Can people go there?\" he said."]),
    ("The deal is real — so real that Assad will hold elections. Voters won't go.",
     ["The deal is real — so real that Assad will hold elections.", "Voters won't go."]),
    ("It is a red line – the adviser said so. Nothing changed.", ["It is a red line – the adviser said so.", "Nothing changed."]),
    ("Officials said rebels were linked. «We have no role in Aleppo. The forces are fighting», one explained.",
     ["Officials said rebels were linked.", "«We have no role in Aleppo.", "The forces are fighting», one explained."]),
    ("Lang said«They were wrong. Well, they learned.» He left.",
     ["Lang said«They were wrong.", "Well, they learned.»", "He left."]),
    ("Russia called it a “red line for us.” The U.S. disagreed.", ["Russia called it a “red line for us.”", "The U.S. disagreed."]),
    ("They ‘pocketed’ the truce. Perhaps they learned.", ["They ‘pocketed’ the truce.", "Perhaps they learned."]),
    ("The battles rage because ... armed groups joined Nusra. Fighting continued.",
     ["The battles rage because ... armed groups joined Nusra.", "Fighting continued."]),
    ("“We expect cooperation – B, C, or D – behind our backs.”", ["“We expect cooperation – B, C, or D – behind our backs.”"]),
    ("Sen. John McCain and Rep. Adam Smith spoke at 10 a.m. on Tuesday. No deal emerged.",
     ["Sen. John McCain and Rep. Adam Smith spoke at 10 a.m. on Tuesday.", "No deal emerged."]),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_tricky_sentences(text, expected):
    assert [text[a:b] for a, b in split_sentences(text)] == expected


def test_spans_never_cross_paragraphs_and_are_stripped():
    text = "  First paragraph ends without a stop\n\nSecond one. Has two sentences.  \n \nThird."
    spans = split_sentences(text)
    sentences = [text[a:b] for a, b in spans]
    assert sentences == ["First paragraph ends without a stop", "Second one.", "Has two sentences.", "Third."]
    assert all("\n" not in s and s == s.strip() for s in sentences)
    assert spans == sorted(spans)


def test_closing_quote_never_starts_a_sentence():
    text = "“We expect our partners to cooperate. We will act if needed.”\n\n“It is over.” They left."
    for start, _end in split_sentences(text):
        assert text[start] not in "”»"


def test_empty_and_blank_text():
    assert split_sentences("") == []
    assert split_sentences(" \n\n \n") == []
