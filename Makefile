# esep — build, test, demo, benchmarks. The README's two commands are
# `make demo` and `make test`; both first run scripts/install-deps.sh, which
# is quick when everything is present.

SHELL    := /bin/bash
CC       := mpicc
PKGS     := libzstd yaml-0.1 hdf5-openmpi libsodium libarchive sqlite3 libpq libmicrohttpd xlsxwriter libcrypto
CSTD     := -std=c11 -D_GNU_SOURCE
WARN     := -Wall -Wextra -Werror
CFLAGS   ?= -O2 -g
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

SRC      := $(sort $(wildcard src/base/*.c src/spec/*.c src/schedule/*.c src/pipeline/*.c src/dist/*.c src/ingest/*.c src/engine/*.c src/archive/*.c src/publish/*.c src/publish/forms/*.c src/cli/*.c))
LIB_OBJ  := $(SRC:src/%.c=build/release/%.o)
ASAN_OBJ := $(SRC:src/%.c=build/asan/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))

.PHONY: all deps test demo bench bench-ingest bench-run clean fuzz
all: bin/esep bin/gen-extracts

deps:
	@bash scripts/install-deps.sh

build/release/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

build/asan/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O1 -g $(SAN) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

bin/esep: build/release/main.o $(LIB_OBJ)
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

# The sanitized binary: the MPI and end-to-end tests run it.
build/asan/esep: build/asan/main.o $(ASAN_OBJ)
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS)

build/asan/unit-tests: $(UNIT_SRC) $(ASAN_OBJ) tests/unit/test.h
	$(CC) $(CSTD) $(WARN) -O1 -g $(SAN) $(PKG_CFLAGS) -Isrc -o $@ $(UNIT_SRC) $(ASAN_OBJ) $(PKG_LIBS)

build/asan/catalog-tests: tests/catalog/*.c tests/unit/test.c $(ASAN_OBJ) tests/unit/test.h
	$(CC) $(CSTD) $(WARN) -O1 -g $(SAN) $(PKG_CFLAGS) -Isrc -o $@ $(filter-out %.h,$^) $(PKG_LIBS)

# The MPI shuffle under real mpirun (tests/mpi/shuffle.sh).
build/asan/shuffle-test: tests/mpi/shuffle_test.c $(ASAN_OBJ)
	$(CC) $(CSTD) $(WARN) -O1 -g $(SAN) $(PKG_CFLAGS) -Isrc -o $@ $^ $(PKG_LIBS)

bin/gen-extracts: $(wildcard scripts/gen/*.c scripts/gen/*.h)
	@mkdir -p bin
	cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o $@ scripts/gen/*.c -lzstd -lm

test: deps
	@$(MAKE) --no-print-directory all build/asan/esep build/asan/unit-tests build/asan/catalog-tests build/asan/shuffle-test
	@bash tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/demo.sh

# Every figure of issue 10 (scaling, MB/s per rank, run vs zstd -dc, peak
# memory, 130 forms) with medians of alternating runs, printed and as JSON.
# BENCH_PERSONS="2000000 20000000" for national scale; see scripts/bench.
bench: deps
	@$(MAKE) --no-print-directory all
	@python3 scripts/bench

bench-ingest: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/bench-ingest

bench-run: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/bench-run

# libFuzzer targets (tests/fuzz/README.md): clang through Open MPI's mpicc
# (OMPI_CC), ASan + UBSan. `make fuzz FUZZ_SECONDS=N` runs each for N
# seconds from a copy of its seed corpus in tests/fuzz/corpus/<target>/;
# not part of `make test`.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := csv spec json request
FUZZ_CC  := OMPI_CC=clang mpicc
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_OBJ := $(SRC:src/%.c=build/fuzz/%.o)

build/fuzz/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CSTD) $(WARN) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) -MMD -MP -c $< -o $@

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	$(FUZZ_CC) $(CSTD) $(WARN) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer $(PKG_CFLAGS) -Isrc -o $@ $^ $(PKG_LIBS)

fuzz: deps
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
	@for t in $(FUZZ_TARGETS); do \
	  rm -rf build/fuzz/corpus/$$t && mkdir -p build/fuzz/corpus/$$t && cp tests/fuzz/corpus/$$t/* build/fuzz/corpus/$$t/ && \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s" && \
	  build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=20 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix=build/fuzz/crash-$$t- build/fuzz/corpus/$$t 2>&1 \
	    | grep -E '^(stat::number_of_executed_units|stat::new_units_added|==|SUMMARY|#[0-9]+ +DONE)' ; \
	  status=$${PIPESTATUS[0]}; [ $$status -eq 0 ] || { echo "fuzz: $$t FAILED (see build/fuzz/crash-$$t-*)"; exit 1; }; \
	done

clean:
	rm -rf build bin

-include $(LIB_OBJ:.o=.d) $(ASAN_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d)
