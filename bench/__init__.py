"""`python -m bench`: what the data spine costs on a sandbox of a given size."""
