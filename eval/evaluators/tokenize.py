"""NLTK 3.8.1 ``word_tokenize``, offline.

WebArena and VisualWebArena decide single-token ``must_include`` items with NLTK's
``word_tokenize`` as it behaved in NLTK 3.8 (Punkt sentence splitting with the pickled English
model, then the improved Treebank word tokenizer). NLTK 3.9+ switched to ``punkt_tab`` and splits
some tokens differently (a leading single quote, for one), which flips real task results. The
model data is not in NLTK's wheel and nothing may download at run time, so we ship the English
Punkt parameters as plain JSON (``punkt_english.json``, converted losslessly from NLTK's own model;
no pickle is loaded) and run them through NLTK 3.8.1's own ``PunktSentenceTokenizer`` and
``NLTKWordTokenizer``. This reproduces ``nltk.word_tokenize(text)`` exactly; the vendored
parameters pass NLTK 3.8.1's English tokenizer doctests.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

REQUIRED_NLTK = "3.8.1"
PUNKT_DATA = Path(__file__).with_name("punkt_english.json")


@functools.cache
def _tokenizers() -> tuple[Any, Any]:
    try:
        import nltk
        from nltk.tokenize.destructive import NLTKWordTokenizer
        from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            f"WebArena/VWA string rules need nltk=={REQUIRED_NLTK} (pip install 'webdreamer[eval]')"
        ) from exc
    if nltk.__version__ != REQUIRED_NLTK:
        raise RuntimeError(
            f"nltk {nltk.__version__} is installed but parity with the benchmarks needs exactly "
            f"{REQUIRED_NLTK}: later versions tokenize some answers differently"
        )
    data = json.loads(PUNKT_DATA.read_text(encoding="utf-8"))
    params = PunktParameters()
    params.abbrev_types = set(data["abbrev_types"])
    params.collocations = {tuple(pair) for pair in data["collocations"]}
    params.sent_starters = set(data["sent_starters"])
    params.ortho_context = defaultdict(int, data["ortho_context"])
    return PunktSentenceTokenizer(params), NLTKWordTokenizer()


def sent_tokenize(text: str) -> list[str]:
    """Split ``text`` into sentences like NLTK 3.8.1's ``sent_tokenize(text)`` (English)."""
    sentences, _ = _tokenizers()
    return list(sentences.tokenize(text))


def word_tokenize(text: str) -> list[str]:
    """Tokenize like NLTK 3.8.1's ``word_tokenize(text)``: sentences first, then words."""
    sentences, words = _tokenizers()
    return [token for sentence in sentences.tokenize(text) for token in words.tokenize(sentence)]
