"""Fetch the DCASE Task 2 data of a year from Zenodo into the folders of baseline.yaml.

    python download.py dev                 # development set -> dev_directory
    python download.py eval                # additional training and evaluation test data
                                           #   -> eval_directory
    python download.py dev -m fan valve    # only these machine types
    python download.py dev --list          # what is present, what would be fetched (sizes)
    python download.py dev --year 2024     # another year's data (default: the configuration's
                                           #   year key, else 2022)

The file list, sizes and MD5 checksums come from each Zenodo record's API
(<server>/api/records/<id>). Each archive's machine folder is unpacked as <data folder>/<machine
type>/ with train/ and test/ (2021: train/, source_test/ and target_test/, as they are; 2025's
supplemental/ too), whatever folder the archive puts above it. A re-issued archive
(dev_ToyCar_r2.zip) is taken instead of the one it replaces (dev_ToyCar.zip) where a record
lists both. Archives are kept under <data folder>/.downloads, verified, and not
fetched again once complete; each is unpacked through a temporary folder, so that a machine
folder appears whole or not at all, and clips already there are never overwritten.

A rerun checks the unpacked files against the archive's list of files (kept beside it in
.downloads as <archive>.<md5>.unpacked) and restores what is missing, from the kept archive or,
where it was deleted, from the archive fetched again; files that are there stay as they are.
"""
import argparse
from pathlib import Path

import common as com
from dcase_baseline import configuration, downloads, safe_io, years


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=sorted(downloads.SETS),
                        help="dev: development set; eval: additional training and evaluation "
                             "test data")
    parser.add_argument("-c", "--config", default="baseline.yaml",
                        help="configuration whose dev_directory / eval_directory receive the data")
    parser.add_argument("-m", "--machine", nargs="+", metavar="NAME",
                        help="only these machine types (default: all of the records)")
    parser.add_argument("--list", action="store_true",
                        help="print each archive, whether it is present or what a run would "
                             "fetch; fetches nothing")
    parser.add_argument("--server", default="https://zenodo.org",
                        help="a server with Zenodo's records API (default: %(default)s)")
    parser.add_argument("--year", type=int, choices=sorted(years.YEARS), metavar="YEAR",
                        help=f"the DCASE year whose data are fetched, {min(years.YEARS)} to "
                             f"{max(years.YEARS)} (default: the configuration's year, else "
                             f"{years.DEFAULT_YEAR})")
    args = parser.parse_args(argv)
    config = configuration.effective(args.config).config
    number = args.year if args.year is not None else config["year"]
    year = years.YEARS[number]
    # the default year unasked: a plain log, without the year's heading
    named = args.year is not None or number != years.DEFAULT_YEAR
    root = Path(config[f"{args.mode}_directory"])
    todo = downloads.archives(args.server, args.mode, year, args.machine)
    if args.list:
        if named:
            print(downloads.heading(year, args.mode))
        print(downloads.describe(todo, root))
        return
    safe_io.check_writable(root, f"{args.mode}_directory", create=True)
    if named:
        com.log.info("%s -> %s", downloads.heading(year, args.mode), root)
    downloads.fetch_all(todo, root)
    com.log.info("data of %d archives in %s", len(todo), root)


if __name__ == "__main__":
    com.setup_logging(None)
    com.run_main(main)
