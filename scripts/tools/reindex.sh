#!/usr/bin/env bash
# Periodic reindex, for cron or a systemd timer.
#   scripts/tools/reindex.sh [CORPUS] [extra reportsearch index flags, e.g. --full or --dry-run]
# Finds the project's venv, appends to a size-rotated log, and exits with the indexer's code:
#   0 all good · 1 some files failed (listed in the index folder's index-report.txt) · 2 the run failed,
#   nothing was published (the previous index keeps serving) or another run holds the lock.
# It prints (cron mails) only on a non-zero exit, or when the run repaired a damaged index (REPAIRED: lines).
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"  # the checkout
VENV="${REPORTSEARCH_VENV:-$HERE/.venv}"
BIN="$VENV/bin/reportsearch"
LOG_DIR="${REPORTSEARCH_LOG_DIR:-$HERE/var/log}"
LOG="$LOG_DIR/reindex.log"
MAX_LOG_BYTES="${REPORTSEARCH_LOG_MAX_BYTES:-5242880}"  # rotate at 5 MiB, keep 5 old logs
KEEP_LOGS=5

if [ ! -x "$BIN" ]; then
  echo "reindex: $BIN not found; run 'make install' in $HERE first (or set REPORTSEARCH_VENV)" >&2
  exit 2
fi
mkdir -p "$LOG_DIR"
if [ -f "$LOG" ] && [ "$(stat -c %s "$LOG")" -ge "$MAX_LOG_BYTES" ]; then
  for i in $(seq $((KEEP_LOGS - 1)) -1 1); do
    [ -f "$LOG.$i" ] && mv -f "$LOG.$i" "$LOG.$((i + 1))"
  done
  mv -f "$LOG" "$LOG.1"
fi

cd "$HERE"
CORPUS="${1:-${REPORTSEARCH_CORPUS_DIR:-corpora}}"
[ $# -gt 0 ] && shift
START=$(stat -c %s "$LOG" 2>/dev/null || echo 0)
(
  echo "=== $(date '+%Y-%m-%d %H:%M:%S') reindex $CORPUS $*"
  "$BIN" index "$CORPUS" --no-progress "$@"
  code=$?
  echo "=== exit $code"
  exit $code
) >>"$LOG" 2>&1
code=$?
# Cron mails what a job prints: say something only when it is worth reading.
if [ $code -ne 0 ]; then
  echo "reindex exited $code; see $LOG" >&2
  tail -n 20 "$LOG" >&2
elif tail -c +$((START + 1)) "$LOG" | grep -q '^REPAIRED: '; then
  # The run succeeded, but it found the index or the embedding cache damaged and repaired it: worth a mail.
  echo "reindex repaired a damaged index (exit 0); see $LOG" >&2
  tail -c +$((START + 1)) "$LOG" | grep '^REPAIRED: ' >&2
fi
exit $code
