"""Text to token ids for a classifier, fitted on the training part only (seed 003).

``Vocabulary.fit(train_texts, size)`` keeps the ``size`` most frequent words of the training
texts (counted by scikit-learn's ``CountVectorizer`` with this module's tokenizer; ties broken
alphabetically); ``encode(texts, length)`` maps every word to its id (1..size, by frequency)
or to the out-of-vocabulary id, keeps the first (the paper) or the last ``length`` words and
pads with 0.  A word seen only in validation or test texts is out of vocabulary: nothing is
learned from them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lstmtune.errors import ConfigError, DataError

__all__ = ["tokenize", "Vocabulary", "PAD", "OOV"]

PAD, OOV = 0, 1  # ids: padding, out of vocabulary; words start at 2
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
TAG = re.compile(r"<[^>]{0,100}>")


def _shown(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def tokenize(text: str, *, lower: bool = True, strip_html: bool = True) -> list[str]:
    """Words of ``text``: lower-cased, HTML tags such as ``<br />`` removed, runs of letters
    and digits with an optional apostrophe part (``don't``)."""
    if strip_html:
        text = TAG.sub(" ", text)
    return WORD.findall(text.lower() if lower else text)


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """The ``size`` most frequent training words and their ids (2.. by frequency)."""

    size: int
    lower: bool = True
    strip_html: bool = True
    words_: tuple[str, ...] = field(default=())  # fitted: most frequent first

    @classmethod
    def fit(cls, texts: Sequence[str], size: int, *, lower: bool = True,
            strip_html: bool = True, tokens: Sequence[list[str]] | None = None) -> Vocabulary:
        """Count the words of the training ``texts`` only (``tokens``: the same texts already
        split by :func:`tokenize` with these options, to tokenize a corpus once)."""
        from sklearn.feature_extraction.text import CountVectorizer

        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigError(f"vocabulary size must be a whole number >= 1, got {size!r}.")
        if not len(texts):
            raise DataError("a vocabulary needs training texts: the training part is empty.")
        if tokens is None:
            counter = CountVectorizer(tokenizer=lambda t: tokenize(t, lower=lower,
                                                                   strip_html=strip_html),
                                      lowercase=False, token_pattern=None)
        else:
            counter = CountVectorizer(analyzer=lambda words: words)
            texts = tokens
        try:
            counts = counter.fit_transform(texts).sum(axis=0).A1
        except ValueError:  # every text empty of words
            raise DataError("the training texts hold no words: check the text column.") \
                from None
        names = counter.get_feature_names_out()
        order = sorted(range(len(names)), key=lambda i: (-counts[i], names[i]))[:size]
        return cls(size=size, lower=lower, strip_html=strip_html,
                   words_=tuple(str(names[i]) for i in order))

    def ids(self) -> dict[str, int]:
        return {w: k + 2 for k, w in enumerate(self.words_)}

    @property
    def n_ids(self) -> int:
        """Ids in use: padding, out of vocabulary and the words (an embedding's rows)."""
        return len(self.words_) + 2

    def encode(self, texts: Sequence[str], length: int, *, keep: str = "first",
               tokens: Sequence[list[str]] | None = None) -> np.ndarray:
        """Token ids (N, length): each text's first (or last) ``length`` words, padded with
        0 at the end (first) or the start (last); ``tokens``: the texts already split."""
        if keep not in ("first", "last"):
            raise ConfigError(f"keep must be 'first' or 'last', got {keep!r}.")
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise ConfigError(f"input length must be a whole number >= 1, got {length!r}.")
        ids = self.ids()
        out = np.full((len(texts), length), PAD, np.int32)
        for i, text in enumerate(texts if tokens is None else tokens):
            words = text if tokens is not None else tokenize(text, lower=self.lower,
                                                             strip_html=self.strip_html)
            words = words[:length] if keep == "first" else words[-length:]
            row = [ids.get(w, OOV) for w in words]
            if keep == "first":
                out[i, : len(row)] = row
            elif row:
                out[i, length - len(row):] = row
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "lower": self.lower, "strip_html": self.strip_html,
                "words": list(self.words_)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Vocabulary:
        """The vocabulary ``to_dict`` wrote, each field checked: ``size`` a whole number >= 1,
        ``lower`` and ``strip_html`` true or false, ``words`` at most ``size`` distinct,
        non-blank texts.  A missing or malformed field is a DataError naming it."""
        if not isinstance(d, dict):
            raise DataError(f"a saved vocabulary is a table, got {_shown(d)}.")
        for key in ("size", "lower", "strip_html", "words"):
            if key not in d:
                raise DataError(f"vocabulary.{key} is missing.")
        size, words = d["size"], d["words"]
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise DataError(f"vocabulary.size must be a whole number >= 1, got "
                            f"{_shown(size)}.")
        for key in ("lower", "strip_html"):
            if not isinstance(d[key], bool):
                raise DataError(f"vocabulary.{key} must be true or false, got "
                                f"{_shown(d[key])}.")
        if not isinstance(words, list) or len(words) > size or \
                not all(isinstance(w, str) and w.strip() for w in words) or \
                len(set(words)) != len(words):
            raise DataError(f"vocabulary.words must be at most {size} distinct, non-blank "
                            f"words, got {_shown(words)}.")
        return cls(size=size, lower=d["lower"], strip_html=d["strip_html"],
                   words_=tuple(words))
