"""The library behind the scripts 00_train.py, 01_test.py, download.py and summarize.py: a
module per topic. The scripts and common.py import it; it imports none of them.

    years         everything that differs between the DCASE years, a record per year
    clips         clip names, machine folders, test units, the official ground truth
    features      audio and log-mel spectrograms, in worker processes, cached
    frame_stacks  the clips' frames held once, their frame-stack vectors
    validation    the validation split (tail vectors or whole clips)
    keras_backend Keras, imported once and quietly
    training      the fit, an epoch per compiled call; reference_fit, plain Keras
    checkpoints   a training's state, to resume
    scoring       reconstruction errors and clip scores
    mahalanobis   score: mahalanobis (Selective Mahalanobis)
    detector      a machine type's model and threshold, saved and loaded
    metrics       AUC, pAUC, precision, recall, F1, means, the official score
    results       result.csv: its layout, written and read; blocks; the console summary
    report        plots and report.html
    run_settings  the settings that make two runs' figures comparable
    filenames     the name of every file written
    safe_io       atomic writes, locks, CSV, JSON, folder checks
    progress      progress bars, on a terminal only
    errors        BaselineError, the one-line stop
"""

__version__ = "2.0.0"
