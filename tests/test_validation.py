"""validation.py: fit.validation: clips holds out whole clips, drawn with the seed in proportion
per section and domain; training then equals Keras' fit with those clips' vectors as
validation_data."""
import collections

import numpy as np
import pytest

from helpers import copy_machine, run_script, write_config
from dcase_baseline import frame_stacks, training, validation
from test_training import assert_same_training, fit_config, float64_keras, twin_models  # noqa: F401


def test_clips_drawn_in_proportion_and_every_group_keeps_training_clips():
    groups = ([("00", "source")] * 20 + [("00", "target")] * 3 + [("01", "source")] * 11
              + [("01", "target")] * 1)
    held_out = validation.validation_clips(groups, 0.1, np.random.default_rng(5))
    counts = collections.Counter(groups[i] for i in held_out)
    # round(n * 0.1), never the whole group
    assert counts == {("00", "source"): 2, ("01", "source"): 1}
    assert held_out == sorted(set(held_out))
    for group in set(groups):
        kept = [i for i, g in enumerate(groups) if g == group and i not in held_out]
        assert kept, group                       # every group, target ones too, trains
    assert validation.validation_clips(groups, 0.1, np.random.default_rng(5)) == held_out
    assert validation.validation_clips(groups, 0.1, np.random.default_rng(6)) != held_out
    many = validation.validation_clips(groups, 0.5, np.random.default_rng(0))
    counts = collections.Counter(groups[i] for i in many)
    for group, n in collections.Counter(groups).items():
        assert abs(counts.get(group, 0) - n * 0.5) <= 1 and counts.get(group, 0) < n


def test_no_vector_of_a_validation_clip_is_trained_on():
    rng = np.random.default_rng(0)
    stacks = frame_stacks.frame_index([rng.normal(size=(n, 4)) for n in (9, 12, 7, 10)], 3)
    train, held_out = validation.split(stacks, 0.1, [1, 3])
    owners = dict(zip(stacks.starts.tolist(), stacks.owners.tolist()))
    assert {owners[s] for s in held_out.tolist()} == {1, 3}
    assert {owners[s] for s in train.tolist()} == {0, 2}
    assert len(train) + len(held_out) == len(stacks.starts)


@pytest.mark.slow
@pytest.mark.parametrize("shuffle", [False, True])
def test_fit_equals_keras_fit_with_the_clips_as_validation_data(shuffle):
    rng = np.random.default_rng(0)
    stacks = frame_stacks.frame_index([rng.normal(size=(n, 16)) for n in (40, 33, 51, 20)], 3)
    plain, ours = twin_models()
    history = training.fit(ours, stacks, fit_config(shuffle), np.random.default_rng(7),
                           validation_clips=[1])
    expected = training.reference_fit(plain, stacks, fit_config(shuffle),
                                      np.random.default_rng(7), validation_clips=[1])
    assert_same_training(ours, plain, history, expected)


@pytest.mark.slow
def test_validation_clips_are_listed_and_repeat_with_the_seed(demo_dev, tmp_path):
    data = copy_machine(demo_dev, tmp_path)
    names = {}
    for run in ("a", "b"):
        write_config(tmp_path, dev_directory=str(data), seed=4, model_directory=str(
            tmp_path / run), **{"fit.validation": "clips", "fit.validation_split": 0.25,
                                "fit.epochs": 1})
        train = run_script("00_train.py", "-d", cwd=tmp_path)
        listed = (tmp_path / run / "validation_motor.txt").read_text().split()
        names[run] = listed
        assert f"motor: {len(listed)} of 28 clips held out for validation" in train.stderr
    assert names["a"] == names["b"]
    # demo motor: per section 12 source and 2 target clips -> round(3) + round(0.5) each
    assert len(names["a"]) == 6
    sections = collections.Counter((n.split("_")[1], n.split("_")[2]) for n in names["a"])
    assert sections == {("00", "source"): 3, ("01", "source"): 3}
