"""Survey comments for the bundled sample, tied to its planted stories.

Customers whose case a back office held past the promised call-back write about the call that
never came (most of all when Claims held it), Billing's customers who had to contact again
write about repeats and wrong bills, and Retention's customers praise its staff in the two
months after the first-call coaching started, before the effect fades. The rest write what
customers write: praise, waits, rudeness, forms, the app, and noise (short answers, off-topic
remarks, typos, a few e-mail addresses and phone numbers the build must redact).

Every draw comes from a generator of its own (seeded from the sample's seed), so the sample's
other values are the same with or without comments.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

#: The hidden column the survey frame carries for this module: each response's case story.
STORY = "_story"
#: Months (first days) after the coaching started in which Retention's customers praise it.
PRAISE_MONTHS = (datetime(2025, 9, 1), datetime(2025, 10, 1), datetime(2025, 11, 1))

CALLBACK = (
    "Told someone would ring me back within two days, nobody did.",
    "Still waiting for the call back I was promised.",
    "They promised to call me on Tuesday and no one called.",
    "Nobody got back to me like they said they would.",
    "promised a callback, never got one",
    "I was told I'd hear back by the end of the week. Nothing.",
    "No one rang me back as promised.",
)
CLAIMS = (
    "Passed to the claims team who promised a call back. Never came.",
    "My claim went to the back office and nobody called me back as promised.",
    "Claims were supposed to phone me within 48 hours, still waiting a week later.",
    "The claims department never got back to me.",
)
REPEAT = (
    "Had to call again because it still wasn't sorted.",
    "Third time I've rung about the same thing.",
    "Nothing was fixed on the first call, so I had to ring back.",
    "still not resolved after two calls",
    "I keep having to chase this up.",
)
BILLING = (
    "My bill is wrong again and I had to call back twice.",
    "Charged twice and had to ring again to get it put right.",
    "Still waiting for my refund after several calls.",
    "The overcharge was meant to be fixed last time, it wasn't.",
    "Wrong amount on my bill, second call about it.",
)
PRAISE = (
    "The advisor was brilliant and sorted everything in one call.",
    "Really helpful and friendly, thank you.",
    "Lovely person on the phone, very patient.",
    "She knew exactly what to do, excellent service.",
    "Great help from the retention team.",
)
DETRACTOR = (
    "I was on hold for far too long.",
    "Waited 45 minutes to get through.",
    "The agent was rude and dismissive.",
    "Far too many forms to fill in.",
    "The app kept crashing when I tried to pay.",
    "Transferred three times before anyone could help.",
    "Could not log in to my online account.",
)
PROMOTER = (
    "Very helpful advisor.",
    "Quick and friendly service.",
    "Sorted first time, thanks.",
    "Friendly and knowledgeable staff.",
    "Good service.",
)
NOISE = ("ok", "fine", "n/a", "nothing to add", "-", "My neighbour recommended you.", "test")
#: Rate of a comment by NPS category: detractors write most.
RATES = {"detractor": 0.45, "passive": 0.2, "promoter": 0.3}


def add(responses: pl.DataFrame, seed: int, claims: int) -> pl.DataFrame:
    """The survey frame with a comment column, and without its hidden story column.

    claims: the index of Claims Processing among the departments (a case's back office).
    """
    if STORY not in responses.columns:
        return responses
    rng = np.random.default_rng([seed, 31])
    n = responses.height
    story = responses[STORY].struct.unnest()
    score = responses["score"].to_numpy()
    category = np.where(score >= 9, "promoter", np.where(score >= 7, "passive", "detractor"))
    rate = np.vectorize(RATES.get)(category) if n else np.zeros(0)
    writes = rng.random(n) < rate
    pick, noise, typo, contact = rng.random(n), rng.random(n), rng.random(n), rng.random(n)
    number = rng.integers(100_000, 999_999, n)
    department = responses["department_id"].to_list()
    month = responses["responded_at"].dt.truncate("1mo").to_list()
    broken, extra, target = (story[c].to_list() for c in ("broken", "extra", "target"))
    texts: list[str | None] = []
    for i in range(n):
        if not writes[i]:
            texts.append(None)
            continue
        if noise[i] < 0.1:
            choices = NOISE
        elif broken[i] and category[i] != "promoter":
            choices = CLAIMS if target[i] == claims and pick[i] < 0.7 else CALLBACK
        elif department[i] == "BIL" and extra[i] and category[i] != "promoter":
            choices = BILLING if pick[i] < 0.6 else REPEAT
        elif extra[i] and category[i] == "detractor":
            choices = REPEAT
        elif department[i] == "RTN" and month[i] in PRAISE_MONTHS and category[i] != "detractor":
            choices = PRAISE
        else:
            choices = DETRACTOR if category[i] == "detractor" else PROMOTER
        text = choices[int(pick[i] * 1000) % len(choices)]
        if typo[i] < 0.08 and len(text) > 12:
            at = int(typo[i] * 1000) % (len(text) - 2) + 1
            text = text[:at] + text[at + 1] + text[at] + text[at + 2 :]
        if contact[i] < 0.01:
            text += f" Email me at customer{number[i]}@example.com"
        elif contact[i] < 0.02:
            text += f" Call me on 07700 {number[i]}"
        texts.append(text)
    return responses.drop(STORY).with_columns(pl.Series("comment", texts, dtype=pl.String))
