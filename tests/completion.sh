#!/bin/sh
# completion/memwalk, sourced in bash as bash-completion would: for each
# command line, the words COMPREPLY offers. Cases: command names, the
# options of a command, PIDs and names of processes this test starts
# (one named to run a command if a word list expanded it), --color=
# values in each way bash splits them, file names for diff and --svg,
# nothing after --interval, --count and where's PID.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
. "$top_srcdir/completion/memwalk" || { echo "FAIL: cannot source"; exit 1; }

passed=0 failed=0
tmp=$(mktemp -d)
cd "$tmp" || exit 1
cleanup() {
	kill $pids 2>/dev/null
	wait 2>/dev/null
	cd / && rm -rf "$tmp"
}
trap cleanup EXIT

# complete WORD... : COMPREPLY for the words, the cursor at the last.
complete_words() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_memwalk memwalk "${COMP_WORDS[COMP_CWORD]}" \
	    "${COMP_WORDS[COMP_CWORD - 1]}"
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
	got=${got% }
}

result() {
	if [ "$1" = ok ]; then
		passed=$((passed + 1))
		echo "ok   $2"
	else
		failed=$((failed + 1))
		echo "FAIL $2: got '$got'"
	fi
}

# expect "WORDS" "SORTED REPLIES": exactly these.
expect() {
	local want=$2
	read -r -a words <<<"$1"
	[[ $1 == *" " ]] && words+=("")
	complete_words "${words[@]}"
	[ "$got" = "$want" ] && result ok "'$1' -> '$want'" ||
	    result fail "'$1' -> '$want'"
}

# has "WORDS" REPLY... : these among the replies (others may be there).
has() {
	local line=$1 w
	shift
	read -r -a words <<<"$line"
	[[ $line == *" " ]] && words+=("")
	complete_words "${words[@]}"
	for w in "$@"; do
		printf '%s\n' "${COMPREPLY[@]}" | grep -qxF -- "$w" ||
		    { result fail "'$line' has '$w'"; return; }
	done
	result ok "'$line' has $*"
}

# only_prefixed "WORDS" PREFIX: every reply starts with PREFIX.
only_prefixed() {
	read -r -a words <<<"$1"
	complete_words "${words[@]}"
	for w in "${COMPREPLY[@]}"; do
		[[ $w == "$2"* ]] || { result fail "'$1' only $2*"; return; }
	done
	result ok "'$1' only $2*"
}

complete -p memwalk | grep -q -- '-F _memwalk memwalk$' &&
    result ok "complete -p memwalk" || result fail "complete -p memwalk"

# Commands.
has "memwalk " where py arenas stack snap diff watch layout
has "memwalk wh" where
only_prefixed "memwalk wh" wh
has "memwalk --json " where layout
expect "memwalk where 1 --stop " ""

# Options of a command.
expect "memwalk watch --" "--color= --count --interval --json"
expect "memwalk stack --no" "--no-stop"
expect "memwalk layout --" "--color= --json --svg"
expect "memwalk snap -" ""
expect "memwalk diff --" "--color= --json"
has "memwalk -" -x --objects --totals --stop --color= --help --version
expect "memwalk 1 --objects --t" "--totals"
expect "memwalk -- -" ""

# --color values, whichever way the word is split.
expect "memwalk --color=" "--color=always --color=auto --color=never"
expect "memwalk layout --color=al" "--color=always"
expect "memwalk layout --color = " "always auto never"
expect "memwalk py --color = n" "never"
expect "memwalk watch --color a" "always auto"
has "memwalk --color=never " where

# Options that take a number: nothing to offer.
expect "memwalk watch --interval " ""
expect "memwalk watch --count = " ""
expect "memwalk watch --count=" ""

# PIDs and process names of processes started here.
ln -s "$(command -v sleep)" mwcomp-sleep
ln -s "$(command -v sleep)" 'mw$(touch X)'
./mwcomp-sleep 60 &
pid1=$!
./'mw$(touch X)' 60 &
pid2=$!
pids="$pid1 $pid2"
for _ in $(seq 100); do		# until both have exec'ed
	[ "$(cat /proc/$pid1/comm /proc/$pid2/comm 2>/dev/null)" = \
	    "mwcomp-sleep
mw\$(touch X)" ] && break
	sleep 0.05
done
has "memwalk stack ${pid1%?}" "$pid1"
only_prefixed "memwalk stack ${pid1%?}" "${pid1%?}"
has "memwalk " "$pid1" "$pid2" mwcomp-sleep
has "memwalk where mwcomp" mwcomp-sleep
has "memwalk py mw" mwcomp-sleep 'mw\$\(touch\ X\)'
has "memwalk layout --svg x.svg mwc" mwcomp-sleep
expect "memwalk where $pid1 " ""
expect "memwalk where $pid1 0x1 " ""
expect "memwalk snap $pid1 " ""
[ ! -e X ] && result ok "a process name is not run" ||
    result fail "a process name is not run"

# File names.
touch snap-a.json snap-b.json
mkdir svgdir
expect "memwalk diff snap-" "snap-a.json snap-b.json"
expect "memwalk diff snap-a.json snap-" "snap-a.json snap-b.json"
expect "memwalk diff snap-a.json snap-b.json " ""
expect "memwalk layout --svg svg" "svgdir"
expect "memwalk layout --svg = snap-b" "snap-b.json"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
