"""Tokens and a vocabulary fitted on training texts only (seed 003's preprocessing)."""

import numpy as np
import pytest

from lstmtune.data import OOV, PAD, Vocabulary, tokenize
from lstmtune.errors import ConfigError, DataError

TRAIN = ["A great film.<br /><br />Great cast!", "a dull film", "don't watch: dull, dull"]


def test_tokenize_lowers_strips_html_and_keeps_apostrophes():
    assert tokenize("A great film.<br /><br />Great cast!") == ["a", "great", "film", "great",
                                                                 "cast"]
    assert tokenize("Don't <i>watch</i>") == ["don't", "watch"]
    assert tokenize("Br tags <br />", strip_html=False) == ["br", "tags", "br"]


def test_the_vocabulary_keeps_the_most_frequent_training_words():
    v = Vocabulary.fit(TRAIN, size=3)
    # counts by hand: dull 3, film 2, great 2, a 2, cast 1, don't 1, watch 1;
    # ties alphabetical: a, film, great
    assert v.words_ == ("dull", "a", "film")
    assert v.ids() == {"dull": 2, "a": 3, "film": 4}


def test_encode_first_or_last_words_with_padding_and_oov():
    v = Vocabulary.fit(TRAIN, size=3)
    x = v.encode(["a dull new film", "dull"], length=3)
    np.testing.assert_array_equal(x, [[3, 2, OOV], [2, PAD, PAD]])
    x = v.encode(["a dull new film", "dull"], length=3, keep="last")
    np.testing.assert_array_equal(x, [[2, OOV, 4], [PAD, PAD, 2]])


def test_words_only_in_later_texts_are_out_of_vocabulary():
    """Fitted on training texts only: a validation word, however frequent there, is OOV."""
    v = Vocabulary.fit(TRAIN, size=10)
    assert "superb" not in v.ids()
    assert (v.encode(["superb superb superb"], length=3) == OOV).all()


def test_round_trip_and_refusals():
    v = Vocabulary.fit(TRAIN, size=4)
    assert Vocabulary.from_dict(v.to_dict()).ids() == v.ids()
    with pytest.raises(ConfigError, match="vocabulary size"):
        Vocabulary.fit(TRAIN, size=0)
    with pytest.raises(DataError, match="hold no words"):
        Vocabulary.fit(["...", "!!"], size=5)
    with pytest.raises(ConfigError, match="keep must be"):
        v.encode(["a"], length=2, keep="middle")
