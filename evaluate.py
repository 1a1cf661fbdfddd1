"""Score any system's anomaly score files by a DCASE year's official rules.

    python evaluate.py SCORES -d|-e [-c CONFIG] [--year YEAR] [--ground-truth DIR] [-o OUT]

SCORES is a folder of score files named as the year's official evaluator reads them
(anomaly_score_<machine>_section_<NN>_test.csv, ... ; decision_result_... beside them where the
system decides), written by any system: comma or tab separated, with or without a header row,
clips by base name or whole path. The clips expected are those of the configuration's
dev_directory (-d: labels and domains from the names) or eval_directory (-e: from the official
ground truth, --ground-truth). Written to OUT (default SCORES), as 01_test.py writes them:
result.csv (-e: result_eval.csv) with the official score, its blocks and their records (which
summarize.py reads), plots/ and report.html. Clips are paired with the ground truth by name,
never by position.
"""
import argparse
from pathlib import Path

import common as com
from dcase_baseline import clips, configuration, evaluation, filenames, results, safe_io, years
from dcase_baseline.errors import BaselineError


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scores", metavar="SCORES", help="the folder of the score files")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("-d", "--dev", action="store_true", help="development set (dev_directory)")
    mode.add_argument("-e", "--eval", action="store_true",
                      help="evaluation set (eval_directory), with --ground-truth")
    parser.add_argument("-c", "--config", default=com.DEFAULT_CONFIG_FILE,
                        help="configuration (default: baseline.yaml in the current folder)")
    parser.add_argument("--year", type=int, choices=sorted(years.YEARS), metavar="YEAR",
                        help="the DCASE year whose rules and names apply (default: the "
                             "configuration's year)")
    parser.add_argument("--ground-truth", metavar="DIR",
                        help="with -e: the official evaluator's ground truth of the year")
    parser.add_argument("-m", "--machine", nargs="+", metavar="NAME",
                        help="only these machine types (default: every machine folder)")
    parser.add_argument("--seed", type=int, help="the system's seed, for the records and "
                                                 "summarize.py")
    parser.add_argument("-o", "--out", metavar="OUT",
                        help="folder of the results (default: SCORES)")
    args = parser.parse_args(argv)
    if args.eval and not args.ground_truth:
        parser.error("-e needs --ground-truth DIR: the labels of evaluation clips come from it")
    if args.dev and args.ground_truth:
        parser.error("--ground-truth goes with -e/--eval")
    return args


def main():
    args = parse_args()
    run = configuration.effective(args.config)
    config, year = run.config, run.year
    if args.year is not None:
        config["year"], year = args.year, years.YEARS[args.year]
    com.setup_logging(None)
    for note in run.notes:
        com.log.warning(note)
    scores = Path(args.scores)
    if not scores.is_dir():
        raise BaselineError(f"score folder not found: {scores}; give the folder that holds the "
                            f"anomaly score files")
    out = Path(args.out) if args.out else scores
    safe_io.check_writable(out, "-o/--out")
    safe_io.check_writable(filenames.plot_file(out, "-", args.dev).parent, "-o/--out")
    key = "dev_directory" if args.dev else "eval_directory"
    dirs = clips.machine_dirs(config[key], key, args.machine, args.config)
    clips.check_layout(dirs, year)
    blocks, written = evaluation.evaluate(scores, out, config, year, dirs, args.dev,
                                          args.ground_truth, args.seed)
    com.log.info("results of %s -> %s", ", ".join(b.machine for b in blocks), written)
    results.log_summary(blocks, year)


if __name__ == "__main__":
    com.run_main(main)
