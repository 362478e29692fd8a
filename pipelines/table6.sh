#!/usr/bin/env bash
# Table 6 of Choi & Song (IEEE Access 2020): the MEGC 2019 composite (SMIC-HS,
# CASME II and SAMM in 3 classes, 442 clips, 68 subjects), leave-one-subject-out,
# UF1 and UAR overall and per source dataset, LFM and CLFM networks.
#
#   pipelines/table6.sh SMIC_DIR CASME2_DIR SAMM_DIR [OUT] [train flags...]
#
# Membership and labels come from the official MEGC 2019 list; each clip keeps its
# source's T (4 for SMIC, 8 for CASME II and SAMM).
set -euo pipefail
source "$(dirname "$0")/common.sh"
table_args 3 runs/table6 "SMIC_DIR CASME2_DIR SAMM_DIR [OUT] [train flags...]" "$@"
SMIC_DIR=${DIRS[0]}
CASME2_DIR=${DIRS[1]}
SAMM_DIR=${DIRS[2]}

for variant in lfm clfm; do
  $PYTHON -m lfm_tf.preprocess --dataset=composite --smic_dir="$SMIC_DIR" \
    --casme2_dir="$CASME2_DIR" --samm_dir="$SAMM_DIR" --variant=$variant \
    --out_dir="$OUT/tfrecords"
  $PYTHON -m lfm_tf.train --dataset=composite --protocol=composite --variant=$variant \
    --tfrecord_dir="$OUT/tfrecords" --workdir="$OUT/composite_$variant" "${TRAIN_FLAGS[@]}"
  echo "== $OUT/composite_$variant/report.md"
done
