# guardian: cgroup v2 memory guardian.
#   make            build build/guardian (./guardian is the source directory)
#   make deps       install what a fresh Debian 12 needs (apt-get) and the VM kernel
#   make unit       Criterion unit tests (sanitizer build, seconds, no VM)
#   make vmtest     integration tests on a real kernel in a qemu VM
#   make test       both
#   make install    honours PREFIX, DESTDIR, SBINDIR, MANDIR

PREFIX  ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
DESTDIR ?=

CC      ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS  ?= -O2 -g
WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wundef -Wvla -Wno-unused-parameter
BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE -I. $(WARNINGS) -fstack-protector-strong \
               -D_FORTIFY_SOURCE=2 -fPIE
BASE_LDFLAGS := -pie -Wl,-z,relro,-z,now
SAN_CFLAGS := -std=gnu11 -D_GNU_SOURCE -I. $(WARNINGS) -O1 -g -fno-omit-frame-pointer \
              -fsanitize=address,undefined -fno-sanitize-recover=all
SAN_LDFLAGS := -fsanitize=address,undefined

# Libraries the daemon links; found with pkg-config so a missing -dev
# package fails here with its name instead of deep inside the compiler.
PKGS :=
PKG_CFLAGS := $(if $(PKGS),$(shell $(PKG_CONFIG) --cflags $(PKGS)))
PKG_LIBS   := $(if $(PKGS),$(shell $(PKG_CONFIG) --libs $(PKGS)))

LIB_SRCS  := $(sort $(wildcard cgroup/*.c policy/*.c))
GD_SRCS   := $(sort $(filter-out guardian/main.c,$(wildcard guardian/*.c)))
MAIN_SRC  := guardian/main.c
UNIT_SRCS := $(sort $(wildcard tests/unit/*.c tests/lib/*.c))
HEADERS   := $(wildcard cgroup/*.h policy/*.h guardian/*.h tests/lib/*.h)
HELPERS   := $(patsubst tests/helpers/%.c,build/helpers/%,$(wildcard tests/helpers/*.c))

REL_OBJS  := $(patsubst %.c,build/rel/%.o,$(LIB_SRCS) $(GD_SRCS) $(MAIN_SRC))
SAN_OBJS  := $(patsubst %.c,build/san/%.o,$(LIB_SRCS) $(GD_SRCS))
SAN_MAIN  := build/san/guardian/main.o
UNIT_OBJS := $(patsubst %.c,build/san/%.o,$(UNIT_SRCS))

.PHONY: all deps run vm-kernel unit vmtest test install uninstall clean helpers san

all: build/guardian

build/guardian: $(REL_OBJS)
	$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

build/rel/%.o: %.c $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(PKG_CFLAGS) $(CFLAGS) -c -o $@ $<

build/san/%.o: %.c $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) $(PKG_CFLAGS) $(shell $(PKG_CONFIG) --cflags criterion) -c -o $@ $<

# The sanitizer build of the daemon: what the VM tests run.
build/san/guardian-bin: $(SAN_OBJS) $(SAN_MAIN)
	$(CC) $(SAN_LDFLAGS) -o $@ $^ $(PKG_LIBS)

san: build/san/guardian-bin

build/san/unit-tests: $(SAN_OBJS) $(UNIT_OBJS)
	$(CC) $(SAN_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(shell $(PKG_CONFIG) --libs criterion)

# Small programs the integration tests run inside the VM (memory eaters).
build/helpers/%: tests/helpers/%.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(BASE_LDFLAGS) -o $@ $<

helpers: $(HELPERS)

# These compile project sources into themselves (#include of a .c file).
build/san/tests/unit/test_act.o: guardian/act.c
build/helpers/actrace: guardian/act.c cgroup/proc.c $(HEADERS)

# The main job, as the README's first command runs it after `make deps`:
# the daemon in the foreground with the embedded default policy.
RUN_ARGS ?=
run: build/guardian
	build/guardian run $(RUN_ARGS)

unit: build/san/unit-tests
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		./build/san/unit-tests --jobs 2

vm-kernel:
	tests/vm/fetch-kernel.sh build/vm/kernel

vmtest: build/san/guardian-bin build/guardian helpers vm-kernel
	tests/vm/run-all.sh

test:
	@mkdir -p build
	$(MAKE) unit 2>&1 | tee build/unit.log; test $${PIPESTATUS[0]} -eq 0 || exit 1
	$(MAKE) vmtest 2>&1 | tee build/vm.log; test $${PIPESTATUS[0]} -eq 0 || exit 1
	tests/summary.sh build/unit.log build/vm.log

SHELL := /bin/bash

# Everything a fresh Debian 12 needs to build, test and run the VM tests.
DEB_PACKAGES := build-essential pkg-config libcgroup-dev libseccomp-dev libyaml-dev \
                libcriterion-dev qemu-system-x86 busybox-static cpio kmod python3 \
                procps util-linux xz-utils
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

deps:
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y $(DEB_PACKAGES)
	$(MAKE) vm-kernel

install: build/guardian
	install -d $(DESTDIR)$(SBINDIR)
	install -m 0755 build/guardian $(DESTDIR)$(SBINDIR)/guardian

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/guardian

clean:
	rm -rf build/rel build/san build/helpers build/guardian
