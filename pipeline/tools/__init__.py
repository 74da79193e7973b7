"""Tools for measuring and faulting Detour, not part of its data path: the benchmarks (`make bench*`), the
soak and its reader (`make soak`), and the synthetic-flow generator they run on."""
