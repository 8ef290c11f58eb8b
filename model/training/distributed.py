"""Data-parallel training over ``torch.distributed``: gloo on the CPU, NCCL on CUDA.

Every rank holds a full replica of the model and draws the same epoch (permutation and
negatives) from the shared seed; of each batch of ``batch_size`` rows rank r takes the r-th of
``world_size`` contiguous slices (:func:`shard`), computes its loss and gradients, and
:func:`average_gradients` sums the gradients of every rank weighted by its share of the rows, so
the step is the one of the whole batch (up to floating-point order) and every replica stays
bit-identical. Gradients are all-reduced explicitly, one flat bucket per dtype, not through
``DistributedDataParallel``: the trainer calls ``model.objective`` rather than ``forward``, and a
graph model's full-graph propagation is computed by every rank, so its embedding-table gradients
are dense anyway. Rank 0 alone evaluates and writes the run directory; the others follow the
decisions it broadcasts (:func:`broadcast_ints`).

Two ways in: :func:`spawn` (``ckg train --nproc N``) starts N ranks with ``multiprocessing``
spawn and watches them from the calling process; under ``torchrun`` (``WORLD_SIZE`` /
``RANK`` in the environment) :func:`process_group_from_env` joins the group torchrun describes.
One process, no group: every helper here is a no-op, so single-process runs are unchanged.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import socket
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Iterable, Iterator

import torch
import torch.distributed as dist

from ckgrec.model.models.base import Batch
from ckgrec.schemas.errors import ConfigError

TIMEOUT = timedelta(minutes=30)  # how long a rank waits at a collective (rank 0 evaluating, say)


@dataclass(frozen=True)
class Dist:
    """This process's place in the group; ``world_size == 1`` outside one."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1


SINGLE = Dist()


def current() -> Dist:
    """The process group this process belongs to, or :data:`SINGLE`."""
    if not (dist.is_available() and dist.is_initialized()):
        return SINGLE
    rank = dist.get_rank()
    return Dist(rank, dist.get_world_size(), int(os.environ.get("LOCAL_RANK", rank)))


def env_world_size() -> int:
    """``WORLD_SIZE`` as ``torchrun`` sets it (1 when not launched by it)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def is_follower_process() -> bool:
    """True in a rank other than 0 of a ``torchrun`` launch (for a CLI to stay quiet there)."""
    return env_world_size() > 1 and int(os.environ.get("RANK", "0")) != 0


def backend_for(device: torch.device | str) -> str:
    return "nccl" if torch.device(device).type == "cuda" else "gloo"


def _cpu_threads(local_world: int) -> None:
    """Share the cores between the local ranks (torch's default, every core per process,
    oversubscribes them N times)."""
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // max(1, local_world)))


@contextlib.contextmanager
def process_group_from_env(device: torch.device | str, threads: int | None = None) -> Iterator[Dist]:
    """Join the group ``torchrun`` describes (``env://``) for the block; nothing when
    ``WORLD_SIZE`` is 1 or a group exists already (then that one is used)."""
    if env_world_size() <= 1 or dist.is_initialized():
        yield current()
        return
    backend = backend_for(device)
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    elif threads is None:
        _cpu_threads(int(os.environ.get("LOCAL_WORLD_SIZE", env_world_size())))
    dist.init_process_group(backend, init_method="env://", timeout=TIMEOUT)
    try:
        yield current()
    finally:
        dist.destroy_process_group()


def rank_device(device: torch.device, d: Dist) -> torch.device:
    """Each rank's own GPU under NCCL (``cuda:LOCAL_RANK``); the CPU stays the CPU."""
    if d.active and device.type == "cuda":
        return torch.device("cuda", d.local_rank)
    return device


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _child(
    rank: int,
    worker: Callable[..., Any],
    world_size: int,
    init_method: str,
    backend: str,
    threads: int | None,
    queue: Any,
    args: tuple,
) -> None:
    """One spawned rank: join the group, run ``worker(*args, log=...)``; rank 0's log lines and any
    rank's exception go to the launcher through ``queue``."""
    _die_with_parent()
    os.environ.update(
        {"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(world_size), "LOCAL_WORLD_SIZE": str(world_size)}
    )
    if backend == "nccl":
        torch.cuda.set_device(rank)
    elif threads is None:
        _cpu_threads(world_size)
    try:
        dist.init_process_group(backend, init_method=init_method, rank=rank, world_size=world_size, timeout=TIMEOUT)
        try:
            worker(*args, log=(lambda msg: queue.put(("log", msg))) if rank == 0 else None)
        finally:
            dist.destroy_process_group()
    except BaseException as exc:
        try:
            pickle.dumps(exc)
            queue.put(("error", rank, exc))
        except Exception:
            queue.put(("error", rank, RuntimeError(f"rank {rank}: {exc!r}")))
        raise


def _die_with_parent() -> None:
    """Linux: end this rank when the launcher dies (a killed ``ckg train --nproc`` leaves no rank
    training on, holding the run directory's lock); elsewhere a no-op."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def spawn(
    nproc: int,
    worker: Callable[..., Any],
    worker_args: tuple,
    *,
    backend: str,
    threads: int | None = None,
    log: Callable[[str], None] | None = None,
) -> None:
    """Run ``worker(*worker_args, log=...)`` as ranks 0..nproc-1 of a group, each in a spawned
    process (``worker`` a module-level function, its arguments picklable), and wait for them.

    This process only watches: it passes rank 0's log lines to ``log`` and, when a rank fails,
    ends the others and raises that rank's exception (a rank cannot hang on a dead one).
    """
    import torch.multiprocessing as tmp

    if dist.is_initialized():
        raise ConfigError("nproc > 1 inside a process group already (torchrun): launch with one or the other")
    if backend == "nccl" and torch.cuda.device_count() < nproc:
        raise ConfigError(f"nproc = {nproc} on CUDA, but {torch.cuda.device_count()} GPU(s) are visible")
    init_method = f"tcp://127.0.0.1:{_free_port()}"
    queue = tmp.get_context("spawn").SimpleQueue()
    errors: list[tuple[int, BaseException]] = []

    def drain() -> None:
        while not queue.empty():
            item = queue.get()
            if item[0] == "log":
                if log is not None:
                    log(item[1])
            else:
                errors.append((item[1], item[2]))

    pc = tmp.start_processes(
        _child,
        args=(worker, nproc, init_method, backend, threads, queue, worker_args),
        nprocs=nproc,
        join=False,
        start_method="spawn",
    )
    try:
        while not pc.join(timeout=0.2):
            drain()
    except tmp.ProcessException as exc:
        drain()
        if errors:
            # the first rank to fail, not one that failed because a peer had gone
            rank, first = min(errors, key=lambda e: (not isinstance(e[1], ConfigError), e[0]))
            raise first from exc
        raise
    except BaseException:
        for p in pc.processes:
            if p.is_alive():
                p.terminate()
        for p in pc.processes:
            p.join()
        raise
    drain()


# ---- collectives used by the trainer ---------------------------------------------------------------


def shard(batch: Batch, d: Dist) -> Batch:
    """Rank r's contiguous slice of a batch: rows ``[n·r/W, n·(r+1)/W)`` (sizes differ by at most one)."""
    if not d.active:
        return batch
    n = len(batch)
    lo, hi = n * d.rank // d.world_size, n * (d.rank + 1) // d.world_size
    return Batch(batch.users[lo:hi], batch.pos[lo:hi], batch.neg[lo:hi])


def average_gradients(params: Iterable[torch.nn.Parameter], weight: float, d: Dist) -> None:
    """Replace each gradient by ``Σ_r weight_r · grad_r`` over the ranks (one all-reduce per dtype).

    ``weight`` is this rank's share of the rows of the batch (1/W for work every rank repeats).
    A parameter no rank produced a gradient for keeps ``grad = None`` (Adam then skips it, as it
    would in one process); one that some ranks did not reach counts as zero there.
    """
    if not d.active:
        return
    params = [p for p in params if p.requires_grad]
    if not params:
        return
    device = params[0].device
    has = torch.tensor([p.grad is not None for p in params], dtype=torch.int32, device=device)
    dist.all_reduce(has)
    by_dtype: dict[torch.dtype, list[torch.nn.Parameter]] = {}
    for p, h in zip(params, has.tolist()):
        if h:
            by_dtype.setdefault(p.dtype, []).append(p)
        else:
            p.grad = None
    for dtype, group in by_dtype.items():
        flat = torch.cat(
            [
                (p.grad.reshape(-1) * weight)
                if p.grad is not None
                else torch.zeros(p.numel(), dtype=dtype, device=device)
                for p in group
            ]
        )
        dist.all_reduce(flat)
        offset = 0
        for p in group:
            n = p.numel()
            p.grad = flat[offset : offset + n].view_as(p)
            offset += n


def sum_floats(values: list[float], d: Dist) -> list[float]:
    """The element-wise sum over the ranks (float64, on the CPU under gloo)."""
    if not d.active:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=_collective_device())
    dist.all_reduce(t)
    return t.tolist()


def broadcast_ints(values: list[int], d: Dist) -> list[int]:
    """Rank 0's ``values`` on every rank (same length everywhere)."""
    if not d.active:
        return values
    t = torch.tensor(values, dtype=torch.int64, device=_collective_device())
    dist.broadcast(t, src=0)
    return [int(v) for v in t.tolist()]


def gather_objects(obj: Any, d: Dist) -> list[Any]:
    """Every rank's ``obj``, in rank order, on every rank."""
    if not d.active:
        return [obj]
    out: list[Any] = [None] * d.world_size
    dist.all_gather_object(out, obj)
    return out


def barrier(d: Dist) -> None:
    if d.active:
        dist.barrier()


def _collective_device() -> torch.device:
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")
