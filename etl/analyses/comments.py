"""Survey comments redacted and themed in a build: comment_texts, comment_theme_scores and
theme_taxonomy (docs/methodology.md#themes-in-comments).

A comment is themed once per taxonomy: each build keeps the rows of comments whose text (by
its digest) and taxonomy version are unchanged, and themes only new or changed ones, so a
monthly load themes its own comments only. A changed taxonomy re-themes every comment.
The raw text is never stored: only its digest and the redacted text.
"""

from __future__ import annotations

import duckdb
import polars as pl

from etl.analyses import themes, thresholds
from etl.analyses.redaction import redact
from etl.contract import themes as taxonomies

TEXTS, SCORES, TAXONOMY = "comment_texts", "comment_theme_scores", "theme_taxonomy"
_TEXT_SCHEMA = {
    "response_id": pl.String,
    "department_id": pl.String,
    "comment_digest": pl.String,
    "taxonomy_version": pl.String,
    "redacted_comment": pl.String,
    "sentiment": pl.Float64,
    "sentiment_label": pl.String,
    "themes": pl.Int32,
}
_SCORE_SCHEMA = {
    "response_id": pl.String,
    "department_id": pl.String,
    "theme_id": pl.String,
    "score": pl.Float64,
}
#: Comments of the survey answers, with a digest of their text; blank ones are no comment.
_COMMENTS = (
    "SELECT response_id, department_id, comment, md5(comment) AS comment_digest"
    " FROM stg_nps_responses"
    " WHERE comment IS NOT NULL AND trim(comment) <> ''"
)


def build(con: duckdb.DuckDBPyConnection, taxonomy: taxonomies.Taxonomy | None = None) -> list[str]:
    """Theme the comments not themed yet with this taxonomy; the tables written."""
    taxonomy = taxonomy or taxonomies.read()
    version = taxonomy.version
    con.execute(f"CREATE OR REPLACE TEMP TABLE _comments AS {_COMMENTS}")
    if _exists(con, TEXTS) and _exists(con, SCORES):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _kept AS SELECT t.* FROM {TEXTS} t"
            " JOIN _comments c USING (response_id, department_id, comment_digest)"
            " WHERE t.taxonomy_version = $v",
            {"v": version},
        )
    else:
        _empty_kept(con)
    todo = con.sql(
        "SELECT response_id, department_id, comment, comment_digest FROM _comments"
        " ANTI JOIN _kept USING (response_id) ORDER BY response_id"
    ).pl()
    # The taxonomy's F1 is measured once per version, when there are comments to theme: a
    # warehouse without comments never loads scikit-learn.
    any_comments = con.execute("SELECT count(*) > 0 FROM _comments").fetchall()[0][0]
    known = _exists(con, TAXONOMY) and con.execute(
        f"SELECT count(*) FROM {TAXONOMY} WHERE taxonomy_version = $v AND (measured OR NOT $c)",
        {"v": version, "c": any_comments},
    ).fetchall()[0][0] == len(taxonomy.themes)
    themer = themes.Themer(taxonomy) if todo.height or (any_comments and not known) else None
    texts, scores = _theme(themer, todo, version)
    con.register("new_texts", texts.to_arrow())
    con.register("new_scores", scores.to_arrow())
    kept_scores = (
        f"SELECT s.* FROM {SCORES} s SEMI JOIN _kept USING (response_id)"
        if _exists(con, SCORES)
        else "SELECT * FROM new_scores LIMIT 0"
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _kept_scores AS {kept_scores}")
    con.execute(
        f"CREATE OR REPLACE TABLE {TEXTS} AS SELECT * FROM (SELECT * FROM _kept"
        " UNION ALL BY NAME SELECT * FROM new_texts) ORDER BY response_id"
    )
    con.execute(
        f"CREATE OR REPLACE TABLE {SCORES} AS SELECT * FROM (SELECT * FROM _kept_scores"
        " UNION ALL BY NAME SELECT * FROM new_scores) ORDER BY response_id, score DESC, theme_id"
    )
    if not known:
        con.register("new_taxonomy", _taxonomy_frame(taxonomy, themer, version).to_arrow())
        con.execute(f"CREATE OR REPLACE TABLE {TAXONOMY} AS SELECT * FROM new_taxonomy")
        con.unregister("new_taxonomy")
    for name in ("new_texts", "new_scores"):
        con.unregister(name)
    for name in ("_comments", "_kept", "_kept_scores"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    return [TEXTS, SCORES, TAXONOMY]


def _empty_kept(con: duckdb.DuckDBPyConnection) -> None:
    con.register("no_texts", pl.DataFrame(schema=_TEXT_SCHEMA).to_arrow())
    con.execute("CREATE OR REPLACE TEMP TABLE _kept AS SELECT * FROM no_texts")
    con.unregister("no_texts")


def _exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT 1 FROM duckdb_tables() WHERE table_name = $n AND NOT temporary", {"n": name}
        ).fetchall()
    )


def _theme(
    themer: themes.Themer | None, todo: pl.DataFrame, version: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    redacted = todo.select(
        "response_id",
        "department_id",
        "comment_digest",
        pl.lit(version).alias("taxonomy_version"),
        redact(pl.col("comment")).alias("comment"),
    )
    if themer is None or not todo.height:
        return pl.DataFrame(schema=_TEXT_SCHEMA), pl.DataFrame(schema=_SCORE_SCHEMA)
    themed, scores = themes.theme_comments(themer, redacted)
    # Each row carries its department, so a reader limited to departments sees only theirs.
    scores = scores.join(themed.select("response_id", "department_id"), on="response_id")
    themed = themed.rename({"comment": "redacted_comment"}).select(list(_TEXT_SCHEMA))
    return themed, scores.select(list(_SCORE_SCHEMA))


def _taxonomy_frame(
    taxonomy: taxonomies.Taxonomy, themer: themes.Themer | None, version: str
) -> pl.DataFrame:
    """The themes with their F1 on the labelled comments (without a themer: not measured
    yet); a theme the labels do not cover has none, and its reliability is unknown (NULL)."""
    labelled = taxonomies.labelled() if themer is not None else []
    measured = themes.evaluate(themer, labelled) if themer is not None else {}
    covered = {t for x in labelled for t in x.themes}
    rows = []
    for rank, theme in enumerate(taxonomy.themes, 1):
        m = measured[theme.id] if theme.id in covered else None
        rows.append(
            {
                "theme_id": theme.id,
                "theme_label": theme.label,
                "definition": theme.definition,
                "tone": theme.tone,
                "theme_order": rank,
                "seed_phrases": len(theme.seeds),
                "labelled_comments": m.labelled if m else 0,
                "precision": m.precision if m else None,
                "recall": m.recall if m else None,
                "f1": m.f1 if m else None,
                "reliable": None if m is None or m.f1 is None else m.f1 >= thresholds.MIN_F1,
                "taxonomy_version": version,
                "measured": themer is not None,
            }
        )
    schema = {
        "theme_id": pl.String,
        "theme_label": pl.String,
        "definition": pl.String,
        "tone": pl.String,
        "theme_order": pl.Int32,
        "seed_phrases": pl.Int32,
        "labelled_comments": pl.Int32,
        "precision": pl.Float64,
        "recall": pl.Float64,
        "f1": pl.Float64,
        "reliable": pl.Boolean,
        "taxonomy_version": pl.String,
        "measured": pl.Boolean,
    }
    return pl.DataFrame(rows, schema=schema)


def preview(
    taxonomy: taxonomies.Taxonomy, comments: pl.DataFrame, examples: int = 3
) -> tuple[pl.DataFrame, int]:
    """What a taxonomy would make of comments (response_id, department_id, comment as sent):
    per theme, the comments it would take, their share and the clearest examples (the highest
    scores, the shortest first among equals), redacted; and the comments no theme would take."""
    themer = themes.Themer(taxonomy)
    todo = comments.with_columns(pl.lit("").alias("comment_digest"))
    texts, scores = _theme(themer, todo, taxonomy.version)
    labelled = {t.id: m for t, m in _measured(themer).items()}
    scored = scores.join(texts.select("response_id", "redacted_comment"), on="response_id")
    rows = []
    for theme in taxonomy.themes:
        mine = scored.filter(pl.col("theme_id") == theme.id)
        shown = (
            mine.with_columns(pl.col("redacted_comment").str.len_chars().alias("_length"))
            .sort(["score", "_length"], descending=[True, False])
            .unique("redacted_comment", keep="first", maintain_order=True)
            .head(examples)["redacted_comment"]
            .to_list()
        )
        rows.append(
            {
                "theme_id": theme.id,
                "theme_label": theme.label,
                "comments": mine.height,
                "share": mine.height / texts.height if texts.height else None,
                "f1": labelled.get(theme.id),
                "examples": shown,
            }
        )
    unmatched = texts.filter(pl.col("themes") == 0).height
    return pl.DataFrame(rows), unmatched


def _measured(themer: themes.Themer) -> dict:
    """Each theme the labelled comments cover, with its F1."""
    labelled = taxonomies.labelled()
    covered = {t for x in labelled for t in x.themes}
    measured = themes.evaluate(themer, labelled)
    return {t: measured[t.id].f1 for t in themer.taxonomy.themes if t.id in covered}
