"""How the build runs its stages: in this process, a local process pool, or Ray Data."""
