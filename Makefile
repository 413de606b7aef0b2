# guardian: cgroup v2 memory guardian.
#   make            build build/guardian (./guardian is the source directory)
#   make deps       install what a fresh Debian 12 needs (apt-get) and the VM kernel
#   make unit       Criterion unit tests (sanitizer build, seconds, no VM)
#   make vmtest     integration tests on a real kernel in a qemu VM
#   make test       unit tests, a 20 s fuzz run, the host test, the deploy checks,
#                   the VM tests
#   make install    honours PREFIX, DESTDIR, SBINDIR, MANDIR, UNITDIR

PREFIX  ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
# systemd reads /usr/local/lib/systemd/system too; packagers: PREFIX=/usr
# UNITDIR=/lib/systemd/system.
UNITDIR ?= $(PREFIX)/lib/systemd/system
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
              -fsanitize=address,undefined -fno-sanitize-recover=all \
              -DGD_TEST_HOOKS
# GD_TEST_HOOKS: test-only environment hooks (daemon/sandbox.c), in the
# sanitizer build the tests run, never in build/guardian.
SAN_LDFLAGS := -fsanitize=address,undefined

# Libraries the daemon links; found with pkg-config so a missing -dev
# package fails here with its name instead of deep inside the compiler.
PKGS := libcgroup yaml-0.1 libseccomp
PKG_CFLAGS := $(if $(PKGS),$(shell $(PKG_CONFIG) --cflags $(PKGS)))
PKG_LIBS   := $(if $(PKGS),$(shell $(PKG_CONFIG) --libs $(PKGS)))

# The rooms of the pipeline, lowest first (README.md, "Layout"; the include
# order is checked by tests/lint/includes.py).
ROOMS     := util cgroup proc policy watch decide act record hookrunner daemon cli
GD_SRCS   := $(sort $(filter-out cli/main.c,$(foreach r,$(ROOMS),$(wildcard $(r)/*.c))))
MAIN_SRC  := cli/main.c
UNIT_SRCS := $(sort $(wildcard tests/unit/*.c tests/lib/*.c))
HEADERS   := $(foreach r,$(ROOMS),$(wildcard $(r)/*.h)) $(wildcard tests/lib/*.h)
HELPERS   := $(patsubst tests/helpers/%.c,build/helpers/%,$(wildcard tests/helpers/*.c))

REL_OBJS  := $(patsubst %.c,build/rel/%.o,$(GD_SRCS) $(MAIN_SRC))
SAN_OBJS  := $(patsubst %.c,build/san/%.o,$(GD_SRCS))
SAN_MAIN  := build/san/cli/main.o
UNIT_OBJS := $(patsubst %.c,build/san/%.o,$(UNIT_SRCS))

.PHONY: all deps run vm-kernel unit lint vmtest test install uninstall clean helpers san

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

# The same eater linked statically: the one program, beside busybox, of the
# root file systems tests/vm/systemd/test_30_runtimes.py imports as images.
build/helpers/memeater-static: tests/helpers/memeater.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -static -Wl,-z,relro,-z,now -o $@ $<

helpers: $(HELPERS) build/helpers/memeater-static

# These compile project sources into themselves (#include of a .c file).
build/san/tests/unit/test_act.o: act/act.c
build/helpers/actrace: act/act.c cgroup/cgns.c cgroup/parse.c proc/proc.c proc/parse.c util/oomadj.c util/text.c $(HEADERS)

# The main job, as the README's first command runs it after `make deps`:
# the daemon in the foreground with the embedded default policy.
RUN_ARGS ?=
run: build/guardian
	build/guardian run $(RUN_ARGS)

unit: build/san/unit-tests
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		./build/san/unit-tests --jobs 2

# Includes point down the pipeline only (README "Layout").
lint:
	python3 tests/lint/includes.py

vm-kernel:
	tests/vm/fetch-kernel.sh build/vm/kernel

# The systemd boot installs the package and builds the image (FROM scratch).
vmtest: build/san/guardian-bin build/guardian helpers vm-kernel $(DEB) build/guardian-static
	tests/vm/run-all.sh

test:
	@mkdir -p build
	$(MAKE) lint 2>&1 | tee build/lint.log; test $${PIPESTATUS[0]} -eq 0 || exit 1
	$(MAKE) unit 2>&1 | tee build/unit.log; test $${PIPESTATUS[0]} -eq 0 || exit 1
	$(MAKE) fuzz-ci
	$(MAKE) hosttest 2>&1 | tee build/host.log; test $${PIPESTATUS[0]} -eq 0 || exit 1
	$(MAKE) deploytest 2>&1 | tee build/deploy.log; test $${PIPESTATUS[0]} -eq 0 || exit 1
	$(MAKE) vmtest 2>&1 | tee build/vm.log; test $${PIPESTATUS[0]} -eq 0 || exit 1
	tests/summary.sh build/unit.log build/host.log build/vm.log build/deploy.log build/lint.log

SHELL := /bin/bash

# Everything a fresh Debian 12 needs to build, test and run the VM tests.
DEB_PACKAGES := build-essential pkg-config libcgroup-dev libseccomp-dev libyaml-dev \
                libcriterion-dev qemu-system-x86 busybox-static cpio kmod python3 \
                procps util-linux xz-utils clang libclang-rt-14-dev \
                stress-ng mariadb-server-core mariadb-client-core \
                systemd nodejs \
                debhelper dpkg-dev fakeroot lintian python3-yaml \
                podman crun conmon catatonit docker.io containerd runc
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

deps:
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y $(DEB_PACKAGES)
	$(MAKE) vm-kernel
	$(MAKE) deploy-deps

# The Kubernetes schema check's node modules, pinned by tests/deploy/
# package-lock.json. Debian's nodejs comes without npm; a nodejs that
# bundles npm (NodeSource's) conflicts with Debian's npm package.
.PHONY: deploy-deps deploytest
deploy-deps:
	command -v npm >/dev/null || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y npm
	cd tests/deploy && npm ci --no-audit --no-fund

# deploy/ checked on this host in seconds: systemd-analyze verify, the
# Kubernetes manifests against the API schemas, the Containerfile.
deploytest: build/guardian
	tests/deploy/run.sh

# The Debian package (debian/, README "Deploy"): dpkg-buildpackage -us -uc -b
# on a copy of the tree in build/deb/src, so that the .deb, .buildinfo and
# .changes land in build/deb/ and nothing in the tree's parent directory.
DEB_VERSION := $(shell dpkg-parsechangelog -l debian/changelog -S Version 2>/dev/null)
DEB_ARCH    := $(shell dpkg-architecture -qDEB_HOST_ARCH 2>/dev/null)
DEB         := build/deb/guardian_$(DEB_VERSION)_$(DEB_ARCH).deb
.PHONY: deb lintian
deb: $(DEB)

$(DEB): $(GD_SRCS) $(MAIN_SRC) $(HEADERS) Makefile $(wildcard debian/* debian/source/*) \
        $(wildcard deploy/systemd/* deploy/man/* examples/*.yaml) README.md
	@command -v dpkg-buildpackage >/dev/null || { echo "deb: no dpkg-buildpackage: make deps" >&2; exit 1; }
	rm -rf build/deb && mkdir -p build/deb/src
	tar --exclude=./build --exclude=./.git --exclude=./tests/deploy/node_modules \
	    --exclude=__pycache__ --exclude='*.o' -cf - . | tar -C build/deb/src -xf -
	cd build/deb/src && dpkg-buildpackage -us -uc -b
	test -s $@

# lintian on the package: any error fails (warnings are printed).
lintian: $(DEB)
	lintian --fail-on error --display-info $(DEB:.deb=.changes)

# build/guardian linked statically (static-pie; Debian ships libcgroup.a,
# libseccomp.a and libyaml.a): what the container image FROM scratch holds.
.PHONY: static
static: build/guardian-static

build/guardian-static: $(REL_OBJS)
	$(CC) -static-pie -Wl,-z,relro,-z,now $(LDFLAGS) -o $@ $^ \
		$(shell $(PKG_CONFIG) --static --libs $(PKGS)) 2> $@.warnings || \
		{ cat $@.warnings >&2; exit 1; }
	@# glibc warns that libcgroup's getpwnam & co need its shared NSS
	@# modules at run time: guardian never calls those paths.
	@! grep -v -e "requires at runtime the shared libraries" -e "in function" $@.warnings >&2

install: build/guardian
	install -d $(DESTDIR)$(SBINDIR)
	install -m 0755 build/guardian $(DESTDIR)$(SBINDIR)/guardian
	install -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5
	install -m 0644 deploy/man/guardian.8 $(DESTDIR)$(MANDIR)/man8/guardian.8
	install -m 0644 deploy/man/guardian.yaml.5 $(DESTDIR)$(MANDIR)/man5/guardian.yaml.5
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/sbin/guardian|$(SBINDIR)/guardian|' deploy/systemd/guardian.service \
		> $(DESTDIR)$(UNITDIR)/guardian.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/guardian.service
	install -m 0644 deploy/systemd/guardian.slice $(DESTDIR)$(UNITDIR)/guardian.slice

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/guardian
	rm -f $(DESTDIR)$(MANDIR)/man8/guardian.8 $(DESTDIR)$(MANDIR)/man5/guardian.yaml.5
	rm -f $(DESTDIR)$(UNITDIR)/guardian.service $(DESTDIR)$(UNITDIR)/guardian.slice

clean:
	rm -rf build/rel build/san build/helpers build/guardian build/bench/cpu_bench

# Benchmarks (not part of `make test` or CI): guardian against the kernel's
# OOM killer alone, earlyoom and oomd, in the test VM. About 11 minutes;
# results in build/bench/results.txt. See README.md, "Benchmarks".
BENCH_PACKAGES := earlyoom oomd
.PHONY: bench bench-deps
bench-deps:
	@missing=$$(for p in $(BENCH_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "bench-deps: installing $$missing"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing || \
		{ $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
		  apt-get install -y --no-install-recommends $$missing; }; \
	fi

bench: bench-deps build/guardian helpers vm-kernel build/bench/cpu_bench
	tests/bench/run.sh

# Instructions of guardian's steady-state paths (light check, scoring,
# workload lookup, enforcement) on fixture trees, under callgrind on the
# host; part of `make bench`, about a minute alone.
.PHONY: bench-cpu
build/bench/cpu_bench: tests/bench/cpu_bench.c $(filter-out build/rel/cli/main.o,$(REL_OBJS))
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(BASE_LDFLAGS) -o $@ $^ $(PKG_LIBS)

bench-cpu: build/bench/cpu_bench
	tests/bench/cpu.sh

# A one-minute demo in the test VM: a database and a leaky neighbour in one
# container with memory.high, first with the kernel alone, then with guardian.
.PHONY: demo hosttest
demo: build/guardian helpers vm-kernel
	tests/vm/vm-run.sh --timeout 300 -- tests/demo/demo.sh

# `guardian run --dry-run` for a few seconds on THIS machine's own cgroup
# setup (hybrid on the dev and CI machines, pure v2 elsewhere); no VM.
hosttest: build/guardian
	tests/host/test_hybrid.sh

# Fuzzing the policy parser: a libFuzzer target built with clang, ASan and
# UBSan (Debian: clang and libclang-rt-14-dev). `make fuzz` runs it for
# FUZZ_SECONDS on build/fuzz/corpus, seeded from examples/ and the unit
# fixtures (the seeds in the tree are never written); crashes are saved as
# build/fuzz/crash-*. `make fuzz-ci` is the 20-second run for CI.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_ARGS ?=
# match.c and ident.c use util/ (fuzz_ident covers ident.c with its util/ parts).
FUZZ_SRCS := $(filter-out policy/match.c policy/ident.c,$(sort $(wildcard policy/*.c)))
FUZZ_CFLAGS := -std=gnu11 -D_GNU_SOURCE -I. $(WARNINGS) -O1 -g -fno-omit-frame-pointer \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
.PHONY: fuzz fuzz-ci fuzz-ident
build/fuzz/fuzz_policy: tests/fuzz/fuzz_policy.c $(FUZZ_SRCS) $(wildcard policy/*.h) Makefile
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(shell $(PKG_CONFIG) --cflags yaml-0.1) -o $@ \
		tests/fuzz/fuzz_policy.c $(FUZZ_SRCS) $(shell $(PKG_CONFIG) --libs yaml-0.1) || \
		{ echo "fuzz: build failed; if $(FUZZ_CC) lacks libFuzzer (libclang_rt.fuzzer)," \
		       "install clang and libclang-rt-14-dev" >&2; exit 1; }

fuzz: build/fuzz/fuzz_policy
	@mkdir -p build/fuzz/corpus
	@for f in examples/*.yaml tests/unit/fixtures/policy/*; do \
		[ -f "$$f" ] && cp "$$f" "build/fuzz/corpus/seed-$$(echo "$$f" | tr / _)"; done; true
	build/fuzz/fuzz_policy -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
		-dict=tests/fuzz/policy.dict -artifact_prefix=build/fuzz/ -print_final_stats=1 \
		$(FUZZ_ARGS) build/fuzz/corpus

# The JSON reader and the container identity parsers (hostile runtime
# state files), seeded from tests/unit/fixtures/ident/ and its real/.
FUZZ_IDENT_SRCS := policy/ident.c util/jsonread.c util/json.c util/buf.c
build/fuzz/fuzz_ident: tests/fuzz/fuzz_ident.c $(FUZZ_IDENT_SRCS) policy/ident.h policy/policy.h \
                util/jsonread.h util/json.h util/buf.h Makefile
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_ident.c $(FUZZ_IDENT_SRCS) -lm

fuzz-ident: build/fuzz/fuzz_ident
	@mkdir -p build/fuzz/corpus-ident
	@for f in tests/unit/fixtures/ident/*.json tests/unit/fixtures/ident/real/*/*.json; do \
		n=$${f#tests/unit/fixtures/ident/}; cp "$$f" "build/fuzz/corpus-ident/seed-$${n//\//-}"; done
	build/fuzz/fuzz_ident -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
		-artifact_prefix=build/fuzz/ident- -print_final_stats=1 \
		$(FUZZ_ARGS) build/fuzz/corpus-ident

fuzz-ci:
	$(MAKE) fuzz FUZZ_SECONDS=20
	$(MAKE) fuzz-ident FUZZ_SECONDS=10
