"""Screening: golden normalisation cases (each with its reason), the threshold defended by true hits
that must stay above it and different companies that must stay below, and blocking that still finds
what an all-pairs comparison finds."""

import shutil

import polars as pl
import pytest
from rapidfuzz import fuzz, process

from pipeline.importers.ofac import read_ofac
from pipeline.screening import SCORER, THRESHOLD, list_names, normalise, screen, skeleton

GOLDEN = [
    ("ISLAMIC REPUBLIC OF IRAN SHIPPING LINES", "islamic republic of iran shipping lines", "case folded"),
    ("Société Générale S.A.", "societe generale", "accents dropped; S.A. (periods dropped first) is a legal form"),
    ("OOO «Ромашка»", "romashka", "Cyrillic transliterated, OOO dropped, guillemets are punctuation"),
    ("ПАО Совкомфлот", "sovkomflot", "PAO (Russian PJSC) dropped"),
    ("ZAO Bank Melli Iran", "bank melli iran", "ZAO dropped wherever it stands"),
    ("Rosneft Trading S.A.", "rosneft trading", "'trading' is not a legal form: it tells companies apart"),
    ("ANGLO-CARIBBEAN CO., LTD.", "anglo caribbean", "hyphen to a space; CO and LTD dropped"),
    ("Naftiran Intertrade Company (NICO) Ltd", "naftiran intertrade nico", "brackets dropped, their word kept"),
    ("Sherkat-e Kashtirani", "e kashtirani", "Sherkat (Persian 'company') dropped; the ezafe 'e' stays, a letter"),
    ("شرکت ملی نفتکش ایران", "mly nftksh yrn", "Persian script transliterated; شرکت (shrkt) dropped"),
    ("M&S Synd. (Pvt) Ltd.", "m s synd", "ampersand is punctuation; Pvt and Ltd dropped"),
    ("Sa'ad   Al-Hariri", "saad al hariri", "apostrophe joins, spaces collapse"),
    ("JSC \"Promsvyazbank\"", "promsvyazbank", "JSC and quotes dropped"),
    ("Mahan Air GmbH & Co. KG", "mahan air", "German GmbH & Co. KG: every part a legal form"),
    ("", "", "empty stays empty"),
]


@pytest.mark.parametrize(("name", "expected", "reason"), GOLDEN, ids=[g[0] or "empty" for g in GOLDEN])
def test_golden_normalisation(name, expected, reason):
    assert normalise(name) == expected, reason


def test_persian_script_is_compared_as_consonant_skeletons():
    assert skeleton(normalise("ماهان ایر")) == skeleton(normalise("MAHAN AIR")) == "mhn r"
    assert skeleton(normalise("بانک ملی ایران")) == skeleton(normalise("BANK MELLI IRAN")) == "bnk ml rn"


PARTIES = pl.DataFrame(
    {
        "party_id": ["ofac:1", "ofac:2", "ofac:3", "ofac:4", "ofac:5", "ofac:6"],
        "name": ["ISLAMIC REPUBLIC OF IRAN SHIPPING LINES", "BANK MELLI IRAN", "SOVCOMFLOT", "MAHAN AIR",
                 "ROSNEFT TRADING S.A.", "PROMSVYAZBANK PJSC"],
    }
)
ALIASES = pl.DataFrame({"party_id": ["ofac:1", "ofac:6"], "alias": ["IRISL", "PSB"]})

TRUE_HITS = [
    ("Islamic Republic of Iran Shipping Lines (IRISL)", "ofac:1", "an acronym added in brackets"),
    ("IRAN SHIPPING LINES, ISLAMIC REPUBLIC OF", "ofac:1", "inverted word order, as registers write it"),
    ("Банк Мелли Иран", "ofac:2", "Cyrillic spelling of a Latin-listed name"),
    ("ПАО Совкомфлот", "ofac:3", "Cyrillic, with the Russian legal form"),
    ("Sovcomflot PAO", "ofac:3", "the legal form is no part of the name"),
    ("ماهان ایر", "ofac:4", "Persian script: no short vowels written"),
    ("بانک ملی ایران", "ofac:2", "Persian script"),
    ("ROSNEF TRADING SA", "ofac:5", "one letter lost"),
]
DIFFERENT_COMPANIES = [
    ("Iran Khodro Industrial Group", "one shared word (Iran)"),
    ("Bank of China", "one shared word (Bank)"),
    ("Melli Trading GmbH", "one shared rare word (Melli)"),
    ("Rosneft Deutschland GmbH", "the parent's name, a different company"),
    ("Mahan Food Industries", "one shared word (Mahan)"),
    ("Caspian Shipping Lines", "two shared words (Shipping Lines)"),
    ("Sovcomflot Hellas Maritime", "another company carrying the name"),
]


@pytest.mark.parametrize(("name", "party", "reason"), TRUE_HITS, ids=[t[0] for t in TRUE_HITS])
def test_true_hits_score_at_or_above_the_threshold(name, party, reason):
    hits = screen(pl.DataFrame({"name": [name]}), PARTIES, ALIASES)
    assert party in hits["party_id"].to_list(), reason
    assert hits.filter(pl.col("party_id") == party)["score"].item() >= THRESHOLD


@pytest.mark.parametrize(("name", "reason"), DIFFERENT_COMPANIES, ids=[d[0] for d in DIFFERENT_COMPANIES])
def test_a_different_company_sharing_words_does_not_hit(name, reason):
    assert screen(pl.DataFrame({"name": [name]}), PARTIES, ALIASES).height == 0, reason


def test_the_threshold_sits_in_the_gap_between_true_hits_and_different_companies():
    """The lowest true hit and the highest different company, scored against every listed name."""
    listed = [normalise(n) for n in [*PARTIES["name"], *ALIASES["alias"]]]
    latin_true = [n for n, _, reason in TRUE_HITS if "Persian" not in reason]
    lowest_true = min(max(SCORER(normalise(n), x) for x in listed) for n in latin_true)
    highest_false = max(max(SCORER(normalise(n), x) for x in listed) for n, _ in DIFFERENT_COMPANIES)
    assert highest_false < THRESHOLD <= lowest_true, (highest_false, lowest_true)
    assert SCORER is fuzz.token_sort_ratio


def test_hits_carry_the_best_listed_name_and_a_rounded_score():
    hits = screen(pl.DataFrame({"name": ["IRISL", "nothing like it", None]}), PARTIES, ALIASES)
    assert hits.rows() == [("IRISL", "ofac:1", "IRISL", 100)]


def test_blocking_finds_what_comparing_every_pair_finds_on_the_real_sdn_list(shared_data, tmp_path):
    (tmp_path / "lists/ofac").mkdir(parents=True)
    for name in ("sdn.csv", "alt.csv"):
        shutil.copy(shared_data / "ofac-sdn-2021" / name, tmp_path / "lists/ofac")
    ofac = read_ofac(tmp_path)
    parties, aliases = ofac.parties[0].rows, ofac.aliases[0].rows
    names = pl.DataFrame({"name": [
        "Islamic Republic of Iran Shipping Lines", "Банк Мелли Иран", "Mahan Air", "Bank Sepah", "HAVNATUR",
        "Iran Khodro Industrial Group", "Bank of China", "Volga Shipping Ltd", "Tehran Food Co",
    ]})
    blocked = screen(names, parties, aliases)
    listed = list_names(parties, aliases)
    scores = process.cdist([normalise(n) for n in names["name"]], listed["normalised"].to_list(), scorer=SCORER)
    all_pairs = {(names["name"][int(q)], listed["party_id"][int(i)]) for q, i in zip(*(scores >= THRESHOLD - 0.5).nonzero())}
    assert set(blocked.select("name", "party_id").rows()) == all_pairs
    hit = set(blocked["name"])
    assert {"Islamic Republic of Iran Shipping Lines", "Банк Мелли Иран", "Mahan Air", "Bank Sepah", "HAVNATUR"} <= hit
    assert not hit & {"Iran Khodro Industrial Group", "Bank of China", "Volga Shipping Ltd", "Tehran Food Co"}
