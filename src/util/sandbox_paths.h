/*
 * sandbox_paths.h - where things are inside every sandbox, whatever the
 * backend: the user's home, the workspace (the default working directory),
 * the read-only input and the writable output of host directories.
 * String literals, so that they concatenate with others.
 */
#ifndef LCS_UTIL_SANDBOX_PATHS_H
#define LCS_UTIL_SANDBOX_PATHS_H

#define LCS_SANDBOX_HOME "/home/sandbox"
#define LCS_SANDBOX_WORKSPACE LCS_SANDBOX_HOME "/work"
#define LCS_SANDBOX_INPUT LCS_SANDBOX_HOME "/input"
#define LCS_SANDBOX_OUTPUT LCS_SANDBOX_HOME "/output"

#endif
