# Sourced by the table scripts: `table_args N DEFAULT_OUT USAGE "$@"` takes N dataset
# folders, then an optional output folder, then flags for every training run, and
# sets DIRS (array), OUT, TRAIN_FLAGS (array) and PYTHON.
table_args() {
  local n=$1 default_out=$2 usage=$3
  shift 3
  if [[ $# -lt $n ]]; then
    echo "usage: $0 $usage" >&2
    exit 2
  fi
  DIRS=("${@:1:n}")
  OUT=${*:n+1:1}
  OUT=${OUT:-$default_out}
  TRAIN_FLAGS=("${@:n+2}")
  PYTHON=${PYTHON:-python}
}
