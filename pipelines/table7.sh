#!/usr/bin/env bash
# Table 7 of Choi & Song (IEEE Access 2020): cross-dataset SMIC-HS <-> CASME II in
# 3 classes (negative, positive, surprise), mean F1 and accuracy, LFM and CLFM,
# no domain adaptation: train on all of one dataset, test on all of the other.
#
#   pipelines/table7.sh SMIC_DIR CASME2_DIR [OUT] [train flags...]
#
# CASME II is preprocessed with the 3-class mapping of the benchmark the paper
# follows (--label_set=cross3: happiness -> positive, surprise -> surprise, disgust,
# sadness, fear -> negative; repression and others dropped; the counts it yields
# are printed by preprocessing and written to its manifest.json). Preprocessing
# writes it to tfrecords/casme2-cross3/, apart from Table 3's 5-class casme2/, and
# cross-dataset training reads CASME II from there.
set -euo pipefail
source "$(dirname "$0")/common.sh"
table_args 2 runs/table7 "SMIC_DIR CASME2_DIR [OUT] [train flags...]" "$@"
SMIC_DIR=${DIRS[0]}
CASME2_DIR=${DIRS[1]}

for variant in lfm clfm; do
  $PYTHON -m lfm_tf.preprocess --dataset=smic --data_dir="$SMIC_DIR" --modality=HS \
    --variant=$variant --out_dir="$OUT/tfrecords"
  $PYTHON -m lfm_tf.preprocess --dataset=casme2 --data_dir="$CASME2_DIR" --label_set=cross3 \
    --variant=$variant --out_dir="$OUT/tfrecords"
done
for variant in lfm clfm; do
  $PYTHON -m lfm_tf.train --dataset=casme2 --target=smic --protocol=cross --variant=$variant \
    --tfrecord_dir="$OUT/tfrecords" --workdir="$OUT/casme2_to_smic_$variant" "${TRAIN_FLAGS[@]}"
  $PYTHON -m lfm_tf.train --dataset=smic --target=casme2 --protocol=cross --variant=$variant \
    --tfrecord_dir="$OUT/tfrecords" --workdir="$OUT/smic_to_casme2_$variant" "${TRAIN_FLAGS[@]}"
  echo "== $OUT/casme2_to_smic_$variant/report.md"
  echo "== $OUT/smic_to_casme2_$variant/report.md"
done
