"""Your model, loading: every problem with the user's file is one line naming the file, the function and what
is wrong; the shipped examples and the README's contract load; the command line's check loads only when told."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from explorer.lab.core.protocol import describe_failure, run_sync
from explorer.lab.your_model import loader, params
from explorer.lab.your_model.experiment import YourModelConfig, run
from explorer.lab.your_model.loader import UserModelError

ROOT = Path(__file__).resolve().parents[3]
HEAD = "import torch\nfrom torch import nn\n"
MODEL = "def model():\n    return nn.Linear(3, 2)\n"
DATA = (
    "def data():\n    x = torch.randn(32, 3, generator=torch.Generator().manual_seed(0))\n"
    "    return x, (x[:, 0] > 0).long()\n"
)

#: name -> (file text, or None for no file; the line the loader must give, as a regex)
BAD = {
    "missing": (None, r"^.*missing\.py: no such file$"),
    "syntax": (HEAD + "def model(:\n    pass\n", r"^syntax\.py: line 3: syntax error: "),
    "import_raises": (HEAD + "raise RuntimeError('no GPU here')\n" + MODEL + DATA,
                      r"^import_raises\.py: importing it raised RuntimeError: no GPU here$"),
    "exits": (HEAD + "import sys\nsys.exit(2)\n", r"^exits\.py: importing it raised SystemExit: 2$"),
    "no_model": (HEAD + DATA, r"^no_model\.py: defines no model\(\) function$"),
    "no_data": (HEAD + MODEL, r"^no_data\.py: defines no data\(\) function$"),
    "model_not_module": (HEAD + "def model():\n    return 3\n" + DATA,
                         r"^model_not_module\.py: model\(\) must return a torch\.nn\.Module, got int$"),
    "model_raises": (HEAD + "def model():\n    return nn.Linear(3, 2).to(dtype='float')\n" + DATA,
                     r"^model_raises\.py: model\(\) raised TypeError: "),
    "data_raises": (HEAD + MODEL + "def data():\n    return 1 / 0\n",
                    r"^data_raises\.py: data\(\) raised ZeroDivisionError: division by zero$"),
    "data_not_pair": (HEAD + MODEL + "def data():\n    return torch.zeros(4, 3)\n",
                      r"^data_not_pair\.py: data\(\) must return \(inputs, targets\), two tensors; got Tensor$"),
    "lengths": (HEAD + MODEL + "def data():\n    return torch.zeros(4, 3), torch.zeros(5).long()\n",
                r"^lengths\.py: data\(\) gave 4 inputs but 5 targets$"),
    "nan": (HEAD + MODEL + "def data():\n    x = torch.zeros(8, 3)\n    x[2, 1] = float('nan')\n"
            "    return x, torch.zeros(8).long()\n",
            r"^nan\.py: data\(\): 1 of the 24 inputs values are NaN or infinite$"),
    "mse_shapes": (HEAD + MODEL + "def data():\n    return torch.zeros(8, 3), torch.zeros(8, 1)\n",
                   r"^mse_shapes\.py: outputs of shape \(8, 2\) and targets of shape \(8, 1\) do not match \(mean "
                   r"squared error compares them element by element\)$"),
    "forward_fails": (HEAD + MODEL + "def data():\n    return torch.zeros(8, 5), torch.zeros(8).long()\n",
                      r"^forward_fails\.py: model\(\) failed on the first 8 inputs of data\(\) \(shape \(8, 5\)\): "
                      r"RuntimeError: "),
    "vector_loss": (HEAD + MODEL + DATA + "def loss(outputs, targets):\n    return (outputs ** 2).sum(1)\n",
                    r"^vector_loss\.py: the loss must return one number \(a 0-d tensor\), got \(16,\)$"),
    "validation_raises": (HEAD + MODEL + DATA + "def validation():\n    raise ValueError('not yet')\n",
                          r"^validation_raises\.py: validation\(\) raised ValueError: not yet$"),
}  # fmt: skip


def _write(folder: Path, name: str, text: str | None) -> Path:
    path = folder / f"{name}.py"
    if text is not None:
        path.write_text(text)
    return path


@pytest.mark.parametrize("name", list(BAD))
def test_each_problem_is_one_line_naming_file_function_and_problem(tmp_path, name):
    text, expected = BAD[name]
    with pytest.raises(UserModelError) as caught:
        loader.load(_write(tmp_path, name, text))
    line = str(caught.value)
    assert "\n" not in line and re.search(expected, line), line
    assert describe_failure(caught.value, 0) == line  # the banner shows the line itself, no "Stopped at step 0"


def test_the_run_fails_with_the_same_line_before_its_first_frame(tmp_path):
    path = _write(tmp_path, "data_raises", BAD["data_raises"][0])
    frame, failure, exc = run_sync(lambda: run(YourModelConfig(model_path=str(path))), 10)
    assert frame is None and isinstance(exc, UserModelError)
    assert failure == "data_raises.py: data() raised ZeroDivisionError: division by zero"


def test_a_model_too_large_for_the_limit_says_how_much_it_needs(tmp_path):
    path = _write(tmp_path, "big", HEAD + "def model():\n    return nn.Linear(1000, 1000)\n"
                  "def data():\n    return torch.zeros(4, 1000), torch.zeros(4).long()\n")  # fmt: skip
    with pytest.raises(UserModelError, match=r"^big\.py: model\(\) has 1,001,000 parameters: training needs about "
                       r"15\.3 MiB .* more than 1\.0 MiB \(the limit set\)$"):  # fmt: skip
        loader.load(path, memory_limit_bytes=2**20)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is here: the tensors load")
def test_cuda_tensors_without_cuda_are_one_line(tmp_path):
    path = _write(tmp_path, "cuda", HEAD + MODEL + "def data():\n    return torch.zeros(4, 3, device='cuda'), "
                  "torch.zeros(4, device='cuda').long()\n")  # fmt: skip
    with pytest.raises(UserModelError, match=r"^cuda\.py: data\(\) raised \w+: ") as caught:
        loader.load(path)
    assert "\n" not in str(caught.value)


def test_weights_that_do_not_fit_or_are_not_a_state_dict(tmp_path):
    path = _write(tmp_path, "ok", HEAD + MODEL + DATA)
    with pytest.raises(UserModelError, match=r"nope\.pt: no such weights file$"):
        loader.load(path, tmp_path / "nope.pt")
    torch.save({"weight": torch.zeros(5, 5)}, tmp_path / "other.pt")
    with pytest.raises(UserModelError, match=r"^other\.pt: does not fit model\(\): RuntimeError: "):
        loader.load(path, tmp_path / "other.pt")
    (tmp_path / "text.pt").write_text("not a tensor file")
    with pytest.raises(UserModelError, match=r"^text\.pt: not a torch\.save'd state dict"):
        loader.load(path, tmp_path / "text.pt")
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(UserModelError, match=r"^list\.pt: holds a list, not a state dict$"):
        loader.load(path, tmp_path / "list.pt")


def test_a_file_imports_its_neighbours_and_leaves_sys_path_as_it_was(tmp_path):
    import sys

    (tmp_path / "helpers_for_my_net.py").write_text("WIDTH = 7\n")
    path = _write(tmp_path, "my_net", HEAD + "import helpers_for_my_net\n"
                  "def model():\n    return nn.Linear(3, helpers_for_my_net.WIDTH)\n" + DATA
                  + "def loss(out, y):\n    return out.pow(2).mean()\n")  # fmt: skip
    before = list(sys.path)
    task = loader.load(path)
    assert task.model.out_features == 7 and task.loss_name == "loss() of my_net.py" and task.classification
    assert sys.path == before


def test_no_model_chosen_opens_the_first_shipped_example():
    examples = loader.examples()
    assert [p.name for p in examples] == ["a_spiral_mlp.py", "b_stripes_cnn.py"]
    assert loader.resolve("  ") == examples[0]
    assert loader.resolve("my_net.py") == Path("my_net.py")
    for example in examples:
        task = loader.load(example)
        assert task.classification and task.validation is not None and task.loss_name == "cross-entropy"
    cnn = loader.load(examples[1])
    assert cnn.parameter_names[0] == "features.0.weight" and cnn.parameter_names[-1] == "classifier.bias"


def test_the_same_seed_builds_the_same_initial_weights():
    a, b, c = (loader.load(loader.examples()[0], seed=s) for s in (3, 3, 4))
    for (name, pa), pb, pc in zip(a.model.named_parameters(), b.model.parameters(), c.model.parameters(), strict=True):
        torch.testing.assert_close(pa, pb, msg=name)
        assert not torch.equal(pa, pc) or name.endswith("bias")


def test_the_readme_contract_loads_as_written(tmp_path):
    """The README's "Your model" snippet is a whole model file: saved as one, it loads and trains."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Your model.*?```python\n(.*?)```", readme, re.S).group(1)
    path = tmp_path / "my_net.py"
    path.write_text(block)
    task = loader.load(path)
    assert task.parameter_names == ("0.weight", "0.bias", "2.weight", "2.bias") and task.validation is not None
    frame, failure, _ = run_sync(lambda: run(YourModelConfig(model_path=str(path), steps=5, curvature_every=0)), 5)
    assert failure is None and frame.step == 5


def test_the_headless_check_loads_only_what_it_was_given(tmp_path, monkeypatch):
    values = {p.key: p.default for p in params.PARAMS}
    loads: list[Path] = []
    monkeypatch.setattr(loader, "load", lambda path, *args: loads.append(path))
    params.check_files(values, {"steps", "lr"})
    assert loads == []  # the shipped example, unchanged: nothing to check (and torch stays unloaded)
    params.check_files({**values, "model_path": "mine.py"}, {"model_path"})
    params.check_files({**values, "memory_limit_gb": 0.5}, {"memory_limit_gb"})
    assert loads == [Path("mine.py"), loader.examples()[0]]


def test_a_name_the_system_refuses_is_no_such_file_not_an_os_error():
    with pytest.raises(UserModelError, match=r": no such file$"):
        loader.load("9" * 300 + ".py")  # longer than a file name may be
    with pytest.raises(UserModelError, match=r": no such weights file$"):
        loader.load(loader.examples()[0], "9" * 300 + ".pt")


def test_a_frozen_tensor_is_no_row_and_the_pca_plane_leaves_it_alone(tmp_path):
    from explorer.lab.core.protocol import run_job
    from explorer.lab.your_model import analysis

    path = _write(tmp_path, "frozen", HEAD + "def model():\n    net = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), "
                  "nn.Linear(8, 2))\n    net[0].weight.requires_grad_(False)\n    return net\n" + DATA)  # fmt: skip
    cfg = YourModelConfig(model_path=str(path), steps=12, path_every=2, curvature_every=0)
    frame, failure, _ = run_sync(lambda: run(cfg), 12)
    assert failure is None and frame.parameter_names == ("0.bias", "2.weight", "2.bias")
    surface = run_job(analysis.landscape(frame.snapshot, "pca", 5))  # the path has the trainable tensors only
    assert surface.complete and surface.path.shape == (7, 2)
    frozen = frame.snapshot.model()[0].weight
    torch.testing.assert_close(frozen, loader.load(path).model[0].weight)  # untouched by training
