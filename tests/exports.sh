#!/bin/sh
# The shared libmemwalk exports exactly the public API: the dynamic
# symbols it defines (nm -D) equal tests/exports.txt, and every one of
# them is declared in memwalk.h.
set -eu
so=$top_builddir/lib/.libs/libmemwalk.so
[ -f "$so" ] || { echo "no $so (shared library disabled?)"; exit 77; }
got=$(${NM:-nm} -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' |
    sed 's/@.*//' | sort -u)
want=$(sort -u "$top_srcdir/tests/exports.txt")
if [ "$got" != "$want" ]; then
	echo "exported symbols differ from tests/exports.txt:"
	printf '%s\n' "$want" > exports.want.tmp
	printf '%s\n' "$got" > exports.got.tmp
	diff -u exports.want.tmp exports.got.tmp || true
	rm -f exports.want.tmp exports.got.tmp
	exit 1
fi
for sym in $want; do
	grep -Eq "(^|[^a-z_])$sym\(" "$top_srcdir/lib/memwalk.h" ||
	    { echo "$sym is exported but not declared in memwalk.h"; exit 1; }
done
echo "$(printf '%s\n' "$got" | wc -l) symbols exported, as listed"
