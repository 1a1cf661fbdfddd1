#!/usr/bin/env bash
# One (machine type, section) pair per Slurm array task: train that section's model, score
# that section, and add it to result.csv. For a configuration with `model_per: section`.
#
#   MACHINES="fan valve" SECTIONS="00 01 02" sbatch --array=0-5 cluster/slurm_array_sections.sh -c my.yaml
#
# Task i takes machine type i / (number of sections) and section i % (number of sections).
# Submit from the project folder (the tasks start there). Extra arguments go to both scripts
# (-d or -e, -c CONFIG, --seed N, ...); without -d or -e, development mode. result.csv is rebuilt
# under a lock by each task that finishes: after the last task it holds every section.
#SBATCH --job-name=dcase-ae-sections
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail
read -r -a machines <<< "${MACHINES:-ToyCar ToyTrain bearing fan gearbox slider valve}"
read -r -a sections <<< "${SECTIONS:-00 01 02}"
machine=${machines[$((SLURM_ARRAY_TASK_ID / ${#sections[@]}))]}
section=${sections[$((SLURM_ARRAY_TASK_ID % ${#sections[@]}))]}
args=("$@")
case " ${args[*]} " in *" -d "* | *" -e "* | *" --dev "* | *" --eval "*) ;; *) args=(-d "${args[@]}") ;; esac
python 00_train.py "${args[@]}" -m "$machine" -s "$section"
python 01_test.py "${args[@]}" -m "$machine" -s "$section"
