"""MMGCN-style dumps (user_item_dict*.npy + v/a/t feature files) -> RawDataset."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ckgrec.kgbuild.adapters import mmgcn
from ckgrec.schemas.errors import InputValidationError

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "datasets"
REPO = Path(__file__).resolve().parents[3]

VISUAL = np.arange(8, dtype=np.float32).reshape(4, 2) / 4
ACOUSTIC = np.linspace(-1, 1, 12).reshape(4, 3)
WORDS = np.array([[0, 0, 2, 0, 3, 2], [7, 5, 7, 7, 1, 9]], dtype=np.int64)  # (item, word) pairs, a repeat included


def write(root: Path, user_items=None, **arrays) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if user_items is None:
        user_items = {0: [np.int64(1), np.int64(2)], 1: [], 2: [np.int64(0)], 3: [2, 3]}
    np.save(root / "user_item_dict_sample.npy", np.array(user_items, dtype=object), allow_pickle=True)
    for name, array in (
        arrays or {"v_feat_sample.npy": VISUAL, "a_feat_sample.npy": ACOUSTIC, "t_feat_sample.npy": WORDS}
    ).items():
        np.save(root / name, array)
    return root


def test_reads_interactions_items_features_and_words(tmp_path):
    root = write(tmp_path / "mm")
    assert mmgcn.detect(root)
    ds = mmgcn.read(root)
    assert ds.name == "mm"
    pd.testing.assert_frame_equal(
        ds.interactions,
        pd.DataFrame(
            {"user_id": ["0", "0", "2", "3", "3"], "item_id": ["1", "2", "0", "2", "3"], "behavior": "interact"}
        ),
    )
    assert "rating" not in ds.interactions and "timestamp" not in ds.interactions
    pd.testing.assert_frame_equal(
        ds.items, pd.DataFrame({"item_id": ["0", "1", "2", "3"], "text_word": ["7|5", "", "7|9", "1"]})
    )
    assert ds.multi_valued == {"text_word": "|"}
    assert list(ds.features) == ["visual", "acoustic"]
    for name, want in (("visual", VISUAL), ("acoustic", ACOUSTIC)):
        assert ds.features[name].item_ids.tolist() == ["0", "1", "2", "3"]
        np.testing.assert_array_equal(ds.features[name].matrix, want)
        assert ds.features[name].matrix.dtype == want.dtype
    assert ds.sources == {
        "interactions": str(root / "user_item_dict_sample.npy"),
        "items": str(root / "t_feat_sample.npy"),
    }


def test_dense_text_matrix_is_a_modality(tmp_path):
    text = np.ones((4, 5))
    ds = mmgcn.read(write(tmp_path / "mm", **{"t_feat.npy": text}))
    assert list(ds.features) == ["text"] and ds.features["text"].matrix.shape == (4, 5)
    assert list(ds.items.columns) == ["item_id"] and ds.multi_valued == {}


def test_only_interacted_items(tmp_path):
    root = write(tmp_path / "mm", {0: [3, 1]}, **{"v_feat.npy": VISUAL})
    ds = mmgcn.read(root, only_interacted_items=True)
    assert ds.items["item_id"].tolist() == ["1", "3"]
    np.testing.assert_array_equal(ds.features["visual"].matrix, VISUAL[[1, 3]])


def test_without_features_items_come_from_interactions(tmp_path):
    ds = mmgcn.read(write(tmp_path / "mm", **{"unrelated.npy": np.zeros(1)}))
    assert ds.items is None and ds.features == {} and len(ds.interactions) == 5


def test_passes_validation_with_cold_items(tmp_path):
    from ckgrec.kgbuild.validate import validate

    tables = validate(mmgcn.read(write(tmp_path / "mm", {0: [1]})))  # items 0, 2, 3 have features, no interaction
    assert tables.features["visual"].matrix.shape == (4, 2)


def test_pt_features_are_read_without_torch_in_the_adapter(tmp_path):
    torch = pytest.importorskip("torch")
    root = write(tmp_path / "mm", **{"a_feat.npy": ACOUSTIC})
    torch.save(torch.from_numpy(VISUAL.copy()).t().contiguous().t(), root / "v_feat.pt")  # column-major, strided
    torch.save(torch.from_numpy(WORDS.T.copy()).t(), root / "t_feat.pt", _use_new_zipfile_serialization=False)
    ds = mmgcn.read(root)
    np.testing.assert_array_equal(ds.features["visual"].matrix, VISUAL)
    assert ds.items["text_word"].tolist() == ["7|5", "", "7|9", "1"]


def test_item_beyond_feature_rows_is_an_error(tmp_path):
    root = write(tmp_path / "mm", {0: [1], 5: [7]}, **{"v_feat.npy": VISUAL})
    with pytest.raises(InputValidationError) as e:
        mmgcn.read(root)
    (p,) = e.value.problems
    assert p.file == str(root / "user_item_dict_sample.npy") and "0..3" in p.rule and "user 5, item 7" in p.detail


def test_feature_files_must_agree_on_rows(tmp_path):
    root = write(tmp_path / "mm", **{"v_feat.npy": VISUAL, "a_feat.npy": ACOUSTIC[:3]})
    with pytest.raises(InputValidationError, match="disagree"):
        mmgcn.read(root)


@pytest.mark.parametrize(
    "user_items, row, column",
    [
        ({0: [1], "x": [2]}, 2, "user"),
        ({0: [1], 1: [2, -1]}, 2, "items"),
        ({0: [1.5]}, 1, "items"),
    ],
)
def test_bad_dict_entries_are_located(tmp_path, user_items, row, column):
    root = write(tmp_path / "mm", user_items, **{"v_feat.npy": VISUAL})
    with pytest.raises(InputValidationError) as e:
        mmgcn.read(root)
    assert [(p.row, p.column) for p in e.value.problems] == [(row, column)]


def test_non_dict_and_non_float_features_are_errors(tmp_path):
    root = tmp_path / "mm"
    write(root, **{"v_feat.npy": VISUAL})
    np.save(root / "user_item_dict_sample.npy", np.array([[0, 1]]))
    with pytest.raises(InputValidationError, match="pickled dict"):
        mmgcn.read(root)
    root2 = write(tmp_path / "mm2", **{"v_feat.npy": np.ones((4, 2), dtype=np.int64)})
    with pytest.raises(InputValidationError, match="float matrix"):
        mmgcn.read(root2)


def test_detect(tmp_path):
    root = write(tmp_path / "mm")
    assert mmgcn.detect(root)
    (root / "user_item_dict_sample.npy").unlink()
    assert not mmgcn.detect(root)


def shared(name: str) -> Path:
    p = SHARED / name
    if not any(p.glob("user_item_dict*.npy")):
        pytest.skip(f"shared dataset not present at {p}")
    return p


def test_real_tiktok_sample():
    ds = mmgcn.read(shared("tiktok-sample"))
    assert len(ds.interactions) == 1929 and ds.interactions["user_id"].nunique() == 100
    assert ds.interactions["item_id"].nunique() == 1562 and not ds.interactions.duplicated().any()
    assert len(ds.items) == 1651  # 89 items have features but no interaction in the sample
    assert {k: v.matrix.shape for k, v in ds.features.items()} == {"visual": (1651, 128), "acoustic": (1651, 128)}
    words = ds.items["text_word"].str.split("|")
    assert (words.str.len() >= 1).all() and words.explode().nunique() == 3746


def test_real_tiktok_features_match_torch_load():
    torch = pytest.importorskip("torch")
    root = shared("tiktok-sample")
    ds = mmgcn.read(root)
    np.testing.assert_array_equal(
        ds.features["visual"].matrix, torch.load(root / "v_feat_sample.pt", weights_only=False).numpy()
    )


def test_real_movielens_mmgcn_sample():
    ds = mmgcn.read(shared("movielens-mmgcn-sample"))
    assert len(ds.interactions) == 2071 and ds.interactions["user_id"].nunique() == 100
    assert ds.interactions["item_id"].nunique() == 993 and len(ds.items) == 1141
    assert {k: v.matrix.shape for k, v in ds.features.items()} == {"acoustic": (1141, 128), "text": (1141, 100)}
    assert list(ds.items.columns) == ["item_id"]


def test_reading_real_pt_files_does_not_import_torch():
    root = SHARED / "tiktok-sample"
    if not root.is_dir():
        pytest.skip("shared dataset tiktok-sample not present")
    code = (
        "import sys\nfrom kgbuild.adapters import mmgcn, movielens, recbole, kgat\n"
        f"ds = mmgcn.read({str(root)!r})\nassert 'torch' not in sys.modules, 'torch imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": ""})


class Evil:
    def __reduce__(self):
        return (print, ("ran code from a data file",))


def test_pickled_dict_may_not_run_code(tmp_path, capsys):
    root = write(tmp_path / "mm", {0: [Evil()]}, **{"v_feat.npy": VISUAL})
    with pytest.raises(InputValidationError, match="not allowed"):
        mmgcn.read(root)
    assert "ran code" not in capsys.readouterr().out


def test_defaultdict_of_numpy_ints_is_accepted(tmp_path):
    from collections import defaultdict

    d = defaultdict(list)
    d[np.int64(1)].extend([np.int32(2), 0])
    ds = mmgcn.read(write(tmp_path / "mm", d, **{"v_feat.npy": VISUAL}))
    assert ds.interactions[["user_id", "item_id"]].values.tolist() == [["1", "2"], ["1", "0"]]
