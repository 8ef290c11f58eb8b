"""Fault campaign: bad inputs, corrupted stores, concurrent writers, disk full and kills, each run as a
real ``ckg`` subprocess and classified.

Every case is one command with an expected outcome:

* ``error`` cases must end with one clear line (``ckg CMD: error: ...`` or argparse's ``ckg CMD: error:``),
  exit status != 0 and no traceback; exit 0 is a *silent wrong result*.
* ``ok`` cases must exit 0 and pass their check (e.g. the store still verifies).

Kill trials start a writer, SIGKILL it after a random delay, check what is left (the output must be
the old one or the complete new one, never a store that looks valid but is not) and rerun the same
command, which must finish and leave no temporary files; a killed training run must resume to the
same scores as an uninterrupted one.

    python benchmarks/fault_campaign.py [--kills N] [--quick] [--no-write]

prints the table (and writes it to FILE.md). ``tests/fault/`` runs the same cases under pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
CKG = [sys.executable, "-c", "import sys; from ckgrec.cli import main; sys.exit(main())"]


@dataclass
class Result:
    case: str
    kind: str  # error | ok | kill
    outcome: str  # clear_error | ok | traceback | silent_wrong | unclear | failed
    detail: str = ""


@dataclass
class Fixture:
    root: Path
    world: Path
    store: Path
    run: Path
    extra: dict = field(default_factory=dict)


def ckg(
    *args: str, cwd: Path, env: dict | None = None, fsize: int | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    def limit():
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run(
        [*CKG, *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limit if fsize is not None else None,
    )


def classify_error(p: subprocess.CompletedProcess) -> tuple[str, str]:
    err = p.stderr.strip()
    if "Traceback (most recent call last)" in err:
        return "traceback", err.splitlines()[-1][:200]
    if p.returncode == 0:
        return "silent_wrong", (p.stdout.strip().splitlines() or [""])[-1][:200]
    lines = [ln for ln in err.splitlines() if ln.strip()]
    last = lines[-1] if lines else ""
    if last.startswith("ckg ") and ": error: " in last:
        return "clear_error", last[:300]
    if lines and lines[0].startswith("ckg ") and ": error: " in lines[0]:  # a problem list (validate, input validation)
        return "clear_error", lines[0][:300]
    if lines and lines[0].endswith("problem(s):"):
        return "clear_error", lines[0][:300]
    return "unclear", last[:200]


def store_ok(path: Path) -> bool:
    from ckgrec.schemas.store import validate_store

    try:
        problems, _ = validate_store(path)
    except Exception:
        return False
    return not problems


# ---- the fixture -------------------------------------------------------------------------------


def make_fixture(root: Path) -> Fixture:
    sys.path.insert(0, str(ROOT))
    from tests.world import make_world

    root.mkdir(parents=True, exist_ok=True)
    world = make_world(root / "world")
    store = root / "store"
    p = ckg("build", str(world), "--out", str(store), "--quiet", cwd=root)
    if p.returncode:
        raise RuntimeError(p.stderr)
    run = root / "run"
    p = ckg("train", str(store), "--model", "bprmf", "--out", str(run), "--epochs", "2", "--quiet", cwd=root)
    if p.returncode:
        raise RuntimeError(p.stderr)
    return Fixture(root, world, store, run)


def copy_store(fx: Fixture, name: str) -> Path:
    dst = fx.root / name
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(fx.store, dst, ignore=shutil.ignore_patterns("pretrained"))
    return dst


def flip_byte(path: Path) -> None:
    b = bytearray(path.read_bytes())
    b[len(b) // 2] ^= 0x01
    path.write_bytes(bytes(b))


def edit_manifest(store: Path, fn: Callable[[dict], None]) -> None:
    m = json.loads((store / "manifest.json").read_text())
    fn(m)
    (store / "manifest.json").write_text(json.dumps(m, indent=2))


# ---- error cases: (name, fast, setup(fx) -> argv) ---------------------------------------------------


def _corrupt(rel: str, how: str = "flip"):
    def setup(fx: Fixture) -> list[str]:
        s = copy_store(fx, f"corrupt_{rel.replace('/', '_')}_{how}")
        p = s / rel
        if how == "flip":
            flip_byte(p)
        elif how == "empty":
            p.write_bytes(b"")
        elif how == "delete":
            p.unlink()
        return ["inspect", str(s)]

    return setup


def _manifest(fn, name):
    def setup(fx: Fixture) -> list[str]:
        s = copy_store(fx, f"manifest_{name}")
        edit_manifest(s, fn)
        return ["inspect", str(s)]

    return setup


def _force_onto_user_dir(fx: Fixture) -> list[str]:
    d = fx.root / "user_dir"
    d.mkdir(exist_ok=True)
    (d / "thesis.tex").write_text("precious")
    fx.extra["user_dir"] = d
    return ["build", str(fx.world), "--out", str(d), "--force", "--quiet"]


def _bad_file(name: str, content: bytes, suffix: str):
    def setup(fx: Fixture) -> list[str]:
        p = fx.root / f"{name}{suffix}"
        p.write_bytes(content)
        return [str(p)]

    return setup


def _with(prefix: list[str], setup):
    return lambda fx: [*[a.format(**vars(fx)) for a in prefix], *setup(fx)]


def _run_copy_with_config(text: bytes, cmd: str):
    def setup(fx: Fixture) -> list[str]:
        r = fx.root / f"run_badcfg_{cmd}"
        shutil.rmtree(r, ignore_errors=True)
        shutil.copytree(fx.run, r)
        (r / "config.json").write_bytes(text)
        return {
            "recommend": ["recommend", str(r), "--user", "u1"],
            "evaluate": ["evaluate", str(r)],
            "compare": ["compare", str(r), str(fx.run)],
            "train": ["train", str(fx.store), "--model", "bprmf", "--out", str(r), "--epochs", "2"],
        }[cmd]

    return setup


def _zero_byte_feature(fx: Fixture) -> list[str]:
    d = fx.root / "empty_feature"
    d.mkdir(exist_ok=True)
    (d / "f.npy").write_bytes(b"")
    (d / "f.csv").write_text("item_id,row\ni1,0\n")
    return [
        "build",
        str(fx.world),
        "--out",
        str(fx.root / "out_empty_feature"),
        "--feature",
        f"x={d / 'f.npy'}",
        "--quiet",
    ]


def _pipeline_config(fx: Fixture, body: str, name: str) -> Path:
    p = fx.root / f"{name}.toml"
    p.write_text(f'out = "{fx.root / ("pipe_" + name)}"\n[data]\nsource = "{fx.world}"\n' + body)
    return p


def _held_lock(kind: str):
    """A writer whose output's lock this campaign process holds: must be refused naming our pid."""

    def setup(fx: Fixture) -> list[str]:
        from ckgrec.schemas.locks import exclusive_lock, lock_path_for

        if kind == "build":
            lock, argv = lock_path_for(fx.store), ["build", str(fx.world), "--out", str(fx.store), "--force", "--quiet"]
        elif kind == "train":
            lock, argv = (
                fx.run / ".run.lock",
                ["train", str(fx.store), "--model", "bprmf", "--out", str(fx.run), "--force", "--epochs", "1"],
            )
        elif kind == "pretrain":
            lock = fx.store / "pretrained" / ".lock"
            argv = ["pretrain", str(fx.store), "--epochs", "1", "--dim", "4", "--relation-dim", "4", "--quiet"]
        else:
            cfg = _pipeline_config(fx, '[[models]]\nname = "mostpop"\n', "locked")
            lock, argv = fx.root / "pipe_locked" / ".pipeline.lock", ["run", str(cfg), "--until", "build", "--quiet"]
        cm = exclusive_lock(lock, "test")
        cm.__enter__()
        fx.extra.setdefault("held", []).append(cm)
        return argv

    return setup


ERROR_CASES: list[tuple[str, bool, Callable[[Fixture], list[str]]]] = [
    # 1. --force
    ("build --out SRC --force", True, lambda fx: ["build", str(fx.world), "--out", str(fx.world), "--force"]),
    ("build --out SRC/sub", True, lambda fx: ["build", str(fx.world), "--out", str(fx.world / "store"), "--quiet"]),
    ("build --force onto a user's directory", True, _force_onto_user_dir),
    (
        "build --force onto a file",
        False,
        lambda fx: (
            fx.root.joinpath("a_file").write_text("x"),
            ["build", str(fx.world), "--out", str(fx.root / "a_file"), "--force"],
        )[1],
    ),
    (
        "train --force onto a user's directory",
        False,
        lambda fx: (
            fx.root.joinpath("user_run").mkdir(exist_ok=True),
            fx.root.joinpath("user_run", "notes.txt").write_text("x"),
            [
                "train",
                str(fx.store),
                "--model",
                "bprmf",
                "--out",
                str(fx.root / "user_run"),
                "--force",
                "--epochs",
                "1",
            ],
        )[2],
    ),
    (
        "build --out below a file",
        False,
        lambda fx: (
            fx.root.joinpath("b_file").write_text("x"),
            ["build", str(fx.world), "--out", str(fx.root / "b_file" / "s")],
        )[1],
    ),
    (
        "train --out below a file",
        False,
        lambda fx: (
            fx.root.joinpath("t_file").write_text("x"),
            ["train", str(fx.store), "--model", "bprmf", "--out", str(fx.root / "t_file" / "r"), "--epochs", "1"],
        )[1],
    ),
    # 2. corrupted stores
    ("flipped byte in triples.parquet", True, _corrupt("triples.parquet")),
    ("flipped byte in a feature .npy", True, _corrupt("features/visual.npy")),
    ("flipped byte in entities.parquet", False, _corrupt("entities.parquet")),
    ("flipped byte in interactions.parquet", False, _corrupt("interactions.parquet")),
    ("0-byte feature .npy in a store", True, _corrupt("features/text.npy", "empty")),
    ("deleted users.parquet", False, _corrupt("users.parquet", "delete")),
    ("edited manifest counts", True, _manifest(lambda m: m["counts"].__setitem__("users", 41), "counts")),
    (
        "manifest lists a modality with no files",
        True,
        _manifest(lambda m: m.__setitem__("modalities", [*m["modalities"], "audio"]), "modality"),
    ),
    (
        "manifest not JSON",
        False,
        lambda fx: (
            copy_store(fx, "manifest_json").joinpath("manifest.json").write_text("{"),
            ["inspect", str(fx.root / "manifest_json")],
        )[1],
    ),
    ("validate-store on a corrupted store", True, lambda fx: ["validate-store", _corrupt("triples.parquet")(fx)[1]]),
    # 3. locks
    ("second build while one holds the lock", True, _held_lock("build")),
    ("second train while one holds the lock", False, _held_lock("train")),
    ("second pretrain while one holds the lock", False, _held_lock("pretrain")),
    ("second ckg run while one holds the lock", False, _held_lock("run")),
    # 5. recommend
    ("recommend -k 0", True, lambda fx: ["recommend", str(fx.run), "--user", "u1", "-k", "0"]),
    ("recommend -k -3", True, lambda fx: ["recommend", str(fx.run), "--user", "u1", "-k", "-3"]),
    ("recommend -k 100000", False, lambda fx: ["recommend", str(fx.run), "--user", "u1", "-k", "100000"]),
    ("recommend --paths -1", True, lambda fx: ["recommend", str(fx.run), "--user", "u1", "--paths", "-1"]),
    # 6. tracebacks
    ("0-byte feature .npy as --feature", True, _zero_byte_feature),
    ("corrupt run config.json: recommend", False, _run_copy_with_config(b"{not json", "recommend")),
    ("corrupt run config.json: train", False, _run_copy_with_config(b"{not json", "train")),
    ("corrupt run config.json: evaluate", False, _run_copy_with_config(b"{not json", "evaluate")),
    ("corrupt run config.json: compare", False, _run_copy_with_config(b"{not json", "compare")),
    (
        "non-UTF-8 build TOML",
        True,
        _with(
            ["build", "{world}", "--out", "{root}/o_toml", "--config"],
            _bad_file("latin1", "[build]\nseed = 1 # caf\xe9\n".encode("latin-1"), ".toml"),
        ),
    ),
    (
        "non-UTF-8 ckg run TOML",
        False,
        lambda fx: ["run", _bad_file("latin1_run", b'out = "x" # caf\xe9\n', ".toml")(fx)[0]],
    ),
    (
        "string where build --config expects a number",
        True,
        _with(
            ["build", "{world}", "--out", "{root}/o_str", "--config"],
            _bad_file("strnum", b'[build]\nseed = "abc"\n', ".toml"),
        ),
    ),
    (
        "string for concepts.clusters",
        False,
        _with(
            ["build", "{world}", "--out", "{root}/o_str2", "--config"],
            _bad_file("strnum2", b'[build.concepts]\nclusters = "many"\n', ".toml"),
        ),
    ),
    # 8. ranges
    (
        "train --epochs 0",
        True,
        lambda fx: ["train", str(fx.store), "--model", "bprmf", "--out", str(fx.root / "r_e0"), "--epochs", "0"],
    ),
    (
        "train --lr inf",
        True,
        lambda fx: ["train", str(fx.store), "--model", "bprmf", "--out", str(fx.root / "r_inf"), "--lr", "inf"],
    ),
    (
        "train --lr nan",
        False,
        lambda fx: ["train", str(fx.store), "--model", "bprmf", "--out", str(fx.root / "r_nan"), "--lr", "nan"],
    ),
    (
        "train --batch-size -1",
        False,
        lambda fx: ["train", str(fx.store), "--model", "bprmf", "--out", str(fx.root / "r_bs"), "--batch-size", "-1"],
    ),
    (
        "train [train] epochs = 0 in TOML",
        False,
        _with(
            ["train", "{store}", "--model", "bprmf", "--out", "{root}/r_toml0", "--config"],
            _bad_file("e0", b"[train]\nepochs = 0\n", ".toml"),
        ),
    ),
    (
        'train [train] batch_size = "x" in TOML',
        False,
        _with(
            ["train", "{store}", "--model", "bprmf", "--out", "{root}/r_tomlstr", "--config"],
            _bad_file("bsx", b'[train]\nbatch_size = "x"\n', ".toml"),
        ),
    ),
    (
        "train --set init_std=inf",
        False,
        lambda fx: [
            "train",
            str(fx.store),
            "--model",
            "lightgcn",
            "--out",
            str(fx.root / "r_setinf"),
            "--set",
            "init_std=inf",
        ],
    ),
    ("pretrain --epochs 0", False, lambda fx: ["pretrain", str(fx.store), "--epochs", "0"]),
    ("pretrain --lr inf", False, lambda fx: ["pretrain", str(fx.store), "--lr", "inf"]),
    ("build --seed -1", False, lambda fx: ["build", str(fx.world), "--out", str(fx.root / "o_seed"), "--seed", "-1"]),
    (
        "ckg run seeds = []",
        True,
        lambda fx: ["run", str(_pipeline_config(fx, '[[models]]\nname = "mostpop"\nseeds = []\n', "noseeds"))],
    ),
]


def disk_full_cases(fx: Fixture) -> list[Result]:
    """Disk full (RLIMIT_FSIZE) while replacing a store and while writing a run: one line, old output intact."""
    out: list[Result] = []
    s = copy_store(fx, "full_store")
    before = json.loads((s / "manifest.json").read_text())["fingerprint"]
    p = ckg("build", str(fx.world), "--out", str(s), "--force", "--seed", "5", "--quiet", cwd=fx.root, fsize=2048)
    outcome, detail = classify_error(p)
    intact = store_ok(s) and json.loads((s / "manifest.json").read_text())["fingerprint"] == before
    debris = list(s.parent.glob(f".{s.name}.building.*"))
    if outcome == "clear_error" and (not intact or debris):
        outcome, detail = "failed", f"store intact={intact}, debris={len(debris)}"
    out.append(Result("disk full during build --force", "error", outcome, detail))
    out.append(disk_full_during_training(fx))
    return out


_STOP_AFTER_ONE_EPOCH = """
import sys
from ckgrec.model.data.train_data import TrainData
from ckgrec.model.training.config import TrainConfig
from ckgrec.model.training.trainer import train
from ckgrec.schemas.store import Store
data = TrainData.from_store(Store.open(sys.argv[1]))
train(data, "bprmf", sys.argv[2], train_config=TrainConfig(epochs=2), stop_after=1)
"""


def disk_full_during_training(fx: Fixture) -> Result:
    """A run interrupted after epoch 1 is resumed with no room for its next checkpoint: one line, the
    checkpoint of epoch 1 unchanged, no temporary file; resumed again with room, it ends with the
    scores of an uninterrupted run."""
    ref = fx.run  # the fixture's uninterrupted run: bprmf, 2 epochs, default options
    r = fx.root / "full_run"
    shutil.rmtree(r, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    p = subprocess.run(
        [sys.executable, "-c", _STOP_AFTER_ONE_EPOCH, str(fx.store), str(r)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if p.returncode or not (r / "checkpoint.pt").is_file():
        return Result(
            "disk full during train", "error", "failed", "could not prepare an interrupted run: " + p.stderr[-200:]
        )
    before = (r / "checkpoint.pt").read_bytes()
    argv = ["train", str(fx.store), "--model", "bprmf", "--out", str(r), "--epochs", "2", "--quiet"]
    p = ckg(*argv, cwd=fx.root, fsize=4096)
    outcome, detail = classify_error(p)
    if outcome != "clear_error":
        return Result("disk full during train", "error", outcome, detail)
    tmp = list(r.glob(".*.tmp"))
    if (r / "checkpoint.pt").read_bytes() != before or tmp:
        return Result(
            "disk full during train", "error", "failed", f"checkpoint changed or {len(tmp)} .tmp left: {detail}"
        )
    p = ckg(*argv, cwd=fx.root)
    a, b = (
        json.loads((ref / "scores.json").read_text()),
        json.loads((r / "scores.json").read_text()) if p.returncode == 0 else {},
    )
    if p.returncode or a.get("test") != b.get("test") or list(r.glob(".*.tmp")):
        return Result(
            "disk full during train",
            "error",
            "silent_wrong" if p.returncode == 0 else "failed",
            "after disk full, the resumed run differs from an uninterrupted one " + p.stderr[-200:],
        )
    return Result("disk full during train", "error", "clear_error", detail)


def run_error_cases(fx: Fixture, quick: bool) -> list[Result]:
    results = []
    for name, fast, setup in ERROR_CASES:
        if quick and not fast:
            continue
        argv = setup(fx)
        try:
            p = ckg(*argv, cwd=fx.root)
        finally:
            for cm in fx.extra.pop("held", []):
                cm.__exit__(None, None, None)
        outcome, detail = classify_error(p)
        if name.startswith("second ") and outcome == "clear_error" and f"pid {os.getpid()}" not in detail:
            outcome, detail = "failed", "refusal does not name the holder's pid: " + detail
        if name == "build --force onto a user's directory" and not (fx.extra["user_dir"] / "thesis.tex").exists():
            outcome, detail = "silent_wrong", "the user's file was deleted"
        results.append(Result(name, "error", outcome, detail))
    results += disk_full_cases(fx)
    if not quick:
        p = ckg("validate-store", str(fx.store), cwd=fx.root)
        results.append(
            Result(
                "validate-store on a sound store", "ok", "ok" if p.returncode == 0 else "failed", p.stdout.strip()[:200]
            )
        )
        p = ckg("recommend", str(fx.run), "--user", "u1", "-k", "3", "--json", cwd=fx.root)
        try:
            json.loads(p.stdout, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
            results.append(Result("recommend --json is strict JSON", "ok", "ok" if p.returncode == 0 else "failed"))
        except ValueError as e:
            results.append(Result("recommend --json is strict JSON", "ok", "silent_wrong", str(e)[:200]))
    return results


# ---- kill / resume trials ------------------------------------------------------------------------


def _start(argv: list[str], cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [*CKG, *argv], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def _duration(fx: Fixture, kind: str, argv: list[str]) -> float:
    """Seconds an uninterrupted run of this writer takes (measured once per campaign), so that kills
    are drawn over its whole life rather than after it already finished."""
    key = f"duration:{kind}"
    if key not in fx.extra:
        t = time.perf_counter()
        ckg(*argv, cwd=fx.root)
        fx.extra[key] = time.perf_counter() - t
    return fx.extra[key]


def _kill_point(fx: Fixture, rng: random.Random, kind: str, argv: list[str], prepare: Callable[[], None]) -> float:
    d = _duration(fx, kind, argv)
    prepare()  # the timing run wrote the output: put the starting state back
    return rng.uniform(0.05, 0.95) * d


def _kill_after(p: subprocess.Popen, delay: float) -> bool:
    """SIGKILL after ``delay`` seconds; False when it had already finished."""
    try:
        p.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGKILL)
        p.wait()
        return True


def kill_build(fx: Fixture, rng: random.Random, i: int) -> Result:
    s = copy_store(fx, f"kill_build_{i}")
    old = json.loads((s / "manifest.json").read_text())["fingerprint"]
    argv = ["build", str(fx.world), "--out", str(s), "--force", "--seed", "9", "--quiet"]
    delay = _kill_point(fx, rng, "build", argv, lambda: copy_store(fx, f"kill_build_{i}"))
    killed = _kill_after(_start(argv, fx.root), delay)
    # right after the kill the store must be the old one or the complete new one
    if s.exists() and not store_ok(s):
        return Result(f"kill build #{i}", "kill", "silent_wrong", "a killed build left a store that does not verify")
    p = ckg(*argv, cwd=fx.root)
    debris = list(s.parent.glob(f".{s.name}.building.*")) + list(s.parent.glob(f".{s.name}.old.*"))
    new = json.loads((s / "manifest.json").read_text())["fingerprint"] if s.exists() else None
    if p.returncode or not store_ok(s) or debris or new == old:
        return Result(
            f"kill build #{i}", "kill", "failed", f"rerun rc={p.returncode} debris={len(debris)} {p.stderr[-200:]}"
        )
    return Result(f"kill build #{i}", "kill", "ok", "killed, rerun finished" if killed else "finished before the kill")


def kill_commit(fx: Fixture, i: int) -> Result:
    """A kill between the two renames of a commit without atomic exchange: the rerun restores the old store."""
    s = copy_store(fx, f"kill_commit_{i}")
    backup = s.with_name(f".{s.name}.old.999999")
    os.replace(s, backup)  # what the first rename leaves; the second never happened
    p = ckg("inspect", str(s), cwd=fx.root)
    hinted = "previous store" in p.stderr
    p = ckg(
        "build", str(fx.world), "--out", str(s), "--quiet", cwd=fx.root
    )  # no --force: the restored store must survive
    restored = store_ok(s) and not backup.exists()
    ok = hinted and restored and p.returncode != 0 and "already exists" in p.stderr
    return Result(
        f"kill between commit renames #{i}",
        "kill",
        "ok" if ok else "failed",
        f"hint={hinted} restored={restored} rc={p.returncode}",
    )


def kill_train(fx: Fixture, rng: random.Random, i: int, reference: dict) -> Result:
    r = fx.root / f"kill_train_{i}"
    shutil.rmtree(r, ignore_errors=True)
    argv = ["train", str(fx.store), "--model", "bprmf", "--out", str(r), "--epochs", "6", "--patience", "0", "--quiet"]
    delay = _kill_point(fx, rng, "train", argv, lambda: shutil.rmtree(r, ignore_errors=True))
    killed = _kill_after(_start(argv, fx.root), delay)
    p = ckg(*argv, cwd=fx.root)
    if p.returncode:
        return Result(f"kill train #{i}", "kill", "failed", p.stderr[-200:])
    scores = json.loads((r / "scores.json").read_text())
    tmp = list(r.glob(".*.tmp"))
    same = scores["test"] == reference["test"] and scores["valid"] == reference["valid"]
    if not same:
        return Result(
            f"kill train #{i}", "kill", "silent_wrong", "resumed run's scores differ from the uninterrupted run's"
        )
    if tmp:
        return Result(f"kill train #{i}", "kill", "failed", f"{len(tmp)} .tmp left in the finished run")
    return Result(
        f"kill train #{i}", "kill", "ok", "killed, resumed bit-identical" if killed else "finished before the kill"
    )


def kill_pretrain(fx: Fixture, rng: random.Random, i: int) -> Result:
    s = copy_store(fx, f"kill_pretrain_{i}")
    argv = ["pretrain", str(s), "--epochs", "3", "--dim", "8", "--relation-dim", "8", "--quiet"]
    delay = _kill_point(fx, rng, "pretrain", argv, lambda: shutil.rmtree(s / "pretrained", ignore_errors=True))
    killed = _kill_after(_start(argv, fx.root), delay)
    p = ckg(*argv, cwd=fx.root)
    tmp = list((s / "pretrained").glob(".*.tmp"))
    ok = (
        p.returncode == 0
        and not tmp
        and store_ok(s)
        and all((s / "pretrained" / f"{g}.safetensors").is_file() for g in ("user_side", "item_side"))
    )
    return Result(
        f"kill pretrain #{i}",
        "kill",
        "ok" if ok else "failed",
        ("killed, rerun finished" if killed else "finished before the kill") if ok else p.stderr[-200:],
    )


def kill_run(fx: Fixture, rng: random.Random, i: int) -> Result:
    cfg = _pipeline_config(
        fx, '[[models]]\nname = "bprmf"\nseeds = [1]\n[train]\nepochs = 3\n[report]\n', f"kill_run_{i}"
    )
    argv = ["run", str(cfg), "--until", "train", "--quiet"]
    out = fx.root / f"pipe_kill_run_{i}"
    delay = _kill_point(fx, rng, "run", argv, lambda: shutil.rmtree(out, ignore_errors=True))
    killed = _kill_after(_start(argv, fx.root), delay)
    p = ckg(*argv, cwd=fx.root)
    debris = [q for q in out.rglob("*") if q.name.endswith(".tmp") or ".building." in q.name]
    ok = p.returncode == 0 and not debris and store_ok(out / "store")
    return Result(
        f"kill ckg run #{i}",
        "kill",
        "ok" if ok else "failed",
        ("killed, rerun finished" if killed else "finished before the kill")
        if ok
        else (p.stderr[-300:] + f" debris={debris[:3]}"),
    )


def run_kill_trials(fx: Fixture, n: int, seed: int = 0) -> list[Result]:
    rng = random.Random(seed)
    ref_dir = fx.root / "train_reference"
    p = ckg(
        "train",
        str(fx.store),
        "--model",
        "bprmf",
        "--out",
        str(ref_dir),
        "--epochs",
        "6",
        "--patience",
        "0",
        "--quiet",
        cwd=fx.root,
    )
    if p.returncode:
        raise RuntimeError(p.stderr)
    reference = json.loads((ref_dir / "scores.json").read_text())
    results = []
    for i in range(n):
        results.append(kill_build(fx, rng, i))
        results.append(kill_train(fx, rng, i, reference))
        results.append(kill_commit(fx, i))
        if i % 2 == 0:
            results.append(kill_pretrain(fx, rng, i))
            results.append(kill_run(fx, rng, i))
    return results


# ---- report ----------------------------------------------------------------------------------------


def summarise(results: list[Result]) -> dict[str, int]:
    errors = [r for r in results if r.kind in ("error", "ok")]
    kills = [r for r in results if r.kind == "kill"]
    return {
        "cases tried": len(errors),
        "clear errors": sum(r.outcome == "clear_error" for r in errors),
        "expected successes": sum(r.outcome == "ok" for r in errors),
        "tracebacks": sum(r.outcome == "traceback" for r in results),
        "silent wrong results": sum(r.outcome == "silent_wrong" for r in results),
        "unclear or failed": sum(r.outcome in ("unclear", "failed") for r in results),
        "kill/resume trials": len(kills),
        "kill/resume ok": sum(r.outcome == "ok" for r in kills),
        "kills that hit a running writer": sum(
            r.detail.startswith("killed") or r.case.startswith("kill between") for r in kills
        ),
    }


def kill_breakdown(results: list[Result]) -> list[str]:
    kinds: dict[str, list[Result]] = {}
    for r in results:
        if r.kind == "kill":
            kinds.setdefault(r.case.rsplit(" #", 1)[0], []).append(r)
    rows = ["| trial | tried | killed mid-run | ok |", "|---|---|---|---|"]
    for k, rs in kinds.items():
        rows.append(
            f"| {k} | {len(rs)} | {sum(r.detail.startswith('killed') or r.case.startswith('kill between') for r in rs)} | "
            f"{sum(r.outcome == 'ok' for r in rs)} |"
        )
    return rows


def table(results: list[Result]) -> str:
    s = summarise(results)
    lines = [
        "| figure | count |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in s.items()],
        "",
        *kill_breakdown(results),
        "",
        "| case | outcome | detail |",
        "|---|---|---|",
    ]
    lines += [f"| {r.case} | {r.outcome} | {r.detail.replace('|', '/')[:160]} |" for r in results]
    return "\n".join(lines) + "\n"


def measure_open(store: Path, repeat: int = 5) -> dict[str, float]:
    """Milliseconds per Store.open: full check (size + SHA-256) cold, the same again in one process
    (unchanged files are not re-hashed), and sizes only (``verify=False``)."""
    from ckgrec.schemas import store as st

    total = sum((store / rel).stat().st_size for rel in json.loads((store / "manifest.json").read_text())["files"])
    out = {"store_mib": total / 2**20}
    for label, verify, clear in (("cold_ms", True, True), ("warm_ms", True, False), ("sizes_only_ms", False, False)):
        times = []
        for _ in range(repeat):
            if clear:
                st._verified.clear()
            t = time.perf_counter()
            st.Store.open(store, verify=verify)
            times.append((time.perf_counter() - t) * 1000)
        out[label] = min(times)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default=None, help="scratch directory (default: a temporary one)")
    ap.add_argument("--kills", type=int, default=4, help="rounds of kill/resume trials (default 4)")
    ap.add_argument("--quick", action="store_true", help="the reduced set CI runs")
    ap.add_argument("--no-write", action="store_true", help="print only; do not update benchmarks/results/")
    ap.add_argument(
        "--measure-open", metavar="STORE", help="only time Store.open on STORE (verified vs sizes only) and exit"
    )
    a = ap.parse_args(argv)
    if a.measure_open:
        sys.path.insert(0, str(ROOT))
        print(json.dumps({k: round(v, 2) for k, v in measure_open(Path(a.measure_open)).items()}))
        return 0
    import tempfile

    work = Path(a.work) if a.work else Path(tempfile.mkdtemp(prefix="ckg_faults_"))
    t0 = time.perf_counter()
    fx = make_fixture(work)
    results = run_error_cases(fx, a.quick)
    results += run_kill_trials(fx, 0 if a.quick else a.kills)
    text = (
        table(results)
        + f"\n{time.perf_counter() - t0:.0f} s, `python benchmarks/fault_campaign.py --kills {a.kills}`\n"
    )
    print(text)
    if not a.no_write:
        sys.path.insert(0, str(ROOT))
        from benchmarks.results import update_section

        command = f"python benchmarks/fault_campaign.py --kills {a.kills}" + (" --quick" if a.quick else "")
        update_section("fault-campaign", "Fault campaign: bad input, corruption, concurrency, kills", command, text)
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)
    s = summarise(results)
    return 0 if s["tracebacks"] == s["silent wrong results"] == s["unclear or failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
