"""kgbuild.torch_free_pt reads torch.save files like torch.load does, without torch."""

from __future__ import annotations

import collections
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ckgrec.kgbuild import torch_free_pt
from ckgrec.schemas.errors import InputValidationError

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "datasets"
REPO = Path(__file__).resolve().parents[3]

torch = pytest.importorskip("torch")

LAYOUTS = {"zip": True, "legacy": False}


def save(obj, path: Path, layout: str) -> Path:
    torch.save(obj, path, _use_new_zipfile_serialization=LAYOUTS[layout])
    return path


def as_numpy(t):
    return t.float().numpy() if t.dtype == torch.bfloat16 else t.numpy()


def views():
    base = torch.arange(24, dtype=torch.float64).reshape(4, 6) / 7
    return {
        "contiguous": base,
        "transposed": base.t(),
        "sliced_with_offset": base[1:, ::2],
        "column": base[:, 3],
        "scalar": base[2, 2],
        "empty": base[:0],
        "three_d": base.reshape(2, 3, 4).permute(2, 0, 1),
    }


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(
    "dtype",
    [
        torch.float32,
        torch.float64,
        torch.float16,
        torch.bfloat16,
        torch.int64,
        torch.int32,
        torch.int16,
        torch.int8,
        torch.uint8,
        torch.bool,
    ],
)
def test_dtypes(tmp_path, layout, dtype):
    t = (torch.arange(12).reshape(3, 4) - 4).to(dtype)
    got = torch_free_pt.load_array(save(t, tmp_path / "t.pt", layout))
    want = as_numpy(t)
    assert got.dtype == want.dtype and got.shape == (3, 4)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("view", list(views()))
def test_strided_views(tmp_path, layout, view):
    t = views()[view]
    got = torch_free_pt.load_array(save(t, tmp_path / "t.pt", layout))
    assert got.shape == tuple(t.shape) and got.flags.c_contiguous
    np.testing.assert_array_equal(got, t.numpy())


@pytest.mark.parametrize("layout", LAYOUTS)
def test_containers_and_shared_storage(tmp_path, layout):
    base = torch.randn(5, 3, generator=torch.Generator().manual_seed(0))
    obj = collections.OrderedDict(
        w=base, wt=base.t(), rows=[base[0], base[4]], meta=("v", 2), p=torch.nn.Parameter(base[:2])
    )
    got = torch_free_pt.load(save(obj, tmp_path / "t.pt", layout))
    assert isinstance(got, collections.OrderedDict) and list(got) == ["w", "wt", "rows", "meta", "p"]
    np.testing.assert_array_equal(got["w"], base.numpy())
    np.testing.assert_array_equal(got["wt"], base.t().numpy())
    np.testing.assert_array_equal(got["rows"][1], base[4].numpy())
    assert got["meta"] == ("v", 2)
    np.testing.assert_array_equal(got["p"], base[:2].detach().numpy())


class Custom:
    pass


@pytest.mark.parametrize(
    "obj", [Custom(), np.zeros(3), torch.zeros(3, 3).to_sparse()], ids=["object", "numpy", "sparse"]
)
def test_other_content_is_refused_without_running_it(tmp_path, obj):
    p = save(obj, tmp_path / "t.pt", "zip")
    with pytest.raises(InputValidationError) as e:
        torch_free_pt.load(p)
    assert e.value.problems[0].file == str(p) and "unsupported" in e.value.problems[0].rule


def test_load_array_wants_one_tensor(tmp_path):
    p = save({"a": torch.zeros(2)}, tmp_path / "t.pt", "zip")
    with pytest.raises(InputValidationError, match="one tensor"):
        torch_free_pt.load_array(p)


def test_not_a_torch_file(tmp_path):
    plain = tmp_path / "plain.pt"
    plain.write_bytes(pickle.dumps([1, 2, 3], protocol=2))
    text = tmp_path / "text.pt"
    text.write_text("hello")
    for p in (plain, text):
        with pytest.raises(InputValidationError) as e:
            torch_free_pt.load(p)
        assert e.value.problems[0].file == str(p)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_truncated_file(tmp_path, layout):
    p = save(torch.arange(1000, dtype=torch.float64), tmp_path / "t.pt", layout)
    p.write_bytes(p.read_bytes()[:-200])
    with pytest.raises(InputValidationError) as e:
        torch_free_pt.load(p)
    assert e.value.problems[0].file == str(p)


def test_module_does_not_import_torch():
    code = "import sys, kgbuild.torch_free_pt; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": ""})


def test_real_tiktok_sample_matches_torch_load():
    files = sorted((SHARED / "tiktok-sample").glob("*.pt"))
    if not files:
        pytest.skip("shared dataset tiktok-sample not present")
    shapes = {}
    for p in files:
        want = torch.load(p, weights_only=False).numpy()
        got = torch_free_pt.load_array(p)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
        shapes[p.name] = (got.dtype.name, got.shape)
    assert shapes == {
        "a_feat_sample.pt": ("float64", (1651, 128)),
        "t_feat_sample.pt": ("int64", (2, 12950)),  # (item, word id) pairs, stored transposed
        "v_feat_sample.pt": ("float64", (1651, 128)),
    }
