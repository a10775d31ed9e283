"""Repositories: queries and writes for one concept each. They flush, never commit."""
