#!/usr/bin/env bash
# Kept so that crontabs and systemd units written for the old path go on working: the cron job is
# scripts/tools/reindex.sh (same arguments, same exit codes).
exec "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tools/reindex.sh" "$@"
