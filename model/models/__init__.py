"""One module per "--model" (the registry maps names to classes); base.py is the interface they share."""
