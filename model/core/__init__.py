"""What every layer shares: the compute device, configs built from mappings, the run directory and checkpoint files."""
