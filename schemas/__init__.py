"""Contracts between ckgrec's stages: table schemas, the store layout, errors and config loading.

This package imports no other ckgrec package, so kgbuild and model can both depend on it
without depending on each other.
"""
