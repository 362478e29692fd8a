#!/usr/bin/env bash
# Table 8 of Choi & Song (IEEE Access 2020): CK+ by expression strength. The
# landmark-map networks (LFM, CLFM) and an image-based FER are trained on CK+
# (FGE) only, subject-independent 10-fold, and tested on FGE, on the
# micro-expressions (FME) synthesized from it and on a 50:50 mix; the adaptive
# framework sends each clip by its SFEM (tau = 0.35) to one of them.
#
#   pipelines/table8.sh CKPLUS_DIR [OUT] [table8 flags...]
#
# CKPLUS_DIR holds cohn-kanade-images/, Emotion/ and Landmarks/; CK+'s own
# landmarks are used. The FME set is synthesized into OUT/CK+_FME, with onsets
# picked automatically or, if ONSETS names a CSV (subject,sequence,onset), by
# hand. Preprocessing stores face crops for the image-based FER (--crops).
# Extra arguments after OUT go to `python -m lfm_tf.table8` (e.g.
# --config.lfm.strategy=mirrored). VARIANTS (default "lfm clfm") picks the
# landmark-map networks; PREPROCESS_FLAGS go to every preprocessing run.
set -euo pipefail
source "$(dirname "$0")/common.sh"
table_args 1 runs/table8 "CKPLUS_DIR [OUT] [table8 flags...]" "$@"
CKPLUS_DIR=${DIRS[0]}
FME_DIR=$OUT/CK+_FME
VARIANTS=${VARIANTS:-lfm clfm}
read -r -a PREPROCESS <<< "${PREPROCESS_FLAGS:-}"

$PYTHON -m lfm_tf.synthesize_fme --data_dir="$CKPLUS_DIR" --out_dir="$FME_DIR" \
  ${ONSETS:+--onsets="$ONSETS"}
for variant in $VARIANTS; do
  common=(--landmarks=provided --crops --variant=$variant --out_dir="$OUT/tfrecords"
          "${PREPROCESS[@]}")
  $PYTHON -m lfm_tf.preprocess --dataset=ckplus_fge --data_dir="$CKPLUS_DIR" "${common[@]}"
  $PYTHON -m lfm_tf.preprocess --dataset=ckplus_fme --data_dir="$FME_DIR" "${common[@]}"
  $PYTHON -m lfm_tf.preprocess --dataset=ckplus_mixed --data_dir="$CKPLUS_DIR" \
    --fme_dir="$FME_DIR" "${common[@]}"
done
variants=$(echo $VARIANTS | tr ' ' ',')
$PYTHON -m lfm_tf.table8 --tfrecord_dir="$OUT/tfrecords" --workdir="$OUT" \
  --config.variants="$variants" "${TRAIN_FLAGS[@]}"
echo "== $OUT/report.md"
