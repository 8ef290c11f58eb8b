"""Build stage: raw files -> ``OUT/store`` (or check a store named by ``[data] store``).

The store is the root of every later stage, so a store at ``OUT/store`` that this pipeline did
not write -- or one replaced since (``ckg build --force`` with other settings) -- is never
silently overwritten or used: the stage stops and names both fingerprints. Its inputs are the
source files' content, the format, extra feature files and the ``[build]`` table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ckgrec.kgbuild.config import manifest_config
from ckgrec.pipeline.fingerprints import digest, tree_digest
from ckgrec.pipeline.runner import Context, Step
from ckgrec.pipeline.state import STATE_FILE
from ckgrec.schemas.errors import StoreError, StoreMismatchError

NAME = "build"


def content_digest(store) -> str:
    """Hash of every file of the store (the manifest lists their sha256): changes with the split, not only with the ids."""
    return digest(store.manifest.get("files", {}))


def _store_summary(store) -> dict:
    return {"path": str(store.path), "fingerprint": store.fingerprint, "content": content_digest(store)}


def _open_or_none(path: Path):
    from ckgrec.schemas.store import Store

    try:
        return Store.open(path)
    except StoreError:
        return None


def _existing_store_step(ctx: Context) -> Step:
    from ckgrec.schemas.store import Store

    path = ctx.cfg.store_path
    store = Store.open(path)  # a clear error when it is missing or unfinished

    def run(_resume: bool) -> dict:
        ctx.store_changed()
        return _store_summary(ctx.store())

    return Step(
        name=NAME,
        stage=NAME,
        title=f"store {path} (given by [data] store)",
        inputs={"store": str(path), "fingerprint": store.fingerprint, "content": content_digest(store)},
        run=run,
        intact=lambda o: o.get("content") == content_digest(store),
    )


def _guard_foreign_store(ctx: Context, store_dir: Path) -> None:
    """Refuse a store at OUT/store that this pipeline did not build, or that was replaced since."""
    if ctx.force or not store_dir.exists():
        return
    rec = ctx.state.get(NAME)
    if rec is None:
        raise StoreError(
            f"{store_dir} exists but {ctx.state.out / STATE_FILE} has no record of building it, so it may be someone else's store; "
            f'remove it, choose another out, pass --force to rebuild it, or use it as it is with [data] store = "{store_dir}"'
        )
    if rec.status != "done":
        return  # our own build was interrupted after the rename: rebuilding it is safe
    found = _open_or_none(store_dir)
    want = rec.outputs.get("fingerprint")
    if found is not None and (found.fingerprint != want or content_digest(found) != rec.outputs.get("content")):
        what = (
            f"fingerprint {found.fingerprint}, but this pipeline built {want} there"
            if found.fingerprint != want
            else f"the same ids (fingerprint {want}) but other content than this pipeline built there (e.g. another split seed)"
        )
        raise StoreMismatchError(
            f"{store_dir} holds a store with {what}: it was replaced by another build (e.g. 'ckg build --force' with other "
            f"settings), and the runs in {ctx.cfg.out / 'runs'} were trained on the old one. Pass --force to rebuild it and "
            f'retrain, or use the new store with [data] store = "{store_dir}" and another out'
        )


def steps(ctx: Context) -> Iterator[Step]:
    cfg = ctx.cfg
    if cfg.data.store is not None:
        yield _existing_store_step(ctx)
        return
    store_dir = cfg.out / "store"
    _guard_foreign_store(ctx, store_dir)
    data = cfg.data
    inputs = {
        "source": tree_digest(data.source),
        "format": data.format,
        "features": {n: tree_digest(p) for n, p in sorted(data.features.items())},
        "build": manifest_config(cfg.build),  # as the manifest: train_fraction only when set
    }

    def run(_resume: bool) -> dict:
        from ckgrec.kgbuild.build import build
        from ckgrec.kgbuild.summary import format_summary

        cfg.out.mkdir(
            parents=True, exist_ok=True
        )  # debris of a killed build is removed by build() under the store's lock
        report = build(
            data.source,
            store_dir,
            fmt=data.format,
            config=cfg.build,
            extra_features=dict(data.features) or None,
            force=True,
            verbose=ctx.progress,
        )
        ctx.store_changed()
        ctx.log(format_summary(report.store))
        return {**_store_summary(ctx.store()), "seconds": report.seconds}

    def intact(outputs: dict) -> bool:
        found = _open_or_none(store_dir)
        return found is not None and content_digest(found) == outputs.get("content")

    yield Step(
        name=NAME, stage=NAME, title=f"build {data.source} -> {store_dir}", inputs=inputs, run=run, intact=intact
    )
