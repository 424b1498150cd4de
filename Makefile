# nvmf: top-level commands. `make run` serves the default target, `make test` runs every test.
# Each target installs the Debian packages it needs first (apt-get, as root on Debian 12).

BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_TSAN ?= build-tsan
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 30
INTEROP_KERNELS ?= all

BUILD_PKGS   = meson ninja-build pkg-config gcc clang libclang-rt-14-dev clang-format \
               liburing-dev libisal-dev libjson-c-dev libcmocka-dev
INTEROP_PKGS = qemu-system-x86 busybox-static nvme-cli fio socat e2fsprogs util-linux \
               cpio xz-utils kmod uuid-runtime

.PHONY: all build run deps deps-interop test test-unit test-integration test-cli test-asan test-tsan \
        fuzz interop interop-host format format-check bench clean

all: build

# Install only what is missing, so that a machine with everything makes no apt call.
define apt_install
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || \
	    missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "deps: run as root to install:$$missing" >&2; exit 1; fi; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y --no-install-recommends $$missing >/dev/null 2>&1 || \
	    { apt-get update >/dev/null && apt-get install -y --no-install-recommends $$missing; }; \
	fi
endef

deps:
	$(call apt_install,$(BUILD_PKGS))

deps-interop:
	$(call apt_install,$(INTEROP_PKGS))

$(BUILD)/build.ninja:
	meson setup $(BUILD) --werror

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build
	./$(BUILD)/nvmf-tgt --default var -r /var/tmp/nvmf-tgt.sock

test-unit: build
	meson test -C $(BUILD) --print-errorlogs

# The real daemon on 127.0.0.1, driven by a small NVMe/TCP client (tests/integration).
test-integration: build
	bash tests/integration/run.sh $(BUILD)

# Every nvmf CLI subcommand against the daemon (tests/cli).
test-cli: build
	bash tests/cli/run.sh $(BUILD)

$(BUILD_ASAN)/build.ninja:
	meson setup $(BUILD_ASAN) --werror -Db_sanitize=address,undefined -Db_lundef=false

test-asan: deps $(BUILD_ASAN)/build.ninja
	ninja -C $(BUILD_ASAN)
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
	  meson test -C $(BUILD_ASAN) --print-errorlogs
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
	  bash tests/integration/run.sh $(BUILD_ASAN)
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
	  bash tests/cli/run.sh $(BUILD_ASAN)

$(BUILD_TSAN)/build.ninja:
	CC=clang meson setup $(BUILD_TSAN) --werror -Db_sanitize=thread -Db_lundef=false

test-tsan: deps $(BUILD_TSAN)/build.ninja
	ninja -C $(BUILD_TSAN)
	TSAN_OPTIONS=halt_on_error=1 meson test -C $(BUILD_TSAN) --print-errorlogs
	TSAN_OPTIONS=halt_on_error=1 bash tests/integration/run.sh $(BUILD_TSAN)

$(BUILD_FUZZ)/build.ninja:
	CC=clang meson setup $(BUILD_FUZZ) -Dfuzz=true -Dtests=false -Db_lundef=false

fuzz: deps $(BUILD_FUZZ)/build.ninja
	ninja -C $(BUILD_FUZZ)
	bash tests/fuzz/run.sh $(BUILD_FUZZ) $(FUZZ_SECONDS)

interop: build deps-interop
	bash tests/interop/run.sh --kernel $(INTEROP_KERNELS) \
	  --target-cmd "./$(BUILD)/nvmf-tgt --default var/interop-target -r var/interop-target/rpc.sock"

# Our host library against the Linux kernel's nvmet-tcp in a QEMU guest (one guest per kernel)
interop-host: build deps-interop
	bash tests/interop/host-linux.sh --kernel $(INTEROP_KERNELS) ./$(BUILD)/tests/host/test_host_linux

# vfio-user (PCIe NVMe emulated over a UNIX socket): QEMU >= 10.1 has the client device,
# Debian 12 only 7.2, so it runs from a trixie root with QEMU from trixie-backports under
# var/vfu/trixie (tests/interop/vfio-user/README.md). Idempotent: a ready root costs ~0 s.
VFU_PKGS = debootstrap python3 util-linux jq zstd
VFU_ROOT ?= var/vfu/trixie

.PHONY: deps-vfio-user interop-vfio-user

deps-vfio-user: deps-interop
	$(call apt_install,$(VFU_PKGS))
	bash tests/interop/vfio-user/mkroot.sh $(VFU_ROOT)

# The Linux PCIe nvme driver in a QEMU guest against nvmf-tgt's vfio-user port (one guest
# per kernel); run.sh writes the target's JSON config and exports its path as VFU_CONFIG.
interop-vfio-user: build deps-vfio-user
	VFU_ROOT=$(VFU_ROOT) bash tests/interop/vfio-user/run.sh --kernel $(INTEROP_KERNELS) \
	  --target-cmd './$(BUILD)/nvmf-tgt -c "$$VFU_CONFIG"'

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check: deps
	@bad=$$(for f in $$(git ls-files '*.c' '*.h'); do \
	  clang-format --dry-run -Werror $$f >/dev/null 2>&1 || echo $$f; done); \
	if [ -n "$$bad" ]; then echo "format-check: not clang-formatted:" $$bad; exit 1; fi; \
	echo "format-check: ok"

# interop runs last: its closing line, "interop: N passed, M failed", ends the output
test: build format-check test-unit test-integration test-cli test-asan test-tsan fuzz interop-host \
      interop-vfio-user interop

# Not part of make test: prints numbers and never fails on them (bench/run.sh and
# bench/RESULTS.md say what it runs). BENCH_SECONDS per perf run (10), RUNS rounds (5),
# BENCH_CASES a subset, BENCH_MD=FILE also writes the Markdown table for bench/RESULTS.md.
bench: build
	bash bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN) $(BUILD_FUZZ)
