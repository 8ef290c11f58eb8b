"""Time RecBole's KGAT epochs on ML-100K, for ``bench_kg_speed.py --recbole-python``.

Runs in a *separate* interpreter that has RecBole installed (ckgrec never imports RecBole, and
RecBole 1.2.1 pins an older numpy and pandas than ckgrec uses), so the two implementations are
timed on the same machine, in the same benchmark run, on the same data files. The environment
that worked here (2026-11-27, Python 3.11):

    python -m venv /tmp/recbole-env
    /tmp/recbole-env/bin/pip install torch==2.13.0 recbole==1.2.1 'numpy<2' 'pandas<2.2' 'scipy<1.13'

What is timed is RecBole's own ``KGATTrainer._train_epoch``: every CF batch (each propagates
the whole collaborative KG), every KG batch, and the attention update, with RecBole's data
loaders and default KGAT settings (64-d, layers [64, 32, 16], batch 2048), on one thread unless
told otherwise. No evaluation is timed, as on ckgrec's side.

DGL: RecBole's KGAT asks DGL for one thing, once, in its constructor: the per-relation
row-normalised adjacency it starts the attention from. DGL 2.1 (the last release on PyPI) does
not import beside torch 2.13, so when ``import dgl`` fails this script registers a minimal
stand-in for the calls involved (``dgl.graph``, ``filter_edges``, ``edge_subgraph`` and
``adjacency_matrix``, with DGL >= 0.5 semantics: rows are source nodes). It builds the same
starting matrix; nothing it provides runs inside an epoch.

Prints one JSON line: per-epoch CPU and wall seconds, the graph's sizes, peak RSS.

``--converge``: train to convergence instead, as RecBole's trainer does (validation Recall@20,
full ranking, after every epoch; stop after ``--stopping-step`` epochs without improvement, RecBole's
default 10), and print each epoch's wall seconds (training + validation) and validation
Recall@20 too: the time-to-accuracy yardstick of ``bench_kg_time_to_accuracy.py``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import sys
import tempfile
import time
import types
from pathlib import Path


def _install_dgl_stand_in() -> None:
    import numpy as np
    import scipy.sparse as sp
    import torch

    class _Edges:
        def __init__(self, data):
            self.data = data

    class _Graph:
        def __init__(self, src, dst, num_nodes=None):
            self.src, self.dst = torch.as_tensor(src), torch.as_tensor(dst)
            self.num_nodes = int(max(self.src.max(), self.dst.max())) + 1 if num_nodes is None else num_nodes
            self.edata: dict = {}

        def filter_edges(self, predicate):
            return torch.nonzero(predicate(_Edges(self.edata))).flatten()

        def adjacency_matrix(self, transpose=False, scipy_fmt="coo"):
            rows, cols = (self.dst, self.src) if transpose else (self.src, self.dst)
            return sp.coo_matrix(
                (np.ones(len(rows)), (rows.numpy(), cols.numpy())), shape=(self.num_nodes, self.num_nodes)
            )

    def edge_subgraph(graph, edge_ids, preserve_nodes=True):
        sub = _Graph(graph.src[edge_ids], graph.dst[edge_ids], num_nodes=graph.num_nodes)
        sub.edata = {k: v[edge_ids] for k, v in graph.edata.items()}
        return sub

    module = types.ModuleType("dgl")
    module.graph = lambda edges: _Graph(*edges)
    module.edge_subgraph = edge_subgraph
    module.__doc__ = "stand-in for the DGL calls of RecBole KGAT's constructor (see recbole_kgat_epoch.py)"
    sys.modules["dgl"] = module


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "dataset_dir", type=Path, help="directory holding ml-100k.{inter,item,user,kg,link} (RecBole atomic files)"
    )
    ap.add_argument("--epochs", type=int, default=3, help="epochs to time (default 3)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    ap.add_argument("--batch-size", type=int, default=2048, help="train_batch_size (default 2048, RecBole's default)")
    ap.add_argument("--seed", type=int, default=2020, help="RecBole seed (default 2020)")
    ap.add_argument("--converge", action="store_true", help="train to convergence, validating every epoch (see above)")
    ap.add_argument(
        "--pre-split",
        action="store_true",
        help="dataset_dir holds ml-100k-split.{train,valid,test,kg,link,item,user}: train on that split instead of "
        "drawing one",
    )
    ap.add_argument("--max-epochs", type=int, default=300, help="with --converge: at most this many (RecBole's 300)")
    ap.add_argument("--stopping-step", type=int, default=10, help="with --converge: patience in epochs (RecBole's 10)")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    try:
        importlib.import_module("dgl")
        dgl_used = "dgl"
    except Exception:
        _install_dgl_stand_in()
        dgl_used = "stand-in"
    import recbole
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.model.knowledge_aware_recommender import KGAT
    from recbole.trainer import KGATTrainer
    from recbole.utils import init_seed

    source = args.dataset_dir.resolve()
    # RecBole reads a dataset named "ml-100k" from its own bundled copy whatever data_path says (the same
    # five files as ../shared/datasets/ml-100k-recbole, byte for byte); a pre-split copy needs another name
    name = "ml-100k-split" if args.pre_split else "ml-100k"
    with tempfile.TemporaryDirectory() as tmp:
        # RecBole reads <data_path>/<dataset>/<dataset>.inter etc.; link the files under that name
        (Path(tmp) / name).symlink_to(source, target_is_directory=True)
        config = Config(
            model="KGAT",
            dataset=name,
            config_file_list=[],
            config_dict={
                "data_path": tmp,
                "epochs": args.epochs,
                "seed": args.seed,
                "train_batch_size": args.batch_size,
                "device": "cpu",
                "use_gpu": False,
                "show_progress": False,
                "checkpoint_dir": str(Path(tmp) / "saved"),
                "eval_args": {"split": {"RS": [0.8, 0.1, 0.1]}, "order": "RO", "group_by": "user", "mode": "full"},
                **({"benchmark_filename": ["train", "valid", "test"]} if args.pre_split else {}),
                "metrics": ["Recall", "NDCG"],
                "topk": [20],
                "valid_metric": "recall@20",
                "worker": 0,
                "state": "WARNING",
            },
        )
        init_seed(config["seed"], config["reproducibility"])
        dataset = create_dataset(config)
        train, valid, _ = data_preparation(config, dataset)
        model = KGAT(config, train._dataset).to(config["device"])
        trainer = KGATTrainer(config, model)
        epochs = []
        best, since = -1.0, 0
        for epoch in range(args.max_epochs if args.converge else args.epochs):
            cpu, wall = time.process_time(), time.perf_counter()
            trainer._train_epoch(train, epoch, show_progress=False)
            row = {"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall}
            if args.converge:
                t = time.perf_counter()
                _, result = trainer._valid_epoch(valid, show_progress=False)
                row.update(valid_s=time.perf_counter() - t, valid_recall20=float(result["recall@20"]))
                best, since = (row["valid_recall20"], 0) if row["valid_recall20"] > best else (best, since + 1)
            epochs.append(row)
            print(json.dumps({"epoch": epoch + 1, **row}), file=sys.stderr, flush=True)
            if args.converge and since >= args.stopping_step:
                break
    print(
        json.dumps(
            {
                "recbole": recbole.__version__,
                "torch": torch.__version__,
                "dgl": dgl_used,
                "threads": args.threads,
                "batch_size": args.batch_size,
                "users": int(model.n_users),
                "entities": int(model.n_entities),
                "relations": int(model.n_relations),
                "edges": int(model.A_in._nnz()),
                "epochs": epochs,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
