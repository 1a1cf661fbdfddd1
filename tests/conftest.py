"""The fixtures the tests share: generated data sets and a trained, tested development run."""
import pytest

from helpers import run_script, write_config


@pytest.fixture(scope="session")
def demo_dev(tmp_path_factory):
    """A small generated development set (2 machines x 2 sections, 1.5 s clips)."""
    from make_demo_data import make_dataset
    root = tmp_path_factory.mktemp("demo_dev")
    make_dataset(root / "data", seconds=1.5)
    return root / "data"


@pytest.fixture(scope="session")
def demo_eval(tmp_path_factory):
    """The same generator in the evaluation layout, with ground truth files."""
    from make_demo_data import make_dataset
    root = tmp_path_factory.mktemp("demo_eval")
    make_dataset(root / "data", ground_truth_dir=root / "truth", seconds=1.5)
    return root / "data", root / "truth"


@pytest.fixture(scope="session")
def dev_run(demo_dev, tmp_path_factory):
    """The generated development set trained (seed 3) and tested once, shared by tests."""
    folder = tmp_path_factory.mktemp("dev_run")
    write_config(folder, dev_directory=str(demo_dev), seed=3)
    train = run_script("00_train.py", "-d", cwd=folder)
    test = run_script("01_test.py", "-d", cwd=folder)
    return folder, train, test
