#!/usr/bin/env bash
# The whole pipeline on a small synthetic data set: generate it, train, test, show result.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf demo_work
python demo/make_demo_data.py demo_work/data
python 00_train.py -d -c demo/demo.yaml
python 01_test.py -d -c demo/demo.yaml
echo
echo "== demo_work/result/result.csv =="
cat demo_work/result/result.csv
echo
echo "report with plots: demo_work/result/report.html (open it in a browser)"
