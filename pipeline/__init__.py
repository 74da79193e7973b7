import warnings

# backfill_policy (one run for a range of months) is marked beta in the pinned dagster; nothing to act on.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`")
