"""Resources besides the warehouse."""

from pathlib import Path

import dagster as dg


class SeedsFolder(dg.ConfigurableResource):
    """Where the seed files are (DETOUR_SEEDS_DIR)."""

    path: str

    @property
    def folder(self) -> Path:
        return Path(self.path).resolve()
