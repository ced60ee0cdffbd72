/*
 * clock.c - the monotonic clock, in seconds.
 */
#include "util/clock.h"

#include <time.h>

double lcs_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
