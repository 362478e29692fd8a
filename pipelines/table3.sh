#!/usr/bin/env bash
# Table 3 (with Tables 4 and 5) of Choi & Song (IEEE Access 2020): SMIC-HS and
# CASME II, leave-one-subject-out, accuracy and F1, LFM and CLFM networks.
#
#   pipelines/table3.sh SMIC_DIR CASME2_DIR [OUT] [train flags...]
#
# SMIC_DIR holds SMIC_all_cropped/ (or SMIC_all_raw/), CASME2_DIR the CASME II
# release with its coding spreadsheet. Preprocessing runs dlib on every frame (T =
# 4 for SMIC, 8 for CASME II: round(fps / 25)); training uses configs/smic.py and
# configs/casme2.py. Each report.md prints this run next to the paper's numbers.
# Extra arguments after OUT go to every training run (e.g. --strategy=mirrored).
set -euo pipefail
source "$(dirname "$0")/common.sh"
table_args 2 runs/table3 "SMIC_DIR CASME2_DIR [OUT] [train flags...]" "$@"
SMIC_DIR=${DIRS[0]}
CASME2_DIR=${DIRS[1]}

for variant in lfm clfm; do
  $PYTHON -m lfm_tf.preprocess --dataset=smic --data_dir="$SMIC_DIR" --modality=HS \
    --variant=$variant --out_dir="$OUT/tfrecords"
  $PYTHON -m lfm_tf.preprocess --dataset=casme2 --data_dir="$CASME2_DIR" --label_set=paper5 \
    --variant=$variant --out_dir="$OUT/tfrecords"
done
for variant in lfm clfm; do
  for dataset in smic casme2; do
    $PYTHON -m lfm_tf.train --dataset=$dataset --protocol=loso --variant=$variant \
      --tfrecord_dir="$OUT/tfrecords" --workdir="$OUT/${dataset}_$variant" "${TRAIN_FLAGS[@]}"
  done
done
for dataset in smic casme2; do
  for variant in lfm clfm; do
    echo "== $OUT/${dataset}_$variant/report.md"
  done
done
