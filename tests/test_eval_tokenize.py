"""NLTK 3.8.1 word_tokenize parity from the vendored Punkt parameters (no download, no pickle)."""

from __future__ import annotations

import hashlib
import json

import pytest

from eval.evaluators import tokenize as tok

# (text, NLTK 3.8.1 word_tokenize output). The cases exercise the Punkt model's data (abbreviations,
# orthographic context, numbers) as well as the Treebank rules.
CASES = [
    # Lowercased text: "4." followed by a lowercase word is not a sentence end, so "4." stays whole.
    ("total: 4. thanks", ["total", ":", "4.", "thanks"]),
    # The same text before lowercasing splits into two sentences and "4" becomes a token.
    ("Total: 4. Thanks", ["Total", ":", "4", ".", "Thanks"]),
    # NLTK 3.8 keeps a leading single quote on the word (3.9's punkt_tab version splits it off).
    ("the 'red' one", ["the", "'red", "'", "one"]),
    ("'red", ["'red"]),
    ("i'd say 'red' and 'blue'", ["i", "'d", "say", "'red", "'", "and", "'blue", "'"]),
    ("25000.00", ["25000.00"]),
    ("$25,000.00 is the price", ["$", "25,000.00", "is", "the", "price"]),
    ("it costs 14 dollars", ["it", "costs", "14", "dollars"]),
    ("mr. smith paid 4. then left", ["mr.", "smith", "paid", "4.", "then", "left"]),
    ("u.s.a. is big", ["u.s.a.", "is", "big"]),
    ("Mr. Smith arrived. He sat.", ["Mr.", "Smith", "arrived", ".", "He", "sat", "."]),
    ("n/a", ["n/a"]),
    ("", []),
    ('he said "no" twice', ["he", "said", "``", "no", "''", "twice"]),
    ("can't won't", ["ca", "n't", "wo", "n't"]),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_word_tokenize_matches_nltk_381(text: str, expected: list[str]) -> None:
    assert tok.word_tokenize(text) == expected


def test_sentence_split_depends_on_case() -> None:
    assert tok.sent_tokenize("total: 4. thanks") == ["total: 4. thanks"]
    assert tok.sent_tokenize("Total: 4. Thanks") == ["Total: 4.", "Thanks"]


def test_vendored_parameters_are_intact() -> None:
    raw = tok.PUNKT_DATA.read_text(encoding="utf-8").rstrip("\n")
    assert (
        hashlib.sha256(raw.encode()).hexdigest()
        == "8ae9350fbf9b482b019d28ec912500af82303192e996a9d203080f94da2b6ceb"
    )
    data = json.loads(raw)
    assert len(data["abbrev_types"]) == 156
    assert len(data["ortho_context"]) == 20366
    assert ["##number##", "abreast"] in data["collocations"]


def test_wrong_nltk_version_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import nltk

    tok._tokenizers.cache_clear()
    monkeypatch.setattr(nltk, "__version__", "3.9.1")
    try:
        with pytest.raises(RuntimeError, match=r"3\.8\.1"):
            tok.word_tokenize("x")
    finally:
        monkeypatch.undo()
        tok._tokenizers.cache_clear()
    assert tok.word_tokenize("a b") == ["a", "b"]
