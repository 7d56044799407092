#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check-tutorial.sh RST DIR: every code block of RST that follows a comment
# line ".. excerpt: FILE" must be a run of whole lines of DIR/FILE (tabs
# shown as 8 columns, the block indented by 3 spaces), so that the
# tutorial quotes the examples as they are.  Prints each excerpt that is
# not and exits 1.
set -eu

[ $# -eq 2 ] || { echo "usage: $0 RST DIR" >&2; exit 2; }

exec awk -v dir="$2" '
function fail(msg) {
	printf "%s:%d: %s\n", FILENAME, start, msg > "/dev/stderr"
	bad = 1
}

function check(   src, line, cmd, n) {
	if (file == "")
		return
	cmd = "expand -t 8 \"" dir "/" file "\""
	src = "\n"
	while ((n = (cmd | getline line)) > 0)
		src = src line "\n"
	close(cmd)
	if (n < 0 || src == "\n")
		fail("cannot read " dir "/" file)
	else if (block == "")
		fail("no code block after the excerpt comment")
	else if (!index(src, "\n" block))
		fail("the excerpt of " file " differs from the source")
	file = ""
}

# The excerpt comment names the file; the code block after it holds the lines.
/^\.\. excerpt: / {
	check()
	file = $3
	start = FNR
	block = ""
	state = "directive"
	next
}
state == "directive" && /^\.\. code-block::/ { state = "options"; next }
state == "options" && /^   :/ { next }
state == "options" && /^$/ { state = "body"; blanks = ""; next }
state == "body" && /^$/ { blanks = blanks "\n"; next }
state == "body" && /^   / {
	block = block blanks substr($0, 4) "\n"
	blanks = ""
	next
}
state == "body" { check(); state = "" }
END {
	if (state == "body")
		check()
	else if (file != "")
		fail("no code block after the excerpt comment")
	exit bad
}
' "$1"
