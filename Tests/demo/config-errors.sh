#!/usr/bin/env bash
# `make demo-test`: configuration errors end otp-demo with one clear line on standard error and status 1
# (no backtrace), and the cookie is never printed, neither in the banner nor in an error.
set -uo pipefail
demo="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "demo-test: $*"; exit 1; }

# A cookie file others can read (Erlang refuses it too).
mkdir -p "$work/home"
echo "SECRET-COOKIE-$$" > "$work/home/.erlang.cookie"
chmod 644 "$work/home/.erlang.cookie"
HOME="$work/home" ERLANG_COOKIE= "$demo" --node "cfg_$$@localhost" > "$work/out" 2> "$work/err"
status=$?
[ $status -eq 1 ] || fail "insecure cookie file: status $status, expected 1"
last=$(tail -n 1 "$work/err")
case "$last" in
  "otp-demo: cookie file $work/home/.erlang.cookie has mode 644: it must be readable by its owner only (chmod 400)") ;;
  *) fail "insecure cookie file: last line was: $last" ;;
esac
grep -q "Backtracing\|Fatal error" "$work/err" && fail "insecure cookie file: a backtrace was printed"
grep -q "SECRET-COOKIE" "$work/out" "$work/err" && fail "the cookie was printed"

# A node name that is not name@host.
"$demo" --node "not a name" > "$work/out" 2> "$work/err"
status=$?
[ $status -eq 1 ] || fail "bad node name: status $status, expected 1"
[ "$(tail -n 1 "$work/err")" = "otp-demo: invalid node name 'not a name': expected name@host" ] \
  || fail "bad node name: last line was: $(tail -n 1 "$work/err")"

# A cookie given on the command line is not printed in the banner.
"$demo" --node "cfgok_$$@localhost" --cookie "SECRET-COOKIE-$$" --node-seconds 1 > "$work/out" 2> "$work/err"
status=$?
[ $status -eq 0 ] || fail "a node that joins: status $status; $(tail -n 3 "$work/err")"
grep -q "is in the cluster" "$work/out" || fail "no banner"
grep -q "SECRET-COOKIE" "$work/out" "$work/err" && fail "the cookie was printed in the banner"
echo "demo-test OK: configuration errors are one line and status 1; the cookie is never printed"
