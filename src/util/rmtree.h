/*
 * rmtree.h - removal of a directory tree that never follows a symlink.
 */
#ifndef LCS_UTIL_RMTREE_H
#define LCS_UTIL_RMTREE_H

/* Remove path and everything under it. Entries are unlinked, never resolved,
 * so a symlink planted inside removes only the link; depth is bounded.
 * 0 (also when path does not exist), -1 if anything was left. */
int lcs_rm_tree(const char *path);

/* Remove the entry name of the directory open as parent: a directory with
 * everything under it (as lcs_rm_tree), anything else (a symlink included)
 * unlinked itself. Relative to a descriptor, so a renamed or swapped path
 * above it cannot redirect the removal. 0 (also when it does not exist),
 * -1 if anything was left. */
int lcs_rm_tree_at(int parent, const char *name);

#endif
