#!/usr/bin/env bash
# otp-top, tested as a user runs it: the demo serves its live view, otp-top runs in a real terminal (tmux),
# and the test reads the screen (tmux capture-pane) and presses keys (tmux send-keys).
# Usage: Tests/view/otp-top-test.sh BIN_DIR   (make view-test)
set -euo pipefail
bin=${1:?usage: otp-top-test.sh BIN_DIR}
work=$(mktemp -d)                 # mode 0700: a private directory for the socket
socket=$work/demo.sock
session=otp-top-test-$$
cleanup() { tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

fail() { echo "otp-top test FAILED: $*"; echo "--- screen:"; cat "$work/screen" 2>/dev/null || true; exit 1; }
screen() { tmux capture-pane -p -t "$session:top" > "$work/screen"; }
# Waits until the screen shows $1 (a grep -E pattern), for at most 15 s.
expect_screen() {
    for _ in $(seq 150); do
        screen
        if grep -Eq -- "$1" "$work/screen"; then return 0; fi
        sleep 0.1
    done
    fail "the screen never showed: $1"
}

tmux new-session -d -s "$session" -n demo -x 160 -y 50 \
    "$bin/otp-demo --view --view-socket $socket --view-seconds 60 > $work/demo.out 2>&1"
for _ in $(seq 150); do [ -S "$socket" ] && break; sleep 0.1; done
[ -S "$socket" ] || fail "the demo did not create its socket"

# Only the node's own user: socket 0600, directory 0700.
[ "$(stat -c %a "$socket")" = 600 ] || fail "socket mode is $(stat -c %a "$socket"), expected 600"
[ "$(stat -c %a "$work")" = 700 ] || fail "directory mode is $(stat -c %a "$work"), expected 700"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    # Another user (nobody) cannot connect: the directory keeps it out.
    if setpriv --reuid=65534 --regid=65534 --clear-groups "$bin/otp-top" --once "$socket" > "$work/other" 2>&1; then
        fail "another user could read the view"
    fi
    grep -q "Permission denied" "$work/other" || fail "another user: $(cat "$work/other")"
fi

tmux new-window -t "$session" -n top "$bin/otp-top --interval 0.5 $socket; echo otp-top exited with \$?; sleep 30"
expect_screen "^otp-top  $socket"
expect_screen "sorted by mailbox length"
# The supervision tree of the demo's shop, as the user sees it.
expect_screen "^shop <0\.[0-9]+\.[0-9]+> supervisor Supervisor"
expect_screen "^├─ orders <0\.[0-9]+\.[0-9]+> server Orders"
expect_screen "^└─ couriers <0\.[0-9]+\.[0-9]+> supervisor Supervisor"
expect_screen "^   └─ courier-2 <0\.[0-9]+\.[0-9]+> server Courier"
# Sorted by mailbox: the backlog (its orders pile up) is the first row, with a mailbox that grows.
expect_screen "^PID +NAME +KIND"
first_row() { screen; grep -A1 -E "^PID +NAME" "$work/screen" | tail -1; }
# Waits until the first row matches $1, for at most 10 s.
expect_first_row() {
    for _ in $(seq 100); do
        if first_row | grep -Eq -- "$1"; then return 0; fi
        sleep 0.1
    done
    fail "$2: $(first_row)"
}
expect_first_row "^<0\.[0-9]+\.[0-9]+> +backlog +process +Backlog +waiting +[1-9][0-9]*" \
    "sorted by mailbox, the first row is not the backlog"
mailbox() { first_row | awk '{print $6}'; }
before=$(mailbox); sleep 1.5; after=$(mailbox)
[ "$after" -gt "$before" ] || fail "the backlog's mailbox did not grow ($before, then $after)"

# r: by message rate; the busiest process is then the orders desk or stock (25 orders per 100 ms each).
tmux send-keys -t "$session:top" r
expect_screen "sorted by message rate"
expect_first_row "^<0\.[0-9]+\.[0-9]+> +(orders|stock) +server +(Orders|Stock) +[a-z]+ +[0-9]+ +[1-9][0-9]+" \
    "sorted by rate, the first row is not a busy server"

# s: by memory, then q quits with status 0.
tmux send-keys -t "$session:top" s
expect_screen "sorted by memory"
tmux send-keys -t "$session:top" q
expect_screen "^otp-top exited with 0"
echo "otp-top OK: socket 0600 in a 0700 directory, the tree, sorting by mailbox, rate and memory, quit"
