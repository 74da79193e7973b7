"""How long screening takes: N flow names (listed names with perturbations, plus random company names
that are on no list) against a real list folder. Prints seconds, recall on the perturbed names, and
how many random names hit. Usage: python -m pipeline.tools.bench_screening SEEDS_DIR [--names 20000]
(SEEDS_DIR holds lists/ofac/sdn.csv, alt.csv; e.g. a folder with the OFAC 2021 triple)."""

import argparse
import random
import time
from pathlib import Path

import polars as pl

from pipeline.importers.ofac import read_ofac
from pipeline.screening import THRESHOLD, screen

WORDS = ("amber falcon harbor meridian summit pioneer crescent granite willow atlas nordic cobalt maple orchid "
         "silverline bluewater redwood sunrise evergreen horizon keystone lakeside northgate riverside "
         "stonebridge tidewater westfield brightpath clearwater ironwood").split()
TRADES = "logistics foods textiles machinery plastics electronics furniture paper ceramics agro".split()
FORMS = ["LLC", "Ltd", "GmbH", "OOO", "JSC", "Co", "S.A.", "Pvt Ltd", "Trading Co", ""]


def perturb(name: str, rng: random.Random) -> str:
    """A listed name as a trade record might spell it: case, a legal form, a typo, word order."""
    words = name.replace(",", " ").split()
    kind = rng.randrange(5)
    if kind == 0:
        return name.title()
    if kind == 1:
        return f"{name} {rng.choice(FORMS)}".strip()
    if kind == 2 and len(words) > 1:
        rng.shuffle(words)
        return " ".join(words)
    if kind == 3:  # one letter dropped from the longest word
        longest = max(range(len(words)), key=lambda i: len(words[i]))
        w = words[longest]
        if len(w) > 5:
            cut = rng.randrange(1, len(w) - 1)
            words[longest] = w[:cut] + w[cut + 1:]
        return " ".join(words)
    return name.lower()


def names_to_screen(parties: pl.DataFrame, n: int, listed_share: float, rng: random.Random) -> pl.DataFrame:
    entities = parties.filter(pl.col("party_type") != "individual")
    k = int(n * listed_share)
    picked = entities.sample(k, with_replacement=k > entities.height, seed=rng.randrange(1 << 30))
    listed = [(perturb(name, rng), pid) for name, pid in picked.select("name", "party_id").iter_rows()]
    made_up = [
        (f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {rng.choice(TRADES).title()} {rng.choice(FORMS)}".strip(), None)
        for _ in range(n - k)
    ]
    return pl.DataFrame(listed + made_up, schema={"name": pl.String, "source_party": pl.String}, orient="row")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seeds_dir", type=Path)
    parser.add_argument("--names", type=int, default=20_000)
    parser.add_argument("--listed-share", type=float, default=0.25)
    parser.add_argument("--threshold", type=int, default=THRESHOLD)
    args = parser.parse_args(argv)
    rng = random.Random(7)
    ofac = read_ofac(args.seeds_dir)
    parties = pl.concat([f.rows for f in ofac.parties])
    aliases = pl.concat([f.rows for f in ofac.aliases])
    names = names_to_screen(parties, args.names, args.listed_share, rng)
    started = time.perf_counter()
    hits = screen(names.select("name"), parties, aliases, threshold=args.threshold)
    seconds = time.perf_counter() - started
    found = names.join(hits, on="name", how="left")
    listed = names.filter(pl.col("source_party").is_not_null())
    recalled = found.filter(pl.col("party_id") == pl.col("source_party")).select("name").n_unique()
    random_hits = found.filter(pl.col("source_party").is_null(), pl.col("party_id").is_not_null())
    print(
        f"{names.height} names ({names['name'].n_unique()} distinct) against {parties.height} entries and "
        f"{aliases.height} aliases: {seconds:.2f} s, {hits.height} hits at threshold {args.threshold}\n"
        f"recall on perturbed listed names: {recalled}/{listed['name'].n_unique()}\n"
        f"made-up names that hit: {random_hits['name'].n_unique()}"
        + (f" e.g. {random_hits.select('name', 'matched_name').head(5).rows()}" if random_hits.height else "")
    )


if __name__ == "__main__":
    main()
