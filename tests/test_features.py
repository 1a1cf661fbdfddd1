"""Features: equal to the original's and to a direct librosa computation; cache and pool."""
import os
import sys

import librosa
import numpy as np
import pytest
import soundfile
from threadpoolctl import threadpool_limits

from dcase_baseline import features
from dcase_baseline import frame_stacks
from dcase_baseline.errors import BaselineError
from helpers import shared_path

FEATURE = {"n_mels": 128, "n_frames": 5, "n_hop_frames": 1, "n_fft": 1024, "hop_length": 512,
           "power": 2.0}


def reference_vectors(path, n_mels=128, n_frames=5, n_fft=1024, hop_length=512, power=2.0):
    """The SPEC's recipe written out with librosa alone, stacking frames with a plain loop."""
    y, sr = librosa.load(path, sr=None, mono=True)
    mel = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=n_fft, hop_length=hop_length,
                                         n_mels=n_mels, power=power)
    log_mel = 20.0 / power * np.log10(np.maximum(mel, sys.float_info.epsilon))
    n_vectors = log_mel.shape[1] - n_frames + 1
    vectors = np.zeros((max(n_vectors, 0), n_mels * n_frames))
    for v in range(max(n_vectors, 0)):
        for t in range(n_frames):
            vectors[v, n_mels * t:n_mels * (t + 1)] = log_mel[:, v + t]
    return vectors


def scripts_vectors(path, **changes):
    """A clip's vectors along the scripts' path: clip_log_mels -> frame_index -> gathered."""
    feature = dict(FEATURE, **changes)
    log_mels = features.clip_log_mels([path], feature).log_mels
    stacks = frame_stacks.frame_index(log_mels, feature["n_frames"])
    return stacks.vectors(stacks.starts)


def tone(seconds, rate, channels=1, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    y = np.stack([0.3 * np.sin(2 * np.pi * (200 + 50 * c) * t) + 0.05 * rng.normal(size=t.shape)
                  for c in range(channels)], axis=1)
    return y.astype(np.float32)


# Golden values: the features of golden_clip() with FEATURE, computed once by running the code of
# FEATURE_CODE_VERSION 4 (librosa 0.11.0) and pasted here; they are not derived independently.
# test_equal_to_librosa_* checks the values against librosa, this test that they stay as they were.
GOLDEN_FEATURE_CODE_VERSION = 4
GOLDEN_SHAPE = (32, 128)        # 1 + 16000 // 512 frames, n_mels bands
GOLDEN_MEAN = -18.717653        # dB, over all cells
GOLDEN_STD = 8.441161
GOLDEN_CELLS = {                # (frame, mel band): dB; the sines are in bands 18, 51 and 96
    (0, 0): -9.140862, (0, 127): -27.049229, (1, 18): 22.112259, (8, 18): 22.135914,
    (8, 51): 14.170355, (24, 96): 4.499091, (16, 70): -23.449215, (31, 0): -12.409764,
    (31, 127): -20.407558}


def golden_clip(path):
    """1 s at 16 kHz, PCM_16: sines of 440, 1250 and 3700 Hz and seeded noise."""
    rate = 16000
    t = np.arange(rate) / rate
    noise = np.random.default_rng(2022).standard_normal(rate)
    y = (0.25 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 1250 * t + 0.3)
         + 0.05 * np.sin(2 * np.pi * 3700 * t) + 0.02 * noise)
    soundfile.write(path, y, rate, subtype="PCM_16")


def test_features_of_a_fixed_clip_are_the_golden_values(tmp_path):
    path = tmp_path / "golden.wav"
    golden_clip(path)
    advice = (f"the features of a fixed clip differ from the golden values of "
              f"FEATURE_CODE_VERSION {GOLDEN_FEATURE_CODE_VERSION} (librosa 0.11.0; this is "
              f"librosa {librosa.__version__}). If the change is intended, bump "
              f"FEATURE_CODE_VERSION in features.py (so that cached features are not reused) and "
              f"update the golden values in this test from the new code's output")
    assert features.FEATURE_CODE_VERSION == GOLDEN_FEATURE_CODE_VERSION, (
        f"FEATURE_CODE_VERSION is {features.FEATURE_CODE_VERSION}, the golden values belong to "
        f"{GOLDEN_FEATURE_CODE_VERSION}: update the golden values in this test from the new "
        f"code's output and GOLDEN_FEATURE_CODE_VERSION with them")
    direct = features.log_mel_spectrogram(*features.load_audio(path), 128, 1024, 512, 2.0)
    scripts = features.clip_log_mels([path], FEATURE).log_mels[0]
    for log_mel in (direct, scripts):
        assert log_mel.dtype == np.float32 and log_mel.shape == GOLDEN_SHAPE, advice
        cells = {cell: float(log_mel[cell]) for cell in GOLDEN_CELLS}
        assert cells == pytest.approx(GOLDEN_CELLS, abs=1e-4), advice
        assert np.mean(log_mel, dtype=np.float64) == pytest.approx(GOLDEN_MEAN, abs=1e-5), advice
        assert np.std(log_mel, dtype=np.float64) == pytest.approx(GOLDEN_STD, abs=1e-5), advice


@pytest.mark.parametrize("clip", [
    "valve/train/section_00_source_train_normal_0000_pat_01.wav",
    "slider/train/section_00_source_train_normal_0000_id00.wav"])
def test_equal_to_the_original_on_real_clips(clip):
    machine = clip.split("/")[0]
    reference = np.load(shared_path("reference", "features",
                                    f"{machine}__train__{clip.split('/')[-1][:-4]}.npy"))
    vectors = scripts_vectors(shared_path("data", "real_dev_data", clip))
    assert vectors.shape == reference.shape == (309, 640)
    assert np.abs(vectors - reference).max() <= 1e-3


@pytest.mark.parametrize("rate, channels, subtype", [
    (16000, 1, "PCM_16"), (44100, 2, "PCM_16"), (22050, 1, "PCM_U8"), (16000, 3, "FLOAT"),
    (48000, 1, "PCM_24")])
def test_equal_to_librosa_for_rates_channels_and_formats(tmp_path, rate, channels, subtype):
    path = tmp_path / "clip.wav"
    soundfile.write(path, tone(1.3, rate, channels), rate, subtype=subtype)
    vectors = scripts_vectors(path, n_mels=64, n_frames=3, n_fft=512, hop_length=256)
    expected = reference_vectors(path, n_mels=64, n_frames=3, n_fft=512, hop_length=256)
    assert vectors.dtype == np.float32
    assert vectors.shape == expected.shape
    assert np.abs(vectors - expected).max() <= 1e-4


@pytest.mark.parametrize("band", [{"fmin": 300.0}, {"fmax": 5000.0}, {"win_length": 400},
                                  {"fmin": 50.0, "fmax": 7600, "win_length": 1000}])
def test_fmin_fmax_win_length_as_librosas_melspectrogram(tmp_path, band):
    path = tmp_path / "clip.wav"
    soundfile.write(path, tone(1.1, 16000), 16000)
    y, sr = librosa.load(path, sr=None, mono=True)
    expected = 10.0 * np.log10(np.maximum(librosa.feature.melspectrogram(
        y=y, sr=sr, n_fft=1024, hop_length=512, n_mels=128, power=2.0, **band),
        sys.float_info.epsilon)).T
    found = features.clip_log_mels([path], dict(FEATURE, **band)).log_mels[0]
    assert found.shape == expected.shape
    assert np.abs(found - expected).max() <= 1e-4
    # and the knob does change the features
    plain = features.clip_log_mels([path], FEATURE).log_mels[0]
    assert np.abs(found - plain).max() > 0.1


def test_librosas_defaults_spelled_out_change_nothing(tmp_path):
    path = tmp_path / "clip.wav"
    soundfile.write(path, tone(1.1, 16000), 16000)
    y, sr = features.load_audio(path)
    before = features.log_mel_spectrogram(y, sr, 128, 1024, 512, 2.0)
    assert np.array_equal(before, features.log_mel_spectrogram(y, sr, 128, 1024, 512, 2.0,
                                                               0.0, None, None))
    assert np.array_equal(before, features.log_mel_spectrogram(y, sr, 128, 1024, 512, 2.0,
                                                               0.0, 8000.0, 1024))


def test_fmax_above_half_a_clips_rate_is_an_error_naming_the_key(tmp_path):
    path = tmp_path / "clip.wav"
    soundfile.write(path, tone(0.5, 16000), 16000)
    with pytest.raises(BaselineError, match=r"^feature.fmax = 9000 Hz is above half the "
                                            r"clips' sample rate of 16000 Hz \(8000 Hz"):
        features.clip_log_mels([path], dict(FEATURE, fmax=9000.0))


def test_fmin_at_or_above_half_a_clips_rate_is_an_error_naming_fmin(tmp_path):
    path = tmp_path / "clip.wav"
    soundfile.write(path, tone(0.5, 16000), 16000)
    for fmin in (8000.0, 9000.0):
        with pytest.raises(BaselineError, match=rf"^feature.fmin = {fmin:g} Hz is not below half "
                                                r"the clips' sample rate of 16000 Hz"):
            features.clip_log_mels([path], dict(FEATURE, fmin=fmin))


def test_multichannel_real_clip_is_channel_averaged():
    path = shared_path("data", "real_multichannel", "mimii_fan_id00_0dB_normal_00000000.wav")
    assert soundfile.info(path).channels == 8
    y, rate = features.load_audio(path)
    expected, expected_rate = librosa.load(path, sr=None, mono=True)
    assert rate == expected_rate and np.array_equal(y, expected)


def test_power_one_uses_twenty_log10(tmp_path):
    path = tmp_path / "clip.wav"
    soundfile.write(path, tone(0.5, 16000), 16000)
    vectors = scripts_vectors(path, n_mels=32, n_frames=2, n_fft=256, hop_length=128,
                              power=1.0)
    expected = reference_vectors(path, n_mels=32, n_frames=2, n_fft=256, hop_length=128,
                                 power=1.0)
    assert np.abs(vectors - expected).max() <= 1e-4


def test_short_clip_gives_no_vectors(tmp_path):
    path = tmp_path / "short.wav"
    soundfile.write(path, tone(0.05, 16000), 16000)  # 800 samples: 2 frames of hop 512
    assert scripts_vectors(path, n_mels=128, n_frames=5).shape == (0, 640)


@pytest.mark.parametrize("make, message", [
    (lambda p, good: p.write_bytes(b""), "cannot read audio file"),
    (lambda p, good: p.write_text("not audio"), "cannot read audio file"),
    (lambda p, good: p.write_bytes(good[:len(good) // 2]), "is truncated"),
])
def test_broken_files_raise_an_error_naming_them(tmp_path, make, message):
    good = tmp_path / "good.wav"
    soundfile.write(good, tone(1.0, 16000), 16000, subtype="PCM_16")
    broken = tmp_path / "section_00_source_test_normal_0000_x.wav"
    make(broken, good.read_bytes())
    with pytest.raises(features.BadClipError, match=f"{message}.*|.*{broken}"):
        features.load_audio(broken)
    with pytest.raises(features.BadClipError) as error:
        features.clip_log_mels([good, broken], FEATURE)
    assert str(broken) in str(error.value)
    assert "b'" not in str(error.value)     # the file named once, as a path
    log_mels, bad, _ = features.clip_log_mels([good, broken], FEATURE, skip_bad_files=True)
    assert log_mels[0] is not None and log_mels[1] is None
    assert len(bad) == 1 and str(broken) in bad[0]


def make_clips(folder, count, seconds=1.0):
    paths = []
    for i in range(count):
        path = folder / f"clip_{i:02d}.wav"
        soundfile.write(path, tone(seconds + 0.1 * (i % 3), 16000, seed=i), 16000)
        paths.append(path)
    return paths


@pytest.mark.slow
def test_pool_and_cache_give_the_direct_values(tmp_path):
    paths = make_clips(tmp_path, 10)
    direct = [features.log_mel_spectrogram(*features.load_audio(p), 128, 1024, 512, 2.0)
              for p in paths]
    pooled = features.clip_log_mels(paths, FEATURE, workers=2).log_mels
    # this process computes what a worker does, to the last bit
    in_process = features.clip_log_mels(paths, FEATURE, workers=0).log_mels
    assert all(np.array_equal(a, b) for a, b in zip(in_process, pooled))
    cold = features.clip_log_mels(paths, FEATURE, tmp_path / "cache", workers=2).log_mels
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 10
    warm = features.clip_log_mels(paths, FEATURE, tmp_path / "cache").log_mels
    for expected, result, from_cold, from_warm in zip(direct, pooled, cold, warm):
        # workers run single-threaded BLAS, so the mel product may round differently
        assert np.abs(result - expected).max() <= 1e-4
        assert np.array_equal(from_cold, result) and np.array_equal(from_warm, result)


def test_cache_never_returns_a_stale_entry(tmp_path):
    path = make_clips(tmp_path, 1)[0]
    cache = tmp_path / "cache"
    first = features.clip_log_mels([path], FEATURE, cache).log_mels
    other = features.clip_log_mels([path], dict(FEATURE, n_mels=64), cache).log_mels
    assert other[0].shape[1] == 64
    louder = 2 * tone(1.0, 16000)
    soundfile.write(path, louder, 16000)
    os.utime(path, ns=(1, 1))      # a new clip must miss even with an unusual timestamp
    changed = features.clip_log_mels([path], FEATURE, cache).log_mels
    assert not np.array_equal(changed[0], first[0])
    with threadpool_limits(limits=1, user_api="blas"):     # as clip_log_mels computes
        expected = features.log_mel_spectrogram(*features.load_audio(path), 128, 1024, 512, 2.0)
    assert np.array_equal(changed[0], expected)
    assert len(list(cache.glob("*.npy"))) == 3


@pytest.mark.parametrize("key, value", [
    ("n_mels", 64), ("n_fft", 512), ("hop_length", 256), ("power", 1.0), ("n_frames", 4),
    ("n_hop_frames", 2), ("fmin", 50.0), ("fmax", 7000.0), ("win_length", 512),
    ("channel", 0)])
def test_cache_misses_when_any_feature_setting_changes(tmp_path, key, value):
    path = make_clips(tmp_path, 1)[0]
    cache = tmp_path / "cache"
    features.clip_log_mels([path], FEATURE, cache)
    features.clip_log_mels([path], dict(FEATURE, **{key: value}), cache)
    assert len(list(cache.glob("*.npy"))) == 2


def test_cache_misses_when_the_feature_code_changes(tmp_path, monkeypatch):
    path = make_clips(tmp_path, 1)[0]
    cache = tmp_path / "cache"
    features.clip_log_mels([path], FEATURE, cache)
    monkeypatch.setattr(features, "FEATURE_CODE_VERSION", features.FEATURE_CODE_VERSION + 1)
    features.clip_log_mels([path], FEATURE, cache)
    assert len(list(cache.glob("*.npy"))) == 2
