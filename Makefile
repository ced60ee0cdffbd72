# libllmcore-sandbox: library, CLI, tests.
#
#   make              build the library (shared + static), the CLI
#   make check        run the whole test suite (also under ASan+UBSan)
#   make san          build everything with -fsanitize=address,undefined into build-san/
#   make install      install into $(PREFIX) (library, header, pkg-config, CLI, Python package)
#
# Builtin manifests are generated from container_images/*/capabilities.json.

PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR     ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec
PYTHON     ?= python3
PYTHON_SITEDIR ?= $(shell $(PYTHON) -c 'import site; print(site.getsitepackages()[0])' 2>/dev/null)
DESTDIR    ?=

.DEFAULT_GOAL := all
VERSION    := 0.1.0
SOVERSION  := 0
SAN        ?= 0

ifeq ($(SAN),1)
B          ?= build-san
SANFLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT        := -O1 -g
else
B          ?= build
SANFLAGS   :=
OPT        := -O2 -g
endif

CC         ?= cc
# The libraries linked. libarchive is not one of them: it is loaded with
# dlopen when a tar export or a kept workspace needs it
# (src/util/archive_dl.c), because it brings libxml2, ICU, libstdc++ and
# ~17 more shared libraries into every process at start-up. Only its
# headers are used at build time.
PKGS       := jansson libseccomp libcap sqlite3
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) libarchive 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# dlopen is in libc since glibc 2.34; older ones need -ldl.
DL_LIBS    := $(shell printf '\043include <dlfcn.h>\nint main(void) { return !dlopen("", 0); }\n' | \
                $(CC) -x c -o /dev/null - >/dev/null 2>&1 || echo -ldl)
# The executables link these libraries statically (the .a files of the -dev
# packages) and only libc/libm dynamically: each shared library costs
# start-up time in every process. The shared library libllmcore-sandbox.so
# links them dynamically (it is loaded into Python, among others).
# SAN=1 links the same way: ASan needs a dynamically linked executable
# (libasan loaded first), not dynamic dependencies; the archives are no more
# instrumented than their shared objects were.
EXE_LIBS   := -Wl,-Bstatic $(PKG_LIBS) -Wl,-Bdynamic -lm $(DL_LIBS)
CFLAGS_ALL := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
              -Wno-missing-field-initializers $(OPT) $(SANFLAGS) -fPIC -fvisibility=hidden \
              -Iinclude -Isrc -I$(B)/gen $(PKG_CFLAGS) \
              -DLCS_LIBEXECDIR='"$(LIBEXECDIR)/llmcore-sandbox"' $(CFLAGS)
LDFLAGS_ALL := $(SANFLAGS) $(LDFLAGS)

LIB_SRCS   := $(sort $(wildcard src/util/*.c) $(wildcard src/image/*.c) $(wildcard src/policy/*.c) $(wildcard src/runtime/*.c) $(wildcard src/runtime/docker/*.c) $(wildcard src/session/*.c) $(wildcard src/tools/*.c))
# The native runtime adds its sources here when present.
-include src/runtime/native/native.mk
LIB_SRCS   += $(NATIVE_SRCS)

MANIFESTS  := container_images/base/capabilities.json \
              container_images/specialized/python/capabilities.json \
              container_images/specialized/nodejs/capabilities.json \
              container_images/specialized/shell/capabilities.json \
              container_images/task/research/capabilities.json \
              container_images/task/websearch/capabilities.json

LIB_OBJS0  := $(LIB_SRCS:%.c=$(B)/obj/%.o) $(B)/obj/gen/builtin_manifests.o \
              $(B)/obj/gen/seccomp_profile.o
LIB_OBJS   := $(LIB_OBJS0) $(B)/obj/gen/build_id.o
SHLIB      := $(B)/libllmcore-sandbox.so.$(VERSION)
STLIB      := $(B)/libllmcore-sandbox.a
CLI_SRCS   := $(sort $(wildcard cli/*.c))
CLI_OBJS   := $(CLI_SRCS:%.c=$(B)/obj/%.o)
CLI        := $(B)/llmcore-sandbox
UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)

.PHONY: all san check test install uninstall clean format deps
all: $(SHLIB) $(B)/libllmcore-sandbox.so $(STLIB) $(CLI) $(UNIT_BINS) $(NATIVE_BINS) $(B)/lcs-docker-render $(B)/llmcore-sandbox.pc

san:
	$(MAKE) SAN=1 all

$(B)/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -Wall -Wextra -Werror -O1 -o $@ $<

$(B)/gen/builtin_manifests.c: $(B)/tools/embed $(MANIFESTS)
	@mkdir -p $(dir $@)
	$(B)/tools/embed lcs_builtin_manifests $(MANIFESTS) > $@.tmp && mv $@.tmp $@

$(B)/gen/seccomp_profile.c: $(B)/tools/embed container_images/seccomp.json
	@mkdir -p $(dir $@)
	$(B)/tools/embed lcs_seccomp_default container_images/seccomp.json > $@.tmp && mv $@.tmp $@

# A random id per build of the library (new whenever an object changed):
# warm sandboxes are only ever used by a caller of the same build.
$(B)/gen/build_id.c: $(LIB_OBJS0)
	@mkdir -p $(dir $@)
	printf 'const unsigned long long lcs_build_id = 0x%sULL;\n' \
	  "$$(od -An -N8 -tx8 /dev/urandom | tr -d ' \n')" > $@.tmp && mv $@.tmp $@

$(B)/obj/gen/%.o: $(B)/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(B)/obj/%.o: %.c include/llmcore/sandbox.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)

$(SHLIB): $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,libllmcore-sandbox.so.$(SOVERSION) -Wl,--no-undefined \
	  -o $@ $^ $(LDFLAGS_ALL) $(PKG_LIBS) -lm $(DL_LIBS)

$(B)/libllmcore-sandbox.so: $(SHLIB)
	ln -sf libllmcore-sandbox.so.$(VERSION) $(B)/libllmcore-sandbox.so.$(SOVERSION)
	ln -sf libllmcore-sandbox.so.$(VERSION) $@

$(STLIB): $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

# The command-line tool is linked fully statically: a process start costs
# ~1 ms less than with a dynamic libc (no program interpreter, no
# relocations), which is ~20% of a one-shot run (docs/runtime.md). It cannot
# load libarchive, so it carries archive_dl.c built without dlopen and runs
# tar operations in llmcore-sandbox-archive (util/archive_dl.h). ASan cannot
# run a static executable: the SAN=1 build links it like the others, and so
# tests the in-process libarchive path.
ifeq ($(SAN),1)
$(CLI): $(CLI_OBJS) $(STLIB)
	$(CC) -o $@ $(CLI_OBJS) $(STLIB) $(LDFLAGS_ALL) $(EXE_LIBS)
else
$(B)/obj/static/archive_dl.o: src/util/archive_dl.c src/util/archive_dl.h include/llmcore/sandbox.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -DLCS_ARCHIVE_STATIC -c -o $@ $<

# The one warning of this link is dropped from its output: SQLite's extension
# loader refers to dlopen, which static glibc warns about; that loader is
# never enabled (sqlite3_enable_load_extension is not called).
$(CLI): $(CLI_OBJS) $(B)/obj/static/archive_dl.o $(STLIB)
	@echo "$(CC) -static -o $@ ..."
	@out=$$($(CC) -static -o $@ $(CLI_OBJS) $(B)/obj/static/archive_dl.o $(STLIB) \
	  $(LDFLAGS_ALL) $(PKG_LIBS) -lm 2>&1); rc=$$?; \
	  printf '%s\n' "$$out" | grep -v -e 'in function .unixDlOpen.:$$' \
	    -e "warning: Using 'dlopen' in statically linked" | grep . >&2; exit $$rc
endif

# The Docker backend's renderer, for the tests that run its output on a
# real engine (tests/docker).
$(B)/lcs-docker-render: tests/docker/render_main.c $(STLIB) src/runtime/docker/docker.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(STLIB) $(LDFLAGS_ALL) $(EXE_LIBS)

$(B)/tests/%: tests/unit/%.c $(STLIB) tests/unit/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -DLCS_SOURCE_DIR='"$(CURDIR)"' -o $@ $< $(STLIB) $(LDFLAGS_ALL) $(PKG_LIBS) -lm $(DL_LIBS) -lcmocka

$(B)/llmcore-sandbox.pc: Makefile
	@mkdir -p $(dir $@)
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCLUDEDIR)' '' \
	  'Name: llmcore-sandbox' 'Description: Secure, disposable sandboxes for AI agents' \
	  'Version: $(VERSION)' 'Requires.private: $(PKGS)' 'Libs.private: -lm $(DL_LIBS)' \
	  'Libs: -L$${libdir} -lllmcore-sandbox' 'Cflags: -I$${includedir}' > $@

# The whole suite: unit tests (plain and sanitized), CLI tests, Python tests.
check test: all
	$(MAKE) SAN=1 all
	tests/run-tests.sh

install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/llmcore $(DESTDIR)$(BINDIR) \
	  $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 0755 $(SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf libllmcore-sandbox.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libllmcore-sandbox.so.$(SOVERSION)
	ln -sf libllmcore-sandbox.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libllmcore-sandbox.so
	install -m 0644 $(STLIB) $(DESTDIR)$(LIBDIR)/
	install -m 0644 include/llmcore/sandbox.h $(DESTDIR)$(INCLUDEDIR)/llmcore/
	install -m 0644 $(B)/llmcore-sandbox.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 0755 $(CLI) $(DESTDIR)$(BINDIR)/
	install -d $(DESTDIR)$(LIBEXECDIR)/llmcore-sandbox
	install -m 0755 $(B)/llmcore-sandbox-monitor $(B)/llmcore-sandbox-archive \
	  $(DESTDIR)$(LIBEXECDIR)/llmcore-sandbox/
	-ldconfig 2>/dev/null
	@if [ -n "$(PYTHON_SITEDIR)" ]; then \
	  install -d $(DESTDIR)$(PYTHON_SITEDIR); \
	  cp -r python/llmcore_sandbox python/llmcore $(DESTDIR)$(PYTHON_SITEDIR)/; \
	  find $(DESTDIR)$(PYTHON_SITEDIR)/llmcore_sandbox $(DESTDIR)$(PYTHON_SITEDIR)/llmcore \
	    -name __pycache__ -prune -exec rm -rf {} +; \
	  printf 'LIBRARY = %s\n' "'$(LIBDIR)/libllmcore-sandbox.so.$(SOVERSION)'" \
	    > $(DESTDIR)$(PYTHON_SITEDIR)/llmcore_sandbox/_installed.py; \
	  echo "Python package installed into $(PYTHON_SITEDIR)"; \
	fi

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libllmcore-sandbox.* $(DESTDIR)$(LIBDIR)/pkgconfig/llmcore-sandbox.pc
	rm -f $(DESTDIR)$(INCLUDEDIR)/llmcore/sandbox.h $(DESTDIR)$(BINDIR)/llmcore-sandbox
	rm -f $(DESTDIR)$(LIBEXECDIR)/llmcore-sandbox/llmcore-sandbox-monitor \
	  $(DESTDIR)$(LIBEXECDIR)/llmcore-sandbox/llmcore-sandbox-archive
	rm -rf $(DESTDIR)$(PYTHON_SITEDIR)/llmcore_sandbox $(DESTDIR)$(PYTHON_SITEDIR)/llmcore

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-san
