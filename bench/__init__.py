"""Benchmark of our configuration against the stock `rasa init` one (see bench/README.md)."""
