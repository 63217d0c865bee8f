"""Synthetic legacy data for tests, benchmarks and local demos; never part of the product.

Installed only by the local and test settings, and left out of the image (.dockerignore).
"""
