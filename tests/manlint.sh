#!/bin/sh
# Every man page passes mandoc -Tlint with no message at all, and every
# function the library exports is named by one.
set -eu
[ "${MANDOC:-no}" != no ] || { echo "mandoc not installed"; exit 77; }
status=0
for page in "$top_srcdir"/man/*.[1-9]; do
	out=$("$MANDOC" -Tlint -W warning "$page" 2>&1) || true
	if [ -n "$out" ]; then
		printf '%s\n' "$out"
		status=1
	fi
done
# Every exported function has a page that names it.
for sym in $(cat "$top_srcdir/tests/exports.txt"); do
	grep -q "^\.Nm $sym\( ,\)\?$" "$top_srcdir"/man/*.3 ||
	    { echo "no man page names $sym"; status=1; }
done
exit $status
