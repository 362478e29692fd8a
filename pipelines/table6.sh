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
if [[ $# -lt 3 ]]; then
  echo "usage: $0 SMIC_DIR CASME2_DIR SAMM_DIR [OUT] [train flags...]" >&2
  exit 2
fi
SMIC_DIR=$1
CASME2_DIR=$2
SAMM_DIR=$3
OUT=${4:-runs/table6}
shift $(( $# < 4 ? $# : 4 ))
PYTHON=${PYTHON:-python}

for variant in lfm clfm; do
  $PYTHON -m lfm_tf.preprocess --dataset=composite --smic_dir="$SMIC_DIR" \
    --casme2_dir="$CASME2_DIR" --samm_dir="$SAMM_DIR" --variant=$variant \
    --out_dir="$OUT/tfrecords"
  $PYTHON -m lfm_tf.train --dataset=composite --protocol=composite --variant=$variant \
    --tfrecord_dir="$OUT/tfrecords" --workdir="$OUT/composite_$variant" "$@"
  echo "== $OUT/composite_$variant/report.md"
done
