"""Screening names against sanctions lists: normalise both sides, block on shared rare tokens, score
the few candidate pairs with rapidfuzz. Exact identifier matches (IMO numbers) are joined in SQL."""

import re
import unicodedata
from collections import defaultdict

import polars as pl
from anyascii import anyascii
from rapidfuzz import fuzz, process

# token_sort_ratio compares the whole names with their words sorted, so word order ("IRAN SHIPPING
# LINES ISLAMIC REPUBLIC OF") does not matter, an extra word such as "(IRISL)" costs a few points, and
# sharing one word with a long name scores low. WRatio and token_set_ratio score a name 100 or near it
# against any name that contains it ("Iran" in "Bank Melli Iran"), which floods the hits.
SCORER = fuzz.token_sort_ratio
# Lowest score that is a hit. Defended by tests/test_screening.py: Cyrillic and Persian transliterations
# and an added acronym stay above it; different companies sharing one word stay well below.
THRESHOLD = 88
# A token held by more list names than this is too common to block on alone ("bank", "trading").
MAX_TOKEN_NAMES = 300

# Legal-form words, as they read after transliteration and lower-casing (periods dropped, so
# "L.L.C." is "llc"). Russian/CIS: ooo oao zao pao ao tov (Ukrainian ТОВ) ip; Persian/Arabic: sherkat
# and its unvowelled transliteration shrkt (شرکت), sherkate, sahami khass/aam are kept (they also mean
# "shares"); Turkish sirketi, as; Western: llc ltd gmbh co company corp inc plc sa ag bv nv ...
LEGAL_FORMS = frozenset(
    """
    llc ltd limited gmbh co company companies corp corporation inc incorporated plc llp lp ag sa sas sarl srl spa
    bv nv kg ohg oy ab as asa aps kft doo dd sro pte pvt bhd sdn jsc ojsc cjsc pjsc ooo oao zao pao ao tov
    fze fzco fzc fz llc dmcc sherkat sherkate shrkt shirkat sirketi
    """.split()
)
STOP_WORDS = frozenset("of the and de la le el al des du der und".split())
_KEEP_JOINED = re.compile(r"[.'`’‘ʼʻ]")  # "L.L.C." → llc, "Sa'ad" → saad
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def normalise(name: str | None) -> str:
    """Comparable form of a name: transliterated to ASCII (Cyrillic, Persian, Arabic, Greek, CJK),
    accents and case dropped, punctuation to spaces, legal-form words dropped, spaces collapsed."""
    if not name:
        return ""
    text = anyascii(unicodedata.normalize("NFKC", name)).casefold()
    text = _NOT_ALNUM.sub(" ", _KEEP_JOINED.sub("", text))
    words = [w for w in text.split() if w not in LEGAL_FORMS]
    return " ".join(words)


ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_VOWELS = re.compile(r"[aeiouyw]")
_DOUBLED = re.compile(r"(.)\1+")
MIN_SKELETON = 4  # letters; shorter skeletons match too much
# Skeletons are short and lose the vowels that tell names apart ("bnk ml rn" Bank Melli Iran scores 90
# against "bnk mlt rvn" Bank Mellat Yerevan), so a skeleton must match all but nearly exactly.
SKELETON_THRESHOLD = 95


def skeleton(normalised: str) -> str:
    """Consonants of each word, doubled letters once: Persian and Arabic script leave short vowels
    unwritten and write long ones as ا/و/ی (a / w / y after transliteration), so "ماهان ایر" (mhn yr)
    and "MAHAN AIR" both read "mhn r"."""
    words = (_DOUBLED.sub(r"\1", _VOWELS.sub("", w)) for w in normalised.split())
    return " ".join(w for w in words if w)


def _tokens(normalised: str) -> set[str]:
    """Blocking keys: the words, and the first and last four letters of long words, so that a typo in
    the one word that tells a name apart ("HVANATUR" for HAVANATUR) still meets its listed name."""
    words = {t for t in normalised.split() if len(t) > 1 and t not in STOP_WORDS}
    return words | {f"{w[:4]}<" for w in words if len(w) >= 7} | {f">{w[-4:]}" for w in words if len(w) >= 7}


HITS_SCHEMA = {"name": pl.String, "party_id": pl.String, "matched_name": pl.String, "score": pl.Int64}


def list_names(parties: pl.DataFrame, aliases: pl.DataFrame) -> pl.DataFrame:
    """Every name a party is listed under (its name and its aliases): party_id, listed_name, normalised."""
    frames = [
        parties.select("party_id", pl.col("name").alias("listed_name")),
        aliases.select("party_id", pl.col("alias").alias("listed_name")),
    ]
    names = pl.concat(frames).drop_nulls().unique(maintain_order=True)
    return names.with_columns(pl.col("listed_name").map_elements(normalise, return_dtype=pl.String).alias("normalised"))


def screen(
    names: pl.DataFrame,
    parties: pl.DataFrame,
    aliases: pl.DataFrame,
    threshold: int = THRESHOLD,
    max_token_names: int = MAX_TOKEN_NAMES,
) -> pl.DataFrame:
    """Hits of `names` (column `name`) against the parties' names and aliases: one row per name ×
    party with the best-scoring listed name, score 0–100 (rounded), at or above `threshold`.

    Blocking: an inverted index maps each token of a listed name to the names holding it; a screened
    name is compared only with listed names sharing one of its tokens that at most `max_token_names`
    listed names hold (its rarest token when all of its tokens are common). Not all pairs."""
    listed = list_names(parties, aliases).filter(pl.col("normalised") != "")
    listed_norm = listed["normalised"].to_list()
    listed_party = listed["party_id"].to_list()
    listed_name = listed["listed_name"].to_list()
    index = _index(listed_norm)
    screened = names["name"].drop_nulls().unique(maintain_order=True).to_list()
    # Names in Arabic script are also compared as consonant skeletons (built only when one is screened).
    skeletons, skeleton_index = [], {}
    if any(ARABIC_SCRIPT.search(n) for n in screened):
        skeletons = [skeleton(n) for n in listed_norm]
        skeleton_index = _index(skeletons)

    hits: list[tuple[str, str, str, int]] = []
    for name in screened:
        query = normalise(name)
        best: dict[str, tuple[int, str]] = {}
        passes = [(query, listed_norm, index, threshold)]
        if skeleton_index and ARABIC_SCRIPT.search(name) and len(skeleton(query).replace(" ", "")) >= MIN_SKELETON:
            passes.append((skeleton(query), skeletons, skeleton_index, max(threshold, SKELETON_THRESHOLD)))
        for text, choices, tokens_to_names, cutoff in passes:
            candidates = _candidates(text, tokens_to_names, max_token_names)
            if not candidates:
                continue
            scores = process.cdist([text], [choices[i] for i in candidates], scorer=SCORER, score_cutoff=cutoff - 0.5)[0]
            for pos in scores.nonzero()[0]:
                i = candidates[pos]
                score = int(round(float(scores[pos])))
                party = listed_party[i]
                if party not in best or score > best[party][0]:
                    best[party] = (score, listed_name[i])
        hits.extend((name, party, matched, score) for party, (score, matched) in best.items())
    return pl.DataFrame(hits, schema=HITS_SCHEMA, orient="row")


def _index(texts: list[str]) -> dict[str, list[int]]:
    """Inverted index: token → positions of the texts holding it."""
    index: dict[str, list[int]] = defaultdict(list)
    for i, text in enumerate(texts):
        for token in _tokens(text):
            index[token].append(i)
    return index


def _candidates(text: str, index: dict[str, list[int]], max_token_names: int) -> list[int]:
    """Listed names sharing a rare-ish token with `text` (its rarest token when all are common)."""
    tokens = [t for t in _tokens(text) if t in index]
    if not tokens:
        return []
    rare = [t for t in tokens if len(index[t]) <= max_token_names] or [min(tokens, key=lambda t: len(index[t]))]
    return sorted({i for t in rare for i in index[t]})
