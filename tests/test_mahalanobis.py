"""score: mahalanobis against a NumPy reference written here from the successor's definition:
per domain, the covariance of the training clips' residual blocks (centred on the domain's
mean block, divided by blocks - 1), its inverse P, a clip's score mean_ij d_i P d_j^T over its
residual blocks d, the smaller of the two domains'."""
import shutil

import numpy as np
import pytest

from dcase_baseline import frame_stacks
from dcase_baseline import mahalanobis
from helpers import (copy_machine, read_rows, run_script, short_training_clips,
                     write_config)
from dcase_baseline.errors import BaselineError


class Halving:
    """A fake model: y = x / 2 plus a fixed non-linear twist, so residuals are not trivial."""

    def predict_on_batch(self, x):
        return 0.5 * x + 0.1 * np.tanh(x[:, ::-1])


def reference_scores(train_blocks, train_domains, test_blocks, shrinkage=0.0):
    """train_blocks: per training clip its (M, n) residual blocks; test_blocks likewise."""
    precision = {}
    for domain in ("source", "target"):
        blocks = [b for b, d in zip(train_blocks, train_domains) if d == domain]
        if not blocks:
            continue
        stacked = np.concatenate(blocks)
        centred = stacked - stacked.mean(axis=0)
        covariance = centred.T @ centred / (len(stacked) - 1)
        n = len(covariance)
        covariance = ((1 - shrinkage) * covariance
                      + shrinkage * np.trace(covariance) / n * np.eye(n))
        precision[domain] = np.linalg.inv(covariance)
    precision.setdefault("target", precision["source"])
    scores = []
    for d in test_blocks:
        # the successor's formula as written: the mean of the M x M matrix d P d^T
        scores.append(min(np.mean(d @ precision[domain] @ d.T) for domain in ("source", "target")))
    return np.array(scores)


def clip_blocks(model, clip, n_frames):
    """The residual blocks of one clip's vectors, computed directly."""
    stacks = frame_stacks.frame_index([clip], n_frames)
    x = stacks.vectors(stacks.starts)       # float32, as the model takes them
    residual = x.astype(np.float64) - np.asarray(model.predict_on_batch(x), np.float64)
    return residual.reshape(-1, clip.shape[1])


def test_scores_equal_the_reference(monkeypatch):
    rng = np.random.default_rng(0)
    n_mels, n_frames = 6, 3
    train = [rng.normal(size=(rng.integers(20, 40), n_mels)).astype(np.float32) for _ in range(7)]
    domains = ["source"] * 5 + ["target"] * 2
    test = [rng.normal(size=(rng.integers(8, 30), n_mels)).astype(np.float32) for _ in range(5)]
    model = Halving()
    # small batches that cut clips apart: the per-clip sums must not depend on the cuts
    monkeypatch.setattr("dcase_baseline.scoring.BATCH_VECTORS", 7)
    stacks = frame_stacks.frame_index(train, n_frames)
    _, scatter = mahalanobis.clip_mean_residuals(model, stacks, domains)
    precision = mahalanobis.precisions(mahalanobis.covariances(scatter), "fan",
                                       {d: s[2] for d, s in scatter.items()})
    means, _ = mahalanobis.clip_mean_residuals(model, frame_stacks.frame_index(test, n_frames))
    ours = mahalanobis.scores(means, precision)
    expected = reference_scores([clip_blocks(model, c, n_frames) for c in train], domains,
                                [clip_blocks(model, c, n_frames) for c in test])
    # the same covariance summed another way: equal to far below the scores' own precision
    np.testing.assert_allclose(ours, expected, rtol=1e-9)


def test_target_falls_back_to_the_source_covariance():
    rng = np.random.default_rng(1)
    train = [rng.normal(size=(30, 4)).astype(np.float32) for _ in range(4)]
    stacks = frame_stacks.frame_index(train, 2)
    _, scatter = mahalanobis.clip_mean_residuals(Halving(), stacks, ["source"] * 4)
    covariance = mahalanobis.covariances(scatter)
    np.testing.assert_array_equal(covariance["target"], covariance["source"])
    test = [rng.normal(size=(12, 4)).astype(np.float32)]
    means, _ = mahalanobis.clip_mean_residuals(Halving(), frame_stacks.frame_index(test, 2))
    precision = mahalanobis.precisions(covariance, "fan", {"source": 116, "target": 0})
    expected = reference_scores([clip_blocks(Halving(), c, 2) for c in train], ["source"] * 4,
                                [clip_blocks(Halving(), c, 2) for c in test])
    np.testing.assert_allclose(mahalanobis.scores(means, precision), expected, rtol=1e-6)


def test_singular_covariance_is_an_error_and_shrinkage_mends_it():
    rng = np.random.default_rng(2)
    train = [rng.normal(size=(3, 8)).astype(np.float32) for _ in range(2)]   # 6 blocks < 8
    stacks = frame_stacks.frame_index(train, 1)
    _, scatter = mahalanobis.clip_mean_residuals(Halving(), stacks, ["source"] * 2)
    counts = {d: s[2] for d, s in scatter.items()}
    with pytest.raises(BaselineError, match=r"fan: the source covariance .* is singular \(rank 5 "
                                            r"of 8, from 6 blocks; an eigenvalue below 1e-10 "
                                            r"of the largest counts as zero\); set "
                                            r"mahalanobis.shrinkage"):
        mahalanobis.precisions(mahalanobis.covariances(scatter), "fan", counts)
    precision = mahalanobis.precisions(mahalanobis.covariances(scatter, 0.2), "fan", counts)
    test = [rng.normal(size=(5, 8)).astype(np.float32)]
    means, _ = mahalanobis.clip_mean_residuals(Halving(), frame_stacks.frame_index(test, 1))
    expected = reference_scores([clip_blocks(Halving(), c, 1) for c in train], ["source"] * 2,
                                [clip_blocks(Halving(), c, 1) for c in test], shrinkage=0.2)
    np.testing.assert_allclose(mahalanobis.scores(means, precision), expected, rtol=1e-6)


@pytest.mark.slow
def test_end_to_end_scores_of_a_trained_model(demo_dev, tmp_path):
    from dcase_baseline import features
    import keras_model
    data = copy_machine(demo_dev, tmp_path)
    write_config(tmp_path, dev_directory=str(data), seed=2, score="mahalanobis")
    run_script("00_train.py", "-d", cwd=tmp_path)
    run_script("01_test.py", "-d", cwd=tmp_path)
    model = keras_model.load_model(tmp_path / "model" / "model_motor.keras")
    feature = {"n_mels": 128, "n_frames": 5, "n_hop_frames": 1, "n_fft": 1024,
               "hop_length": 512, "power": 2.0, "channel": "mean"}
    train = sorted((data / "motor" / "train").glob("*.wav"))
    domains = ["target" if "_target_" in p.name else "source" for p in train]
    train_blocks = [clip_blocks(model, m, 5)
                    for m in features.clip_log_mels(train, feature).log_mels]
    for section in ("00", "01"):
        rows = read_rows(tmp_path / f"result/anomaly_score_motor_section_{section}_test.csv")
        paths = [data / "motor" / "test" / name for name, _ in rows]
        test_blocks = [clip_blocks(model, m, 5)
                       for m in features.clip_log_mels(paths, feature).log_mels]
        expected = reference_scores(train_blocks, domains, test_blocks)
        np.testing.assert_allclose([float(s) for _, s in rows], expected, rtol=1e-6)
    # the threshold is fitted to the training clips' Mahalanobis scores: those scores equal
    # the reference's; the fit itself, maximum likelihood on a flat likelihood, turns their
    # last bits into differences of 1e-3 in its parameters, so what is compared is what the
    # user gets of it, the decision threshold
    import joblib
    import scipy.stats
    fitted = joblib.load(tmp_path / "model" / "score_distr_motor.pkl")
    assert fitted["score"] == "mahalanobis"
    with np.load(tmp_path / "model" / "mahalanobis_motor.npz") as saved:
        precision = {d: saved[f"{d}_precision"] for d in ("source", "target")}
    train_log_mels = features.clip_log_mels(train, feature).log_mels
    ours = mahalanobis.scores(mahalanobis.clip_mean_residuals(
        model, frame_stacks.frame_index(train_log_mels, 5))[0], precision)
    reference = reference_scores(train_blocks, domains, train_blocks)
    np.testing.assert_allclose(ours, reference, rtol=1e-6)
    np.testing.assert_allclose(scipy.stats.gamma.ppf(0.9, *fitted["gamma"]),
                               scipy.stats.gamma.ppf(0.9, *scipy.stats.gamma.fit(reference)),
                               rtol=1e-2)
    # a test with score: mse refuses this threshold; a model folder without covariances too
    write_config(tmp_path, dev_directory=str(data), seed=2)
    failed = run_script("01_test.py", "-d", cwd=tmp_path, check=False)
    assert "was fitted to mahalanobis scores, the configuration asks for score: mse" in \
        failed.stderr
    shutil.move(tmp_path / "model" / "mahalanobis_motor.npz", tmp_path / "moved.npz")
    write_config(tmp_path, dev_directory=str(data), seed=2, score="mahalanobis")
    failed = run_script("01_test.py", "-d", cwd=tmp_path, check=False)
    assert failed.returncode == 1 and "mahalanobis_motor.npz not found" in failed.stderr


@pytest.mark.slow
def test_too_few_blocks_stop_before_training(demo_dev, tmp_path):
    # 3 clips of 11 frames: 7 vectors, 35 blocks each, 105 in all, fewer than n_mels = 128
    data = short_training_clips(demo_dev, tmp_path, 3, 512 * 10)
    write_config(tmp_path, dev_directory=str(data), score="mahalanobis")
    failed = run_script("00_train.py", "-d", cwd=tmp_path, check=False)
    assert failed.returncode == 1 and "epoch" not in failed.stderr
    assert "make a singular 128 x 128 covariance (score: mahalanobis); set " \
           "mahalanobis.shrinkage" in failed.stderr.strip().splitlines()[-1]
    write_config(tmp_path, dev_directory=str(data), score="mahalanobis",
                 **{"mahalanobis.shrinkage": 0.1})
    run_script("00_train.py", "-d", cwd=tmp_path)


def covariance_of_rank(rank, size, rng):
    """A covariance of that rank, eigenvalues 1 to 10 (scatter as clip_mean_residuals keeps it
    is not needed: precisions takes the matrices), and an orthonormal basis of its null space."""
    basis, _ = np.linalg.qr(rng.normal(size=(size, size)))
    eigenvalues = np.r_[np.linspace(1, 10, rank), np.zeros(size - rank)]
    return (basis * eigenvalues) @ basis.T, basis[:, rank:]


@pytest.mark.parametrize("noise", [0.0, 1e-13, -1e-13])
def test_a_covariance_of_known_rank_is_singular_whatever_its_last_bits(noise):
    # rounding noise of either sign in the null directions, as another CPU may leave it
    rng = np.random.default_rng(5)
    covariance, null = covariance_of_rank(100, 128, rng)
    covariance = covariance + noise * 10 * (null @ null.T)
    with pytest.raises(BaselineError) as error:
        mahalanobis.precisions({"source": covariance, "target": np.eye(128)}, "fan",
                               {"source": 640, "target": 640})
    assert ("fan: the source covariance of the residual blocks is singular (rank 100 of 128, "
            "from 640 blocks; an eigenvalue below 1e-10 of the largest counts as zero); set "
            "mahalanobis.shrinkage") in str(error.value)
    # a well-conditioned one (smallest eigenvalue 1e-6 of the largest) is not
    precision = mahalanobis.precisions(
        {"source": covariance + 1e-5 * (null @ null.T), "target": np.eye(128)}, "fan",
        {"source": 640, "target": 640})["source"]
    assert np.all(np.linalg.eigvalsh(precision) > 0)


class Zero:
    """A fake model that reconstructs nothing: the residual blocks are the frames."""

    def predict_on_batch(self, x):
        return np.zeros_like(x)


def test_a_large_mean_leaves_no_rounding_noise_in_the_covariance():
    # the residuals of a constant input: a mean block near 100 and a spread of rank 4 only,
    # where the one-pass sum of b b^T minus n m m^T keeps noise of either sign in the null
    # directions
    rng = np.random.default_rng(6)
    n_mels = 32
    # values float32 holds exactly: the covariance is of rank 4 to the last bit
    spread = rng.integers(-4, 5, size=(4, n_mels)) / 64
    clips = [(100 + rng.integers(-3, 4, size=(50, 4)) @ spread).astype(np.float32)
             for _ in range(8)]
    stacks = frame_stacks.frame_index(clips, 1)
    _, scatter = mahalanobis.clip_mean_residuals(Zero(), stacks, ["source"] * 8)
    covariance = mahalanobis.covariances(scatter)["source"]
    blocks = np.concatenate(clips).astype(np.float64)
    centred = blocks - blocks.mean(axis=0)
    expected = centred.T @ centred / (len(blocks) - 1)
    np.testing.assert_allclose(covariance, expected, rtol=0, atol=1e-12 * np.abs(expected).max())
    assert mahalanobis.rank(covariance) == 4
    with pytest.raises(BaselineError, match=r"singular \(rank 4 of 32, from 400 blocks"):
        mahalanobis.precisions(mahalanobis.covariances(scatter), "fan",
                               {d: s[2] for d, s in scatter.items()})


def test_a_squared_distance_below_zero_is_an_error():
    precision = np.diag([1.0, -1.0])
    with pytest.raises(BaselineError, match="1 of 2 squared Mahalanobis distances are below "
                                            "zero .* not positive definite"):
        mahalanobis.scores(np.array([[1.0, 0.0], [0.0, 1.0]]),
                           {"source": precision, "target": precision})


def test_a_saved_precision_that_is_not_positive_definite_is_refused(tmp_path):
    from dcase_baseline import detector
    rng = np.random.default_rng(7)
    good = np.linalg.inv(covariance_of_rank(16, 16, rng)[0])
    covariance, _ = covariance_of_rank(12, 16, rng)
    bad = np.linalg.pinv(covariance) - 1e-3 * np.eye(16)       # four negative eigenvalues
    path = tmp_path / "mahalanobis_fan.npz"
    np.savez(path, model_sha256="abc", source_precision=good, target_precision=bad)
    with pytest.raises(BaselineError) as error:
        detector.read_precisions(tmp_path, "fan", "abc", "python 00_train.py -d -m fan")
    message = str(error.value)
    assert (f"{path}: its target inverse covariance is not positive definite (rank 12 of 16"
            in message)
    assert "retrain with `python 00_train.py -d -m fan --force` and mahalanobis.shrinkage" \
        in message
    np.savez(path, model_sha256="abc", source_precision=good, target_precision=good)
    np.testing.assert_array_equal(
        detector.read_precisions(tmp_path, "fan", "abc", "...")["target"], good)
