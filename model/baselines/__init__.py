"""Reference baselines, one module each: mostpop, ease, bprmf, neumf, ngcf, lightgcn."""
