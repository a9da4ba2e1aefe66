/* check_glibc.c: placeholder until the suite lands. */
#include "mwi.h"
#include "tutil.h"

int
main(void)
{
	return 77;
}
