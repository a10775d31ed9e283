"""Benchmarks: each module measures one thing against a baseline run side by side."""
