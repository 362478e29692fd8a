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
# are printed by preprocessing and written to its manifest.json). It goes to its
# own folder, apart from the 5-class TFRecords of Table 3.
set -euo pipefail
if [[ $# -lt 2 ]]; then
  echo "usage: $0 SMIC_DIR CASME2_DIR [OUT] [train flags...]" >&2
  exit 2
fi
SMIC_DIR=$1
CASME2_DIR=$2
OUT=${3:-runs/table7}
shift $(( $# < 3 ? $# : 3 ))
PYTHON=${PYTHON:-python}

for variant in lfm clfm; do
  $PYTHON -m lfm_tf.preprocess --dataset=smic --data_dir="$SMIC_DIR" --modality=HS \
    --variant=$variant --out_dir="$OUT/tfrecords"
  $PYTHON -m lfm_tf.preprocess --dataset=casme2 --data_dir="$CASME2_DIR" --label_set=cross3 \
    --variant=$variant --out_dir="$OUT/tfrecords_cross3"
done
for variant in lfm clfm; do
  $PYTHON -m lfm_tf.train --dataset=casme2 --target=smic --protocol=cross --variant=$variant \
    --tfrecord_dir="$OUT/tfrecords_cross3" --target_tfrecord_dir="$OUT/tfrecords" \
    --workdir="$OUT/casme2_to_smic_$variant" "$@"
  $PYTHON -m lfm_tf.train --dataset=smic --target=casme2 --protocol=cross --variant=$variant \
    --tfrecord_dir="$OUT/tfrecords" --target_tfrecord_dir="$OUT/tfrecords_cross3" \
    --workdir="$OUT/smic_to_casme2_$variant" "$@"
  echo "== $OUT/casme2_to_smic_$variant/report.md"
  echo "== $OUT/smic_to_casme2_$variant/report.md"
done
