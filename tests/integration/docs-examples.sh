#!/usr/bin/env bash
# The Python and socat examples in docs/protocol.md work as printed.
source "$(dirname "$0")/../lib.sh"
need_root
need_alpine
start_daemon || exit 1
import_alpine
doc=$top_srcdir/docs/protocol.md

extract() { awk -v tag="# example: $1" '/^```/ { if (inblock) { inblock = 0; keep = 0 } else inblock = 1; next } inblock && $0 == tag { keep = 1 } keep' "$doc"; }

extract python >"$TEST_TMP/example.py"
[[ -s $TEST_TMP/example.py ]] && pass "the Python example is in the doc" || fail "the Python example is in the doc"
run=$(python3 "$TEST_TMP/example.py" 2>&1)
is "$?" 0 "the Python example runs"
like "$run" 'daemon [0-9]+\.[0-9]+' "it prints the daemon version"
like "$run" 'hello from python' "the container's output reaches the script's stdout"
like "$run" 'exit code 0' "it reports the exit code"

extract socat >"$TEST_TMP/example.sh"
[[ -s $TEST_TMP/example.sh ]] && pass "the socat example is in the doc" || fail "the socat example is in the doc"
run=$(bash "$TEST_TMP/example.sh" 2>&1)
is "$?" 0 "the socat example runs"
like "$run" '"names":\["alpine:latest"\]' "image.list answers through socat"
like "$run" '"containers":\[' "container.list answers through socat"
done_testing
