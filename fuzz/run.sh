#!/usr/bin/env bash
# Runs every osb-rs fuzz target for N seconds each, one after the other (one fuzzer process
# at a time), starting from the committed seed corpus in fuzz/seeds/<target>/.
#
#   fuzz/run.sh            # 60 s per target
#   fuzz/run.sh 300        # 300 s per target
#   fuzz/run.sh 30 context api_version   # only these targets
#
# Works on a stable toolchain: cargo-fuzz needs nightly-only rustc flags (-Zsanitizer), so
# RUSTC_BOOTSTRAP=1 is set. Installs cargo-fuzz if it is missing. Crashes land in
# fuzz/artifacts/<target>/, the grown corpus in fuzz/corpus/<target>/ (both git-ignored).
# Summary (executions and crashes per target) is printed at the end and kept in
# fuzz/target/run-summary.txt; full logs in fuzz/target/logs/<target>.log.
set -uo pipefail

SECS="${1:-60}"
shift || true
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
NICE="${NICE:-nice -n 19}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

if [ "$#" -gt 0 ]; then
    TARGETS=("$@")
else
    mapfile -t TARGETS < <(cargo fuzz list)
fi

mkdir -p target/logs
SUMMARY=target/run-summary.txt
printf '%-22s %14s %8s\n' target executions crashes >"$SUMMARY"
status=0
for t in "${TARGETS[@]}"; do
    echo "==> $t (${SECS}s)"
    mkdir -p "corpus/$t" "artifacts/$t"
    seeds=()
    [ -d "seeds/$t" ] && seeds=("seeds/$t")
    dict=()
    case "$t" in
        catalog|provision_request|update_request|bind_request|responses|context) dict=(-dict=json.dict) ;;
    esac
    log="target/logs/$t.log"
    before=$(find "artifacts/$t" -type f | wc -l)
    $NICE cargo fuzz run "$t" "corpus/$t" "${seeds[@]}" -- \
        -max_total_time="$SECS" -jobs=1 -workers=1 -print_final_stats=1 \
        -timeout=10 -rss_limit_mb=2048 "${dict[@]}" >"$log" 2>&1
    rc=$?
    # -jobs=1 runs one worker whose own log libFuzzer writes to ./fuzz-0.log (and echoes
    # into ours at the end): keep it with the logs instead of in the source tree.
    [ -f fuzz-0.log ] && mv fuzz-0.log "target/logs/$t.worker.log"
    after=$(find "artifacts/$t" -type f | wc -l)
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
    [ -z "$execs" ] && execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
    crashes=$((after - before))
    if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes="rc=$rc"; fi
    [ "$rc" -ne 0 ] && status=1
    printf '%-22s %14s %8s\n' "$t" "${execs:-?}" "$crashes" | tee -a "$SUMMARY"
done
echo
cat "$SUMMARY"
exit "$status"
