#!/usr/bin/env bash
# One machine type per Slurm array task: train it, score it, and add it to result.csv.
#
#   sbatch --array=0-6 cluster/slurm_array.sh            # the 7 machine types of 2022, -d
#   MACHINES="fan valve" sbatch --array=0-1 cluster/slurm_array.sh -e
#
# Submit from the project folder (the tasks start there). Extra arguments go to both scripts
# (-d or -e, -c CONFIG, --seed N, ...); without any, development mode. Every task writes its own
# model and score files; result.csv is rebuilt under a lock by each task that finishes, so after
# the last task it holds every machine type.
#SBATCH --job-name=dcase2022-ae
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail
read -r -a machines <<< "${MACHINES:-ToyCar ToyTrain bearing fan gearbox slider valve}"
machine=${machines[$SLURM_ARRAY_TASK_ID]}
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(-d)
python 00_train.py "${args[@]}" -m "$machine"
python 01_test.py "${args[@]}" -m "$machine"
