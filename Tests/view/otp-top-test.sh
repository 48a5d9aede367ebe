#!/usr/bin/env bash
# otp-top, tested as a user runs it: the demo serves its live view, otp-top runs in a real terminal (tmux),
# and the test reads the screen (tmux capture-pane) and presses keys (tmux send-keys).
# Usage: Tests/view/otp-top-test.sh BIN_DIR   (make view-test)
set -euo pipefail
bin=${1:?usage: otp-top-test.sh BIN_DIR}
work=$(mktemp -d)                 # mode 0700: a private directory for the socket
socket=$work/demo.sock
session=otp-top-test-$$
cleanup() {
    tmux kill-session -t "$session" 2>/dev/null || true
    tmux kill-session -t "$session-big" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "otp-top test FAILED: $*"; echo "--- screen:"; cat "$work/screen" 2>/dev/null || true; exit 1; }
pane="$session:top"
screen() { tmux capture-pane -p -t "$pane" > "$work/screen"; }
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
# The loop's load: utilization (the view measures it), messages per second, run queue.
expect_screen "^loop  [0-9]+% [0-9.kM]+/s rq [0-9]+"
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

# r: by message rate (arrivals per second); the busiest are the orders desk, stock and the backlog (25
# orders per 100 ms each): the backlog's rate counts what piles up in its mailbox too.
tmux send-keys -t "$session:top" r
expect_screen "sorted by message rate"
expect_first_row "^<0\.[0-9]+\.[0-9]+> +(orders|stock|backlog) +(server|process) +(Orders|Stock|Backlog) +[a-z]+ +[0-9]+ +[1-9][0-9]+" \
    "sorted by rate, the first row is not a busy process"
expect_screen "backlog +process +Backlog +waiting +[0-9]+ +[1-9][0-9]+ " 

# s: by memory, then q quits with status 0.
tmux send-keys -t "$session:top" s
expect_screen "sorted by memory"
tmux send-keys -t "$session:top" q
expect_screen "^otp-top exited with 0"

# At scale: 10,000 sessions under a dynamic supervisor, watched on an 80x24 terminal. The header and the
# table keep their place; the tree folds to one line per supervisor with its child count.
mkdir -m 700 -p "$work/xdg/swift-otp"
big=$work/xdg/swift-otp/big.sock
tmux new-window -t "$session" -n big \
    "$bin/otp-demo --view --view-socket $big --view-seconds 120 --view-sessions 10000 > $work/big.out 2>&1"
for _ in $(seq 600); do [ -S "$big" ] && break; sleep 0.1; done
[ -S "$big" ] || fail "the 10,000-session demo did not create its socket"
tmux new-session -d -s "$session-big" -x 80 -y 24 "$bin/otp-top --interval 0.5 $big; echo otp-top exited with \$?; sleep 30"
pane="$session-big"
expect_screen "^otp-top  $big  up [0-9]+"
expect_screen "^processes 100[0-9][0-9] "
expect_screen "^PID +NAME +KIND"
expect_screen "^  rows 1-[0-9]+ of 100[0-9][0-9]"
expect_screen "^sessions <0\.[0-9]+\.[0-9]+> supervisor DynamicSupervisor .*\[10000 children"
screen
[ "$(head -1 "$work/screen" | cut -c1-8)" = "otp-top " ] || fail "the header is not on the first line"
[ "$(grep -c "" "$work/screen")" -le 24 ] || fail "more lines than the terminal has"
# Scrolling: a page down, then back to the top.
tmux send-keys -t "$pane" " "
expect_screen "^  rows [1-9][0-9]+-[0-9]+ of 100[0-9][0-9]"
tmux send-keys -t "$pane" g
expect_screen "^  rows 1-[0-9]+ of 100[0-9][0-9]"
# A filter by name: / backlog Enter leaves one row, the backlog; Esc-less clearing with / Enter.
tmux send-keys -t "$pane" / b a c k l o g Enter
expect_screen "filter \"backlog\""
expect_screen "^  rows 1-1 of 1$"
expect_first_row "^<0\.[0-9]+\.[0-9]+> +backlog +process" "filtered by backlog, the row is not the backlog"
tmux send-keys -t "$pane" / Enter
expect_screen "^  rows 1-[0-9]+ of 100[0-9][0-9]"
# i shows the runtime's internal processes, labelled as such (the facade's stand-in, helpers).
tmux send-keys -t "$pane" i
expect_screen "internal shown"
tmux send-keys -t "$pane" q
expect_screen "^otp-top exited with 0"

# --once prints one screen, not one line per process (50 lines when its output is not a terminal).
"$bin/otp-top" --once "$big" > "$work/once"
[ "$(grep -c "" "$work/once")" -le 50 ] || fail "--once printed $(grep -c "" "$work/once") lines"
grep -q "rows 1-" "$work/once" || fail "--once has no table: $(head -5 "$work/once")"

# A stale socket (its node died without closing) is removed, not taken for a second node.
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()" "$work/xdg/swift-otp/dead.sock"
XDG_RUNTIME_DIR=$work/xdg "$bin/otp-top" --once > "$work/default" 2>&1 || fail "otp-top with a stale socket: $(cat "$work/default")"
[ ! -e "$work/xdg/swift-otp/dead.sock" ] || fail "the stale socket was not removed"
grep -q "^otp-top  $big" "$work/default" || fail "otp-top did not pick the live socket: $(head -2 "$work/default")"
echo "otp-top OK: socket 0600 in a 0700 directory, the tree, sorting by mailbox, rate and memory, quit;" \
    "10,000 sessions on 80x24 (header, table, folded tree, scrolling, filter, internal), --once bounded," \
    "a stale socket removed"
