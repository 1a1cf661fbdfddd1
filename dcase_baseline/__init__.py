"""The library behind the scripts 00_train.py, 01_test.py, download.py and summarize.py: a
module per topic. The scripts and common.py import it; it imports none of them.

    years         everything that differs between the DCASE years, a record per year
    published     the figures each year's baseline published, as data
    configuration the configuration's keys, rules and defaults; the effective configuration
    clips         machine folders, clip lists, test units
    clip_names    what a clip's name tells, by the year's record
    ground_truth  the official evaluators' ground truth files, read and written
    features      audio and log-mel spectrograms, in worker processes, cached
    frame_stacks  the clips' frames held once, their frame-stack vectors
    validation    the validation split (tail vectors or whole clips)
    keras_backend Keras, imported once and quietly
    training      the fit, an epoch per compiled call; reference_fit, plain Keras
    checkpoints   a training's state, to resume
    scoring       reconstruction errors and clip scores
    mahalanobis   score: mahalanobis (Selective Mahalanobis)
    detector      a model and its threshold and training record, saved and loaded
    metrics       kinds of metric, AUC, pAUC, precision, recall, F1, means, the official score
    results       result.csv: its layout as typed rows, written and read; blocks; the summary
    plots         the figures: ROC curves, score histograms, loss curves
    report        report.html
    summary       several runs' result.csv summarized (summarize.py)
    downloads     a year's archives fetched, verified and unpacked (download.py)
    run_settings  the settings that make two runs' figures comparable
    filenames     the name of every file written
    safe_io       atomic writes, locks, CSV, JSON, folder checks
    progress      progress bars, on a terminal only
    errors        BaselineError, the one-line stop
"""

__version__ = "2.0.0"
