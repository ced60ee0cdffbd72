# native.mk - the native sandbox runtime (included by the top-level Makefile).
#
# NATIVE_SRCS join the library; NATIVE_BINS are built by `make all`.
# lcs-native-run is the small front end used by tests/runtime and
# tests/security (tests/runtime/run-all.sh).

NATIVE_SRCS := $(sort $(wildcard src/runtime/native/*.c))
NATIVE_BINS := $(B)/lcs-native-run

# This file is included before the Makefile defines STLIB: name the archive
# literally so the prerequisite is known when the rule is read.
$(B)/lcs-native-run: tests/runtime/run_main.c $(B)/libllmcore-sandbox.a src/runtime/native/native.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(B)/libllmcore-sandbox.a $(LDFLAGS_ALL) $(PKG_LIBS)
