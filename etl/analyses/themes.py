"""Themes and sentiment of customers' comments, offline (docs/methodology.md#themes-in-comments).

Each theme of the taxonomy (etl/contract/themes.py) is learnt from its seed phrases alone: a
TF-IDF of character n-grams within words (robust to typos and word endings) feeds one
logistic regression per theme, its seeds against every other theme's seeds and a set of
comments about nothing in particular (BACKGROUND). A comment takes every theme whose
probability reaches THRESHOLD, with that probability as its score; a comment no theme
reaches is unmatched, never forced into the nearest theme. SIMILARITY, the other method
measured, scores a comment by its largest cosine similarity to a theme's seeds.

Sentiment comes from a small lexicon (POSITIVE, NEGATIVE) with negation: the balance of the
words found, positive above zero, negative below. scikit-learn is imported only when a
themer is built, so nothing that imports this module pays for it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from etl.contract.themes import UNMATCHED, Labelled, Taxonomy

#: The probability from which a comment takes a theme (chosen on the labelled comments,
#: docs/methodology.md#themes-in-comments).
THRESHOLD = 0.35
#: Cosine similarity from which the similarity method assigns a theme.
SIMILARITY_THRESHOLD = 0.35
CLASSIFIER, SIMILARITY = "classifier", "similarity"
#: Comments about nothing a theme covers: every theme learns them as negatives.
BACKGROUND = (
    "okay",
    "fine thank you",
    "all fine",
    "none",
    "no comments",
    "nothing else",
    "not applicable",
    "satisfied",
    "content with the service",
    "so so",
    "could be better",
    "it was a normal call",
    "i like the colour of your logo",
    "my son set up the account",
    "i have a new phone number for you",
    "what time do you close on saturdays",
    "i want information about insurance",
    "your competitor is cheaper",
    "too many questions in this survey",
    "i would tell my friends",
    "carry on",
    "shocking company",
    "calling on behalf of my father",
    "xyz",
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Words of the sentiment lexicon (lower case; a trailing * matches any ending).
POSITIVE = _words(
    """good great excellent brilliant fantastic amazing lovely helpful helpfull kind
    friendly polite professional patient happy pleased satisfied quick quickly easy
    thank thanks thanked star superb perfect recommend reliable courteous efficient
    cheerful nice reassuring understanding knowledgeable knowledgable fixed sorted
    resolved impressed better best well wonderful calm credit fault* top worth"""
)
NEGATIVE = _words(
    """bad poor terrible awful horrendous horrible shocking appalling disgusting useless
    rude dismissive arrogant sarcastic patronising condescending unprofessional
    impatient abrupt unhelpful unacceptable ridiculous joke nightmare hassle wrong
    overcharged overcharge charged twice broken crash* crashing crashes freezes froze
    fail* failed error bugs buggy slow ages forever never nobody nothing still waiting
    wait waited wated disappointed disappoint* fed unhappy worst angry annoyed upset
    complicated confusing difficult hard problem issue fault again stuck lost
    incorrect missing late hidden meh expensive elsewhere nonsense belittled idiot"""
)
_NEGATIONS = frozenset({"not", "no", "never", "n't", "dont", "didnt", "cant", "couldnt", "isnt"})
_WORD = re.compile(r"[a-z']+|n't")


def sentiment(text: str | None) -> float:
    """A comment's balance in [-1, 1]: positive words less negative ones, over both."""
    if not text:
        return 0.0
    words = _WORD.findall(text.lower().replace("n't", " n't"))
    positive = negative = 0
    for i, word in enumerate(words):
        sign = 1 if _in(word, POSITIVE) else -1 if _in(word, NEGATIVE) else 0
        if sign and any(w in _NEGATIONS for w in words[max(0, i - 2) : i]):
            sign = -sign
        positive += sign > 0
        negative += sign < 0
    total = positive + negative
    return 0.0 if total == 0 else (positive - negative) / total


_STEMS = {
    id(words): tuple(w[:-1] for w in words if w.endswith("*")) for words in (POSITIVE, NEGATIVE)
}


def _in(word: str, lexicon: frozenset[str]) -> bool:
    return word in lexicon or word.startswith(_STEMS[id(lexicon)] or ("\0",))


def with_tone(score: float, themes: Sequence[str], tones: dict[str, str]) -> float:
    """The lexicon's score, or for a comment it finds neutral the balance of its themes'
    tones (a complaint without a negative word: "I had to send my documents three times")."""
    if score != 0 or not themes:
        return score
    signs = [1 if tones.get(t) == "positive" else -1 for t in themes]
    return sum(signs) / (2 * len(signs))


def sentiment_label(score: float) -> str:
    return "positive" if score > 0 else "negative" if score < 0 else "neutral"


@dataclass
class Themer:
    """Theme scores of comments for one taxonomy, by one method."""

    taxonomy: Taxonomy
    method: str = CLASSIFIER

    def __post_init__(self):
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.ids = self.taxonomy.ids()
        seeds = [(t.id, s.lower()) for t in self.taxonomy.themes for s in t.seeds]
        texts = [s for _, s in seeds]
        self.vectoriser = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, lowercase=True
        )
        if self.method == SIMILARITY:
            self.seed_vectors = self.vectoriser.fit_transform(texts)
            self.seed_theme = np.array([self.ids.index(i) for i, _ in seeds])
            return
        from sklearn.linear_model import LogisticRegression

        matrix = self.vectoriser.fit_transform([*texts, *BACKGROUND])
        labels = np.array([self.ids.index(i) for i, _ in seeds] + [-1] * len(BACKGROUND))
        self.models = []
        for k in range(len(self.ids)):
            model = LogisticRegression(C=10.0, class_weight="balanced", max_iter=1000)
            model.fit(matrix, labels == k)
            self.models.append(model)

    def scores(self, comments: Sequence[str]) -> np.ndarray:
        """One row per comment, one column per theme: the theme's score in [0, 1]."""
        if not len(comments):
            return np.zeros((0, len(self.ids)))
        matrix = self.vectoriser.transform([c.lower() for c in comments])
        if self.method == SIMILARITY:
            similarity = (matrix @ self.seed_vectors.T).toarray()
            best = np.zeros((len(comments), len(self.ids)))
            for k in range(len(self.ids)):
                best[:, k] = similarity[:, self.seed_theme == k].max(axis=1)
            return best
        return np.column_stack([m.predict_proba(matrix)[:, 1] for m in self.models])

    @property
    def threshold(self) -> float:
        return SIMILARITY_THRESHOLD if self.method == SIMILARITY else THRESHOLD

    def assign(self, comments: Sequence[str]) -> list[list[tuple[str, float]]]:
        """Each comment's themes with their scores, best first ([] when unmatched)."""
        scores = self.scores(comments)
        found: list[list[tuple[str, float]]] = [[] for _ in range(len(comments))]
        order = np.argsort(-scores, axis=1, kind="stable")
        for rank in range(scores.shape[1]):
            columns = order[:, rank]
            best = scores[np.arange(len(comments)), columns]
            for i in np.flatnonzero(best >= self.threshold):
                found[i].append((self.ids[columns[i]], float(best[i])))
        return found


def theme_comments(themer: Themer, comments: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Theme the comments (response_id, comment: redacted text) of one build.

    Returns the comments with their sentiment and theme count, and one row per comment and
    theme it takes (response_id, theme_id, score); an unmatched comment takes none.
    """
    # Each distinct text is themed once: short comments ("no call back") repeat often.
    texts = comments["comment"].to_list()
    distinct = list(dict.fromkeys(texts))
    found = themer.assign(distinct)
    tones = {t.id: t.tone for t in themer.taxonomy.themes}
    moods = {
        text: with_tone(sentiment(text), [i for i, _ in f], tones)
        for text, f in zip(distinct, found, strict=True)
    }
    by_text = dict(zip(distinct, found, strict=True))
    assigned = [by_text[t] for t in texts]
    ids = comments["response_id"].to_list()
    pairs = [(r, t, s) for r, got in zip(ids, assigned, strict=True) for t, s in got]
    scores = pl.DataFrame(
        pairs,
        schema={"response_id": pl.String, "theme_id": pl.String, "score": pl.Float64},
        orient="row",
    )
    mood = [moods[t] for t in texts]
    themed = comments.with_columns(
        pl.Series("sentiment", mood, dtype=pl.Float64),
        pl.Series("sentiment_label", [sentiment_label(m) for m in mood], dtype=pl.String),
        pl.Series("themes", [len(f) for f in assigned], dtype=pl.Int32),
    )
    return themed, scores


@dataclass(frozen=True)
class Measure:
    theme_id: str
    labelled: int  # comments labelled with the theme
    precision: float | None
    recall: float | None
    f1: float | None


def evaluate(themer: Themer, labelled: Sequence[Labelled]) -> dict[str, Measure]:
    """Precision, recall and F1 of each theme on the labelled comments, and of `unmatched`
    (comments labelled with no theme and given none), and micro averages as `all`."""
    assigned = [{t for t, _ in found} for found in themer.assign([x.comment for x in labelled])]
    truth = [set(x.themes) for x in labelled]
    result = {}
    totals = [0, 0, 0]
    for theme in (*themer.ids, UNMATCHED):
        if theme == UNMATCHED:
            got = [not a for a in assigned]
            want = [not t for t in truth]
        else:
            got = [theme in a for a in assigned]
            want = [theme in t for t in truth]
        tp = sum(g and w for g, w in zip(got, want, strict=True))
        fp = sum(g and not w for g, w in zip(got, want, strict=True))
        fn = sum(w and not g for g, w in zip(got, want, strict=True))
        if theme != UNMATCHED:
            totals = [totals[0] + tp, totals[1] + fp, totals[2] + fn]
        result[theme] = _measure(theme, tp, fp, fn)
    result["all"] = _measure("all", *totals)
    return result


def _measure(theme: str, tp: int, fp: int, fn: int) -> Measure:
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = None
    if precision is not None and recall is not None:
        f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return Measure(theme, tp + fn, precision, recall, f1)


def sentiment_accuracy(themer: Themer | None, labelled: Sequence[Labelled]) -> float:
    """Share of labelled comments whose sentiment is the label: the lexicon's alone without a
    themer, with the tone of the themes the themer assigns with one."""
    if themer is None:
        found = [sentiment(x.comment) for x in labelled]
    else:
        tones = {t.id: t.tone for t in themer.taxonomy.themes}
        assigned = themer.assign([x.comment for x in labelled])
        found = [
            with_tone(sentiment(x.comment), [i for i, _ in f], tones)
            for x, f in zip(labelled, assigned, strict=True)
        ]
    right = sum(sentiment_label(s) == x.sentiment for s, x in zip(found, labelled, strict=True))
    return right / len(labelled)
