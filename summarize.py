"""One table from several runs' result.csv: per cell, and for the official score, the mean,
standard deviation, minimum and maximum over the runs (e.g. over seeds; docs/seeds.md).

    python summarize.py RESULT_DIR_OR_CSV... [-o OUT_DIR] [--across SETTING...]
                                                   # OUT_DIR default: ./summary

Each argument is a result folder (its result.csv is read) or a result CSV file itself. The
files must have the same layout: the same rows, the same key cells (machine type, section,
domain, ID, row names) and the same headers; any year's layout is read as it is. The runs
must also differ in nothing but the seed: the records beside each result.csv
(result_<model>_<dev|eval>.json) name its data folder, ground truth, features, fit, score,
year and thresholds, and runs of other settings are refused with a line naming every setting
that differs, unless --across names them (the summary then lists each run's values).
Written to OUT_DIR:

    summary.csv        long form, one row per numeric cell of result.csv:
                       machine,row,column,mean,std,min,max,n,empty
                       machine: the machine type's block, empty for the rows after the
                       blocks (the means over all machine types and the official score);
                       row: the row's key cells ("00", "00 source", "harmonic mean",
                       "official score"); column: the header above the cell ("value" where
                       there is none, as for the official score); n: runs with a number in
                       the cell; empty: runs in which the cell was empty (undefined). A cell
                       empty in any run stays empty: mean, std, min and max are left empty.
    summary_mean.csv   result.csv's own layout with each numeric cell replaced by its mean
    summary_runs.csv   run,result file,seed (and the settings of --across): the runs
                       summarized, in the order given
    summary.html       a self-contained page: the official score's mean +- std [min, max],
                       a table per machine type of mean +- std per cell, and the runs

std is the sample standard deviation (n - 1 in the denominator, as numpy.std(ddof=1)): the
spread one would expect of another run. With one run it is undefined and left empty.
A run's seed is read from the records that 01_test.py writes beside result.csv
(result_<machine>_<dev|eval>.json, "run" -> "seed"), of the blocks whose cells are the
machine types' rows of that result.csv.
"""
import argparse

import common as com
from dcase_baseline import summary


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Mean, standard deviation (sample, ddof=1), minimum and maximum of every "
                    "cell of several runs' result.csv, and of the official score.")
    parser.add_argument("runs", nargs="+", metavar="RESULT_DIR_OR_CSV",
                        help="result folders (their result.csv) or result CSV files")
    parser.add_argument("-o", "--out", default="summary", metavar="OUT_DIR",
                        help="folder of the summary files (default: ./summary)")
    parser.add_argument("--across", nargs="+", default=[], metavar="SETTING",
                        help="settings in which the runs may differ besides the seed (as the "
                             "error names them: fit.lr, data folder, ...); the summary names "
                             "each run's values")
    args = parser.parse_args(argv)
    cells, files = summary.write_summary(args.runs, args.out, args.across)
    if args.across:
        com.log.info("runs of different %s: each run's values in %s", ", ".join(args.across),
                     files[2])
    score = summary.official(cells)
    n_runs = summary.runs_text(len(args.runs))
    if score is not None and score.mean is not None:
        std = "" if score.std is None else f" +- {score.std:.4f} (sample std)"
        com.log.info("official score over %s: %.4f%s, min %.4f, max %.4f", n_runs, score.mean,
                     std, score.low, score.high)
    elif score is not None:
        com.log.info("official score: empty in %d of %s", score.empty, n_runs)
    com.log.info("summary of %s -> %s", n_runs, ", ".join(map(str, files)))


if __name__ == "__main__":
    com.setup_logging(None)
    com.run_main(main)
