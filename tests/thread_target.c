/* thread_target.c: placeholder. */
int
main(void)
{
	return 0;
}
