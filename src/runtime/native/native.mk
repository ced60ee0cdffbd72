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
	$(CC) $(CFLAGS_ALL) -o $@ $< $(B)/libllmcore-sandbox.a $(LDFLAGS_ALL) $(EXE_LIBS)

# The shipped seccomp profile precompiled to BPF (seccomp_default.c includes
# the generated table). The generator uses the runtime's own compiler, built
# without sanitizers: it only runs at build time.
$(B)/tools/seccomp-bpf-gen: src/runtime/native/gen/seccomp_bpf_gen.c src/runtime/native/seccomp.c \
		src/util/error.c src/util/io.c src/runtime/native/internal.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -Iinclude -Isrc $(PKG_CFLAGS) -o $@ \
	  src/runtime/native/gen/seccomp_bpf_gen.c src/runtime/native/seccomp.c src/util/error.c src/util/io.c $(PKG_LIBS)

$(B)/gen/seccomp_bpf.inc: $(B)/tools/seccomp-bpf-gen container_images/seccomp.json
	@mkdir -p $(dir $@)
	$(B)/tools/seccomp-bpf-gen container_images/seccomp.json > $@.tmp && mv $@.tmp $@

$(B)/obj/src/runtime/native/seccomp_default.o: $(B)/gen/seccomp_bpf.inc


# The session monitor: one detached process per session, exec'ed by
# lcs_session_create() (found next to the library or the CLI, in
# $(LIBEXECDIR)/llmcore-sandbox, or via $LLMCORE_SANDBOX_MONITOR).
NATIVE_BINS += $(B)/llmcore-sandbox-monitor
$(B)/llmcore-sandbox-monitor: src/session/monitor/monitor_main.c $(B)/libllmcore-sandbox.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(B)/libllmcore-sandbox.a $(LDFLAGS_ALL) $(EXE_LIBS)

# Tar operations for the statically linked CLI, which cannot load libarchive
# (util/archive_dl.h); found like the monitor ($LLMCORE_SANDBOX_ARCHIVE).
NATIVE_BINS += $(B)/llmcore-sandbox-archive
$(B)/llmcore-sandbox-archive: src/session/archive/archive_main.c $(B)/libllmcore-sandbox.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(B)/libllmcore-sandbox.a $(LDFLAGS_ALL) $(EXE_LIBS)

# The start-up benchmark's timer and its cgroup-move probe (bench/run.sh).
NATIVE_BINS += $(B)/lcs-bench-pace $(B)/lcs-bench-cgmove
$(B)/lcs-bench-pace: bench/pace.c $(B)/libllmcore-sandbox.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(B)/libllmcore-sandbox.a $(LDFLAGS_ALL) $(EXE_LIBS) -lpthread
$(B)/lcs-bench-cgmove: bench/cgmove.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LDFLAGS_ALL)

# Test/bench driver of the sessions C API (tests/session/run.sh, bench/run.sh).
NATIVE_BINS += $(B)/lcs-session-helper
$(B)/lcs-session-helper: tests/session/helper.c $(B)/libllmcore-sandbox.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(B)/libllmcore-sandbox.a $(LDFLAGS_ALL) $(EXE_LIBS) -lpthread
