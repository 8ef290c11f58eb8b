"""The compute device: one place decides what ``--device auto`` means."""

from __future__ import annotations

import torch

from ckgrec.schemas.errors import ConfigError


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` without a GPU is a ConfigError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(
            f"--device {name}: CUDA is not available on this machine (torch {torch.__version__}); use --device cpu or auto"
        )
    return torch.device(name)
