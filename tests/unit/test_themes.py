"""Themes and sentiment of comments, measured on the hand-labelled comments."""

from __future__ import annotations

import polars as pl
import pytest

from etl.analyses import themes, thresholds
from etl.contract import themes as taxonomy


@pytest.fixture(scope="module")
def themer():
    return themes.Themer(taxonomy.read(taxonomy.SHIPPED))


@pytest.fixture(scope="module")
def labelled():
    return taxonomy.labelled()


def test_the_labelled_set_has_300_comments_and_every_shipped_theme(labelled):
    assert len(labelled) >= 300
    ids = set(taxonomy.read(taxonomy.SHIPPED).ids())
    for theme in ids:
        assert sum(theme in x.themes for x in labelled) >= 25, theme
    assert {t for x in labelled for t in x.themes} <= ids
    assert sum(not x.themes for x in labelled) >= 50  # comments no theme should take


def test_the_classifier_finds_the_shipped_themes(themer, labelled):
    measured = themes.evaluate(themer, labelled)
    assert measured["all"].f1 >= 0.78
    for theme in themer.ids:
        assert measured[theme].f1 >= thresholds.MIN_F1, theme


def test_the_classifier_beats_similarity_to_the_seeds(themer, labelled):
    similarity = themes.Themer(themer.taxonomy, themes.SIMILARITY)
    assert (
        themes.evaluate(themer, labelled)["all"].f1
        >= themes.evaluate(similarity, labelled)["all"].f1 + 0.05
    )


def test_comments_about_nothing_mostly_stay_unmatched(themer, labelled):
    noise = [x for x in labelled if not x.themes]
    given = themer.assign([x.comment for x in noise])
    assert sum(bool(g) for g in given) / len(noise) <= 0.40


def test_a_comment_takes_several_themes_with_scores_best_first(themer):
    (found,) = themer.assign(["Waited on hold for an hour and they still have not fixed it"])
    ids = [t for t, _ in found]
    assert {"waited_too_long", "not_resolved"} <= set(ids)
    scores = [s for _, s in found]
    assert scores == sorted(scores, reverse=True)
    assert all(themes.THRESHOLD <= s <= 1 for s in scores)


def test_an_unmatched_comment_is_never_forced_into_a_theme(themer):
    assert themer.assign(["I like the new logo colours", "xyz"]) == [[], []]


@pytest.mark.parametrize(
    ("comment", "label"),
    [
        ("The advisor was lovely and helpful", "positive"),
        ("Rude and useless", "negative"),
        ("It was not good", "negative"),
        ("I wasn't disappointed", "positive"),
        ("I called about my contract", "neutral"),
    ],
)
def test_the_lexicon_reads_sentiment_with_negation(comment, label):
    assert themes.sentiment_label(themes.sentiment(comment)) == label


def test_a_neutral_complaint_takes_its_themes_tone(themer, labelled):
    assert themes.with_tone(0.0, ["billing_error"], {"billing_error": "negative"}) < 0
    assert themes.with_tone(0.0, ["staff_helpful"], {"staff_helpful": "positive"}) > 0
    assert (
        themes.sentiment_accuracy(themer, labelled)
        >= themes.sentiment_accuracy(None, labelled) + 0.1
    )


def test_theme_comments_gives_rows_per_comment_and_theme(themer):
    comments = pl.DataFrame(
        {
            "response_id": ["R1", "R2", "R3"],
            "comment": ["charged twice!", "no comment", "charged twice!"],
        }
    )
    themed, scores = themes.theme_comments(themer, comments)
    assert themed["themes"].to_list() == [1, 0, 1]
    assert scores.filter(pl.col("theme_id") == "billing_error")["response_id"].to_list() == [
        "R1",
        "R3",
    ]
    assert themed["sentiment_label"].to_list()[0] == "negative"
