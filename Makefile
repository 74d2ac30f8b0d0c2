# rsns: small, scriptable Linux namespace tools. `make help` lists the targets.

CARGO   ?= cargo
PREFIX  ?= /usr/local
DESTDIR ?=
ROOTFS  ?= rootfs
RUNS    ?= 400
# make bench ONLY=lsns: one tool's tables (unshare, nsenter, setpriv, lsns, pivot, box, cgroup, finale).
ONLY    ?=
# Release binaries are static (static-pie, glibc): no dynamic loader at
# start-up, which is most of a namespace tool's run time (docs/performance.md).
TARGET  := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
# Where cargo builds: CARGO_TARGET_DIR or build.target-dir when set (cargo
# metadata knows), else target/.
TARGET_DIR := $(or $(shell $(CARGO) metadata --format-version 1 --no-deps 2>/dev/null | \
	sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p'),target)
RELEASE := $(TARGET_DIR)/$(TARGET)/release
STATIC  := RUSTFLAGS="-C target-feature=+crt-static"
comma   := ,
BENCH   := $(TARGET_DIR)/bench
NEED_CARGO = @command -v $(CARGO) >/dev/null 2>&1 || { echo "make: $(CARGO) not found: install \
	Rust with rustup (https://rustup.rs) and open a new shell" >&2; exit 1; }

.DEFAULT_GOAL := help
.PHONY: help deps build test lint demo bench man completions install deb fuzz conformance test-kernels test-fresh clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## Install the Debian packages the demo and the tests use, if missing
	@tests/support/deps.sh

TOOLS   := rs-unshare rs-nsenter rs-lsns rs-pivot rs-cgroup rs-setpriv

build: deps ## Build the tools (optimized, static) into <target dir>/<host triple>/release
	$(NEED_CARGO)
	$(STATIC) $(CARGO) build --release --locked --target $(TARGET) $(TOOLS:%=--bin %)

test: deps build ## Run every test (as root: also the privileged and unprivileged cases); says what skipped
	$(NEED_CARGO)
	@tests/support/deps.sh --bwrap-new
	@tests/support/deps.sh --containers
	@tests/support/test-user.sh
	@# The release binaries too, where the static build differs (glibc's NSS).
	@CARGO=$(CARGO) RSNS_RELEASE_DIR=$(abspath $(RELEASE)) tests/support/run-tests.sh

lint: ## Check formatting, and run clippy with warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

demo: build ## Build, make a busybox root file system (./rootfs), run a container one-liner
	@tests/support/mkrootfs.sh $(ROOTFS)
	@tests/support/demo.sh $(RELEASE)/rs-unshare $(ROOTFS)

bench: build ## Time and peak RSS against util-linux, cgroup-tools and a C floor, as ratios (as root)
	@tests/support/deps.sh --bench
	@tests/support/deps.sh --bwrap-new
	$(CARGO) build --release --locked --target $(TARGET) -p rsns-bench
	cc -O2 -Wall -o $(RELEASE)/rsns-floor crates/rsns-bench/floor.c
	cc -O2 -static -nostdlib -o $(RELEASE)/rsns-nop crates/rsns-bench/nop.c
	cc -O2 -static -o $(RELEASE)/rsns-rss crates/rsns-bench/rss.c
	cc -O2 -Wall -o $(RELEASE)/rsns-scan-floor crates/rsns-bench/scan-floor.c
	cc -O2 -Wall -o $(RELEASE)/rsns-herd crates/rsns-bench/herd.c
	@# Every binary measured is a fresh copy, util-linux's too: how a file was
	@# written (a linker's small writes, a copy's large ones) changes how fast
	@# the kernel maps it, by about 5% here.
	rm -rf $(BENCH) && mkdir -p $(BENCH)/ours $(BENCH)/theirs
	cp $(TOOLS:%=$(RELEASE)/%) $(BENCH)/ours/
	cp "$$(command -v unshare)" "$$(command -v nsenter)" "$$(command -v setpriv)" "$$(command -v lsns)" $(BENCH)/theirs/
	cp $(RELEASE)/rsns-floor $(RELEASE)/rsns-nop $(RELEASE)/rsns-rss $(RELEASE)/rsns-scan-floor \
		$(RELEASE)/rsns-herd $(BENCH)/
	@# The rs-pivot row runs the no-op inside a root file system, at the same path.
	tests/support/mkrootfs.sh $(BENCH)/rootfs >/dev/null
	mkdir -p $(BENCH)/rootfs$(abspath $(BENCH)) && cp $(BENCH)/rsns-nop $(BENCH)/rootfs$(abspath $(BENCH))/
	@# The layered box: two small layers above the root file system.
	mkdir -p $(BENCH)/layer-a/etc $(BENCH)/layer-b/srv && echo a > $(BENCH)/layer-a/etc/motd && \
		echo b > $(BENCH)/layer-b/srv/index.html
	@# The finale's crun bundle: podman's isolation, the root beside it.
	mkdir -p $(BENCH)/podman-bundle && tests/support/podman-bundle.py --root ../rootfs --read-only \
		--memory 67108864 --pids 64 $(BENCH)/podman-bundle /usr/share/containers/seccomp.json true
	cp $(RELEASE)/rsns-bench $(BENCH)/
	$(BENCH)/rsns-bench --runs $(RUNS) --ours $(BENCH)/ours --theirs $(BENCH)/theirs \
		--floor $(BENCH)/rsns-floor --nop $(BENCH)/rsns-nop --rss $(BENCH)/rsns-rss \
		--scan-floor $(BENCH)/rsns-scan-floor --herd $(BENCH)/rsns-herd --rootfs $(BENCH)/rootfs \
		--bundle $(BENCH)/podman-bundle --layers $(BENCH)/layer-a,$(BENCH)/layer-b \
		--bwrap-new "$$(tests/support/bwrap-new.sh $(TARGET_DIR)/bwrap-new)" \
		$(if $(ONLY),--only $(ONLY)); status=$$?; \
	if [ -z "$(ONLY)" -o "$(ONLY)" = cgroup -o "$(ONLY)" = finale ] && \
		! $(BENCH)/rsns-bench --cgroup-possible 2>/dev/null; then \
		tests/support/deps.sh --kernels && \
		BENCH_ONLY=$(or $(ONLY),cgroup$(comma)finale) \
		tests/support/bench-vm.sh $(TARGET_DIR)/kernels $(BENCH) $(RUNS) || status=1; \
	fi; exit $$status

conformance: build ## Run util-linux's own tests of unshare, nsenter, lsns and setpriv against ours (as root)
	@tests/support/deps.sh --conformance
	tests/support/conformance.sh $(RELEASE) $(TARGET_DIR)/conformance

# make test-kernels KERNELS="6.1 5.10": the series to boot (default all).
KERNELS ?= 5.10 6.1 6.12

test-kernels: deps build ## The tests on Debian's kernels 5.10, 6.1 and 6.12 in VMs, and the host's; one table (as root)
	$(NEED_CARGO)
	@tests/support/deps.sh --kernels
	@tests/support/deps.sh --bwrap-new
	@# The release binaries too, in the VMs as on the host (as make test does).
	CARGO=$(CARGO) RSNS_RELEASE_DIR=$(abspath $(RELEASE)) tests/support/kernel-matrix.sh $(TARGET_DIR)/kernels $(KERNELS)

# make test-fresh FRESH=trixie: the Debian release to install (and its kernel).
FRESH ?= bookworm

test-fresh: ## The README's make demo and make test on a freshly installed Debian, in a VM (as root; ~1 h)
	@tests/support/deps.sh --fresh
	tests/support/test-fresh.sh $(TARGET_DIR)/fresh $(TARGET_DIR)/kernels $(FRESH)

FUZZ_DIR     := crates/rsns-fuzz
FUZZ_TARGETS := idmap_spec subid_line proc_stat proc_status mountinfo lsns_filter names
# Seconds per target; `make fuzz FUZZ_SECONDS=3600` for a long run.
FUZZ_SECONDS ?= 60

fuzz: ## Fuzz every parser of untrusted text for FUZZ_SECONDS each (nightly, cargo-fuzz)
	@tests/support/deps.sh --fuzz
	@for t in $(FUZZ_TARGETS); do \
		echo "== $$t ($(FUZZ_SECONDS)s)"; \
		mkdir -p $(FUZZ_DIR)/corpus/$$t; \
		cargo +nightly fuzz run --fuzz-dir $(FUZZ_DIR) $$t $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/seeds/$$t \
			-- -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=4096 -print_final_stats=1 || exit 1; \
	done

GEN     := $(TARGET_DIR)/generated

man: ## Generate the man pages (from the clap definitions) into <target dir>/generated/man
	$(CARGO) run --locked -q -p rsns-docgen -- man $(GEN)/man

completions: ## Generate bash, zsh and fish completions into <target dir>/generated/completions
	$(CARGO) run --locked -q -p rsns-docgen -- completions $(GEN)/completions

install: build man completions ## Install the tools, man pages and completions under $(PREFIX) (PREFIX=/usr/local)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0755 $(TOOLS:%=$(RELEASE)/%) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(GEN)/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 $(GEN)/man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 $(GEN)/completions/bash/* $(DESTDIR)$(PREFIX)/share/bash-completion/completions/
	install -m 0644 $(GEN)/completions/zsh/* $(DESTDIR)$(PREFIX)/share/zsh/site-functions/
	install -m 0644 $(GEN)/completions/fish/* $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/

deb: build man completions ## Build rsns_<version>_<arch>.deb (binaries, man pages, completions) into <target dir>/deb
	@mkdir -p $(TARGET_DIR)/deb
	@tests/support/mkdeb.sh $(RELEASE) $(GEN) $(TARGET_DIR)/deb

clean: ## Remove everything cargo built
	$(CARGO) clean
