/*
 * clock.h - the monotonic clock, in seconds.
 */
#ifndef LCS_UTIL_CLOCK_H
#define LCS_UTIL_CLOCK_H

/* CLOCK_MONOTONIC as seconds (durations and deadlines, never wall time). */
double lcs_now(void);

#endif
